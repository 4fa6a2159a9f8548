"""No-shows in focus sessions (docs/focus.md, "No-shows, streaks and the dashboard"): a
member who booked and did not come is told kindly, once, however often the wrap-up runs;
giving a seat back less than 15 minutes before counts too; three in 30 days make them
drop-in only for a week, which staff can lift."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connections
from django.utils import translation

from events.models import Rsvp
from focus import standing, tasks
from focus.models import FocusBlock, FocusMember, Seat
from focus.services import block_cancel, block_drop_in, seat_book, seat_cancel
from focus.standing import DropInOnly, blocks_wrap_up
from matching.models import Meeting
from members.models import User
from members.services import member_reinstate, member_suspend
from notifications.models import Kind, Notification
from tests.conftest import SmtpSink
from tests.factories import (
    EventFactory,
    GroupMemberFactory,
    RsvpFactory,
    UserFactory,
    client_for,
)

pytestmark = pytest.mark.django_db

# Monday 7 December 2026, 9:00 UTC: 10:00 in Madrid, 3:00 in Mexico City.
NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def booked(block: FocusBlock, *users: User, at: datetime | None = None) -> list[Seat]:
    return [
        seat_book(block=block, user=user, now=at or block.starts_at - timedelta(days=1))
        for user in users
    ]


def wrap_up_at(moment: datetime, capture: Any) -> int:
    """What beat does every minute, then the tasks queued after its commits (eager)."""
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return tasks.blocks_wrap_up_tick()


def missed(
    user: User, starts_at: datetime, capture: Any, booked_at: datetime | None = None
) -> Seat:
    """A block the member booked (a day before, or at `booked_at`) and did not come to,
    wrapped up when it ended."""
    block = FocusBlock.objects.create(starts_at=starts_at)
    (seat,) = booked(block, user, at=booked_at)
    wrap_up_at(block.ends_at, capture)
    seat.refresh_from_db()
    assert seat.no_show
    return seat


def body(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


def test_the_wrap_up_tells_who_did_not_come_kindly_and_once(
    alice: User,
    bob: User,
    outsider: User,
    smtp: SmtpSink,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    alice.language = "en"
    alice.save(update_fields=["language"])
    block = FocusBlock.objects.create(starts_at=NINE, title="Power hour")
    alice_seat, bob_seat, _carol_seat = booked(block, alice, bob, outsider)
    Seat.objects.filter(pk=bob_seat.pk).update(arrived_at=NINE + timedelta(minutes=1))
    # Carol gave hers back the day before: free.
    with time_machine.travel(NINE - timedelta(hours=20), tick=False):
        client_for(outsider).post(f"/focus/{block.pk}/cancel/")

    assert wrap_up_at(block.ends_at - timedelta(minutes=1), django_capture_on_commit_callbacks) == 0
    assert wrap_up_at(block.ends_at, django_capture_on_commit_callbacks) == 1

    seats = {seat.user_id: seat.no_show for seat in Seat.objects.filter(block=block)}
    assert seats == {alice.pk: True, bob.pk: False, outsider.pk: False}
    notice = Notification.objects.get(user=alice)
    assert notice.kind == Kind.FOCUS_NO_SHOW
    assert notice.text == (
        "We missed you at the 10:00 focus session. If you can't come, give back your seat up "
        "to 15 minutes before, so someone else can sit in it."
    )
    assert notice.url == "/focus/"
    email = smtp.wait_for(alice.email)
    assert str(email["Subject"]) == "We missed you at the 10:00 focus session"
    assert "give back your seat up to 15 minutes before" in body(email)
    html = str(email.get_body(preferencelist=("html",)).get_content())  # type: ignore[union-attr]
    assert "We missed you at the 10:00 focus session on" in html
    assert "drop in" not in body(email)

    # The next tick, and a redelivered task, add nothing.
    assert wrap_up_at(block.ends_at + timedelta(minutes=1), django_capture_on_commit_callbacks) == 0
    tasks.no_show_tell(alice_seat.pk)
    block.refresh_from_db()
    assert block.wrapped_at == block.ends_at
    assert len(smtp.messages) == 1
    assert Notification.objects.count() == 1
    assert not FocusMember.objects.get(user=alice).drop_in_only_until


def test_a_member_at_an_event_at_that_time_is_not_told_off_for_the_seat(
    alice: User, bob: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE)
    alice_seat, bob_seat = booked(block, alice, bob)
    # Alice goes to a talk that overlaps the block's last half hour; Bob's talk was cancelled.
    talk = EventFactory.create(
        starts_at=NINE + timedelta(minutes=20), ends_at=NINE + timedelta(minutes=80)
    )
    RsvpFactory.create(event=talk, user=alice, status=Rsvp.Status.GOING)
    off = EventFactory.create(
        starts_at=NINE, ends_at=NINE + timedelta(hours=1), cancelled_at=NINE - timedelta(days=1)
    )
    RsvpFactory.create(event=off, user=bob, status=Rsvp.Status.GOING)
    # Bob's coffee before the block ended as it began: no clash either.
    seat = GroupMemberFactory.create(user=bob)
    GroupMemberFactory.create(group=seat.group)
    Meeting.objects.create(
        group=seat.group,
        starts_at=NINE - timedelta(minutes=30),
        accepted_at=NINE - timedelta(days=1),
    )

    assert wrap_up_at(block.ends_at, django_capture_on_commit_callbacks) == 1

    alice_seat.refresh_from_db()
    bob_seat.refresh_from_db()
    assert not alice_seat.no_show and bob_seat.no_show
    assert list(Notification.objects.values_list("user_id", flat=True)) == [bob.pk]


def test_a_cancelled_block_or_one_long_over_marks_nobody(
    alice: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    cancelled = FocusBlock.objects.create(starts_at=NINE)
    booked(cancelled, alice)
    FocusBlock.objects.filter(pk=cancelled.pk).update(cancelled_at=NINE - timedelta(hours=1))
    # Ended before the 6 hours the wrap-up looks back (beat was down, or before arrivals
    # were recorded at all): nobody is told of it a day late.
    old = FocusBlock.objects.create(starts_at=NINE - timedelta(hours=8))
    booked(old, alice)

    assert wrap_up_at(NINE + timedelta(hours=1), django_capture_on_commit_callbacks) == 1

    assert not Seat.objects.filter(no_show=True).exists()
    assert FocusBlock.objects.get(pk=cancelled.pk).wrapped_at is not None
    assert FocusBlock.objects.get(pk=old.pk).wrapped_at is None
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_wrap_ups_at_once_count_each_block_once() -> None:
    members = UserFactory.create_batch(3)
    blocks = [FocusBlock.objects.create(starts_at=NINE + timedelta(hours=i)) for i in (0, 1)]
    for block in blocks:
        booked(block, *members)
    start = threading.Barrier(2)
    wrapped: list[int] = []

    def run() -> None:
        try:
            start.wait()
            wrapped.append(blocks_wrap_up(now=NINE + timedelta(hours=2)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(wrapped) in ([0, 2], [1, 1])
    assert Seat.objects.filter(no_show=True).count() == 6
    # Two no-shows each, counted once each: not three, so nobody is drop-in only.
    assert not FocusMember.objects.filter(drop_in_only_until__isnull=False).exists()


def test_three_no_shows_in_30_days_make_a_member_drop_in_only_for_a_week(
    alice: User, smtp: SmtpSink, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    alice.language, alice.time_zone = "en", "America/Mexico_City"
    alice.save(update_fields=["language", "time_zone"])
    missed(alice, NINE - timedelta(days=20), django_capture_on_commit_callbacks)
    missed(alice, NINE - timedelta(days=3), django_capture_on_commit_callbacks)
    assert not FocusMember.objects.get(user=alice).drop_in_only_until

    third = missed(alice, NINE, django_capture_on_commit_callbacks)

    until = FocusMember.objects.get(user=alice).drop_in_only_until
    assert until == third.block.ends_at + timedelta(days=7)
    notice = Notification.objects.get(key=f"focus-no-show:{third.pk}")
    # Her zone: 9:00 UTC is 3:00 in Mexico City, and the week ends at 3:50 a.m. there.
    assert notice.text == (
        "We missed you at the 03:00 focus session. That makes 3 in 30 days, so until "
        "Monday 14 December, 03:50 you can drop in to sessions but not book ahead. We hope to "
        "see you soon!"
    )
    email = smtp.messages[-1]
    assert "until Monday 14 December, 03:50 you can drop in" in body(email)

    # Booking ahead is refused with a clear reason; dropping in still works.
    later = FocusBlock.objects.create(starts_at=NINE + timedelta(days=8))
    with translation.override("en"), pytest.raises(DropInOnly) as refused:
        seat_book(block=later, user=alice, now=NINE + timedelta(hours=2))
    assert str(refused.value) == (
        "For a week you can drop in but not book ahead: you missed 3 sessions in 30 days. "
        "You can book again from Monday 14 December, 03:50."
    )
    soon = FocusBlock.objects.create(starts_at=NINE + timedelta(hours=2))
    seat = block_drop_in(user=alice, now=soon.starts_at - timedelta(minutes=5))
    assert seat.block == soon and seat.dropped_in

    # The blocks page says so, and when it ends, in her zone.
    with time_machine.travel(NINE + timedelta(hours=3), tick=False):
        client = client_for(alice)
        refused_page = client.post(f"/focus/{later.pk}/book/", follow=True).content.decode()
    assert "For a week you can drop in but not book ahead" in refused_page
    assert "You can book ahead again from Monday 14 December, 03:50" in refused_page
    assert not Seat.objects.filter(block=later).exists()

    # A week on, booking ahead works again.
    assert seat_book(block=later, user=alice, now=until + timedelta(minutes=1)) is not None
    assert len(smtp.messages) == 3


def test_the_three_that_brought_a_week_count_once(
    alice: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    for days in (10, 5, 1):
        missed(alice, NINE - timedelta(days=days), django_capture_on_commit_callbacks)
    first_week = FocusMember.objects.get(user=alice).drop_in_only_until
    assert first_week is not None

    # A fourth, after the week: not three new ones, so booking ahead stays open.
    after = first_week + timedelta(minutes=1)
    missed(alice, NINE + timedelta(days=7, hours=2), django_capture_on_commit_callbacks, after)

    assert FocusMember.objects.get(user=alice).drop_in_only_until == first_week


def test_old_no_shows_and_those_before_a_reset_do_not_count(
    alice: User, bob: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    missed(alice, NINE - timedelta(days=31), django_capture_on_commit_callbacks)
    missed(alice, NINE - timedelta(days=2), django_capture_on_commit_callbacks)
    missed(alice, NINE, django_capture_on_commit_callbacks)
    assert not FocusMember.objects.get(user=alice).drop_in_only_until

    missed(bob, NINE - timedelta(days=2), django_capture_on_commit_callbacks)
    missed(bob, NINE - timedelta(days=1), django_capture_on_commit_callbacks)
    standing.no_shows_reset(
        members=FocusMember.objects.filter(user=bob), now=NINE - timedelta(hours=1)
    )
    missed(bob, NINE, django_capture_on_commit_callbacks)
    assert not FocusMember.objects.get(user=bob).drop_in_only_until


def test_giving_a_seat_back_less_than_15_minutes_before_counts_as_a_no_show(
    alice: User,
) -> None:
    early, late = (FocusBlock.objects.create(starts_at=NINE + timedelta(hours=h)) for h in (0, 1))
    booked(early, alice)
    booked(late, alice)
    client = client_for(alice)

    with time_machine.travel(early.starts_at - timedelta(minutes=15), tick=False):
        free = client.post(f"/focus/{early.pk}/cancel/", follow=True).content.decode()
    with time_machine.travel(late.starts_at - timedelta(minutes=14), tick=False):
        page = client.post(f"/focus/{late.pk}/cancel/", follow=True).content.decode()

    assert "counts as a missed session" not in free
    assert "Giving it back less than 15 minutes before the start counts as a missed" in page

    assert not Seat.objects.get(block=early).no_show
    assert Seat.objects.get(block=late).no_show
    assert "You missed 1 session in the last 30 days." in page
    assert "Giving back a seat less than 15 minutes before the start counts as missing it." in page


def test_a_third_late_give_back_makes_a_member_drop_in_only(
    alice: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    missed(alice, NINE - timedelta(days=2), django_capture_on_commit_callbacks)
    missed(alice, NINE - timedelta(days=1), django_capture_on_commit_callbacks)
    block = FocusBlock.objects.create(starts_at=NINE)
    booked(block, alice)

    with time_machine.travel(NINE - timedelta(minutes=5), tick=False):
        page = client_for(alice).post(f"/focus/{block.pk}/cancel/", follow=True)

    until = FocusMember.objects.get(user=alice).drop_in_only_until
    assert until == NINE - timedelta(minutes=5) + timedelta(days=7)
    assert "For a week you can drop in but not book ahead." in page.content.decode()


def test_staff_reset_no_shows_in_the_admin(
    alice: User,
    staff: User,
    outsider: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    for days in (3, 2, 1):
        missed(alice, NINE - timedelta(days=days), django_capture_on_commit_callbacks)
    member = FocusMember.objects.get(user=alice)
    assert member.drop_in_only_until is not None
    action = {"action": "reset_no_shows", "_selected_action": [member.pk]}

    # Members who are not staff are sent to the admin's login.
    assert client_for(outsider).post("/admin/focus/focusmember/", action).status_code == 302
    assert FocusMember.objects.get(user=alice).drop_in_only_until is not None

    with time_machine.travel(NINE, tick=False):
        response = client_for(staff).post("/admin/focus/focusmember/", action, follow=True)

    assert "No-shows reset for 1 member: they can book ahead again." in response.content.decode()
    member.refresh_from_db()
    assert (member.drop_in_only_until, member.no_shows_reset_at) == (None, NINE)
    later = FocusBlock.objects.create(starts_at=NINE + timedelta(days=1))
    assert seat_book(block=later, user=alice, now=NINE + timedelta(minutes=1)) is not None


def test_giving_back_a_seat_in_a_block_staff_cancelled_never_counts(alice: User) -> None:
    block = FocusBlock.objects.create(starts_at=NINE)
    [seat] = booked(block, alice)
    with time_machine.travel(NINE - timedelta(minutes=5), tick=False):
        block_cancel(block=block)
        seat_cancel(seat=Seat.objects.select_related("block").get(pk=seat.pk))

    assert not Seat.objects.get(pk=seat.pk).no_show


def test_a_seat_given_back_straight_after_taking_it_is_a_slip_not_a_no_show(alice: User) -> None:
    block = FocusBlock.objects.create(starts_at=NINE)
    (seat,) = booked(block, alice, at=NINE - timedelta(minutes=12))

    seat_cancel(seat=seat, now=NINE - timedelta(minutes=11, seconds=30))

    seat.refresh_from_db()
    assert seat.cancelled_at is not None and not seat.no_show
    # Given back later than that, it counts.
    (again,) = booked(block, alice, at=NINE - timedelta(minutes=11))
    seat_cancel(seat=again, now=NINE - timedelta(minutes=5))
    again.refresh_from_db()
    assert again.no_show
    # Taken again and given back straight away: the late one before it still counts.
    (third,) = booked(block, alice, at=NINE - timedelta(minutes=4))
    seat_cancel(seat=third, now=NINE - timedelta(minutes=3))
    again.refresh_from_db()
    assert again.no_show and Seat.objects.filter(user=alice, no_show=True).count() == 1


def test_a_suspension_gives_the_seats_back_for_others_and_counts_no_no_show(
    staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Staff's doing, not the member's: the seats of blocks to come go back (a full block
    has room again), and once the suspension is lifted nothing counts against them."""
    ana, beto = UserFactory.create(), UserFactory.create()
    blocks = [
        FocusBlock.objects.create(starts_at=NINE + timedelta(days=days), capacity=1)
        for days in (1, 2, 3)
    ]
    for block in blocks:
        booked(block, ana, at=NINE)
    with time_machine.travel(NINE, tick=False):
        member_suspend(user=ana, by=staff)
        booked(blocks[0], beto, at=NINE)  # full before

    for block in blocks:
        wrap_up_at(block.ends_at, django_capture_on_commit_callbacks)
    with time_machine.travel(blocks[-1].ends_at + timedelta(minutes=5), tick=False):
        member_reinstate(user=ana)

    assert not Seat.objects.filter(user=ana, no_show=True).exists()
    assert not Seat.objects.filter(user=ana, cancelled_at__isnull=True).exists()
    standing_row = FocusMember.objects.filter(user=ana).first()
    assert standing_row is None or standing_row.drop_in_only_until is None
    assert not Notification.objects.filter(user=ana, kind=Kind.FOCUS_NO_SHOW).exists()


def test_a_seat_of_an_account_closed_by_the_wrap_up_is_nobody_s_absence(
    staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Suspended after the block's end, before beat wrapped it up: the seat was not given
    back (the block was over), and is not counted either."""
    ana = UserFactory.create()
    block = FocusBlock.objects.create(starts_at=NINE)
    booked(block, ana)
    with time_machine.travel(block.ends_at + timedelta(seconds=10), tick=False):
        member_suspend(user=ana, by=staff)

    wrap_up_at(block.ends_at + timedelta(minutes=1), django_capture_on_commit_callbacks)

    assert not Seat.objects.filter(user=ana, no_show=True).exists()
    assert not Notification.objects.filter(user=ana, kind=Kind.FOCUS_NO_SHOW).exists()
