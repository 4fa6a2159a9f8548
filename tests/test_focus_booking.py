"""Booking seats in focus blocks (docs/focus.md), on PostgreSQL: exactly the capacity is
seated however many book the last seats at once, a member books once, a block that ended
or was cancelled takes nobody, dropping in finds the block about to start, and goals are
one short line of plain text."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import translation

from focus.models import FocusBlock, Seat
from focus.services import (
    AlreadyBooked,
    BlockCancelled,
    BlockFull,
    BlockOver,
    GoalTooLong,
    NoBlockSoon,
    SeatElsewhere,
    block_drop_in,
    seat_book,
    seat_cancel,
    seat_goal_set,
)
from members.models import User
from tests.factories import UserFactory

NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def block(starts_at: datetime = NINE, **fields: object) -> FocusBlock:
    return FocusBlock.objects.create(starts_at=starts_at, **fields)


@pytest.mark.django_db(transaction=True)
def test_fifty_members_booking_the_last_ten_seats_at_once_seat_exactly_ten() -> None:
    power_hour = block(capacity=12)
    for member in UserFactory.create_batch(2):
        seat_book(block=power_hour, user=member, now=NINE - timedelta(hours=1))
    members = UserFactory.create_batch(50)
    start = threading.Barrier(len(members))
    outcomes: list[str] = []

    def book(member: User) -> None:
        try:
            start.wait()
            seat_book(block=power_hour, user=member, now=NINE - timedelta(minutes=5))
            outcomes.append("seated")
        except BlockFull:
            outcomes.append("full")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=(member,)) for member in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes).count("seated") == 10 and outcomes.count("full") == 40
    assert power_hour.seats.filter(cancelled_at__isnull=True).count() == 12


@pytest.mark.django_db
def test_a_member_books_once_and_may_book_again_after_cancelling(alice: User) -> None:
    power_hour = block()
    seat = seat_book(block=power_hour, user=alice, now=NINE - timedelta(hours=2))

    with translation.override("en"), pytest.raises(AlreadyBooked) as twice:
        seat_book(block=power_hour, user=alice, now=NINE - timedelta(hours=1))
    assert str(twice.value) == "You already have a seat in this block."
    seat_cancel(seat=seat, now=NINE - timedelta(minutes=30))
    again = seat_book(block=power_hour, user=alice, now=NINE - timedelta(minutes=20))
    assert again.pk != seat.pk
    assert Seat.objects.filter(block=power_hour, user=alice).count() == 2


@pytest.mark.django_db
def test_ended_cancelled_and_full_blocks_take_nobody(alice: User, bob: User) -> None:
    small = block(capacity=1)
    seat_book(block=small, user=bob, now=NINE)
    with pytest.raises(BlockFull):
        seat_book(block=small, user=alice, now=NINE)
    with pytest.raises(BlockOver):
        seat_book(block=block(), user=alice, now=NINE + timedelta(minutes=50))
    with pytest.raises(BlockCancelled):
        seat_book(block=block(cancelled_at=NINE - timedelta(days=1)), user=alice, now=NINE)


@pytest.mark.django_db
def test_dropping_in_takes_a_seat_in_the_block_starting_within_ten_minutes(
    alice: User, bob: User
) -> None:
    full = block(NINE, capacity=1)
    seat_book(block=full, user=bob, now=NINE - timedelta(hours=1))
    later = block(NINE + timedelta(minutes=30))

    with pytest.raises(NoBlockSoon):
        block_drop_in(user=alice, now=NINE - timedelta(minutes=11))
    with pytest.raises(NoBlockSoon):  # the one about to start is full, the next is too far
        block_drop_in(user=alice, now=NINE - timedelta(minutes=5))
    seat = block_drop_in(user=alice, now=NINE + timedelta(minutes=25))
    assert seat.block == later and seat.dropped_in
    assert block_drop_in(user=alice, now=NINE + timedelta(minutes=26)) == seat  # no second


@pytest.mark.django_db
def test_a_goal_is_one_short_line_kept_as_written(alice: User) -> None:
    seat = seat_book(block=block(), user=alice, now=NINE)

    seat_goal_set(seat=seat, goal="  Terminar el <b>presupuesto</b>\n para Ana  ")
    with pytest.raises(GoalTooLong):
        seat_goal_set(seat=seat, goal="x" * 10_000)

    seat.refresh_from_db()
    assert seat.goal == "Terminar el <b>presupuesto</b> para Ana"  # escaped where shown


@pytest.mark.django_db
def test_blocks_start_on_the_hour_or_half_hour() -> None:
    odd = FocusBlock(starts_at=NINE + timedelta(minutes=10), minutes=50)
    with pytest.raises(ValidationError):
        odd.full_clean()
    FocusBlock(starts_at=NINE + timedelta(minutes=30), minutes=25).full_clean()


@pytest.mark.django_db
def test_dropping_in_takes_a_block_about_to_start_never_one_about_to_end(alice: User) -> None:
    """From 10 minutes before a block to the end of its check-in; a block in its last minutes
    (or its check-out) is no place to arrive."""
    block(minutes=50)
    ten = block(NINE + timedelta(hours=1))
    with pytest.raises(NoBlockSoon):
        block_drop_in(user=alice, now=NINE + timedelta(minutes=47, seconds=30))
    assert block_drop_in(user=alice, now=NINE + timedelta(minutes=52)).block == ten

    long_one = block(NINE + timedelta(days=1), minutes=75)
    next_one = block(NINE + timedelta(days=1, hours=1))
    bob = UserFactory.create()
    seat = block_drop_in(user=bob, now=NINE + timedelta(days=1, minutes=55))
    assert seat.block == next_one and seat.block != long_one


@pytest.mark.django_db
def test_a_member_cannot_hold_seats_in_two_blocks_at_the_same_time(alice: User) -> None:
    """They could sit at one table only, and the other would count as missed."""
    seat_book(block=block(minutes=75), user=alice, now=NINE - timedelta(days=1))

    with pytest.raises(SeatElsewhere):
        seat_book(block=block(NINE + timedelta(minutes=30)), user=alice, now=NINE - timedelta(1))
    # The next one, once the first is over, is theirs to book.
    assert seat_book(block=block(NINE + timedelta(minutes=75)), user=alice, now=NINE - timedelta(1))
