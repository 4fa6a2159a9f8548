"""What staff may do to a focus block in the admin (docs/focus.md, "Staff in the admin"):
a block members came to is never deleted, since its seats are their focus history; a block
moved after its reminder went out reminds its members again at the new time; its capacity
never goes below the seats held."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from focus import tasks
from focus.models import FocusBlock, Seat
from focus.services import seat_book
from focus.stats import member_stats
from members.models import User
from notifications.models import Channel, Kind, Notification, Preference
from tests.conftest import SmtpSink
from tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db

NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday, 10:00 in Madrid
BEFORE = NINE - timedelta(days=2)


def change_url(block: FocusBlock) -> str:
    return f"/admin/focus/focusblock/{block.pk}/change/"


def change_form(block: FocusBlock, **changes: Any) -> dict[str, Any]:
    """The admin's change form for `block` as staff send it (times in the staff's zone),
    with `changes` (starts_at, minutes, capacity, title) made."""
    starts_at = changes.get("starts_at", block.starts_at)
    local = starts_at.astimezone(ZoneInfo("Europe/Madrid"))
    seats = list(block.seats.order_by("booked_at", "id"))
    data: dict[str, Any] = {
        "title": changes.get("title", block.title),
        "starts_at_0": local.strftime("%Y-%m-%d"),
        "starts_at_1": local.strftime("%H:%M:%S"),
        "minutes": changes.get("minutes", block.minutes),
        "capacity": changes.get("capacity", block.capacity),
        "created_by": "",
        "created_at_0": "2026-12-01",
        "created_at_1": "10:00:00",
        "seats-TOTAL_FORMS": len(seats),
        "seats-INITIAL_FORMS": len(seats),
        "seats-MIN_NUM_FORMS": 0,
        "seats-MAX_NUM_FORMS": 1000,
    }
    for index, seat in enumerate(seats):
        data[f"seats-{index}-id"] = seat.pk
        data[f"seats-{index}-block"] = block.pk
    return data


def ended_block_attended_by(user: User, *, title: str) -> FocusBlock:
    """A block that ended yesterday, which `user` booked, came to and checked out of."""
    starts_at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    block = FocusBlock.objects.create(starts_at=starts_at, minutes=50, title=title)
    Seat.objects.create(
        block=block,
        user=user,
        booked_at=starts_at - timedelta(days=1),
        arrived_at=starts_at,
        outcome=Seat.Outcome.DONE,
    )
    return block


# Deleting ---------------------------------------------------------------------------------


def test_an_ended_block_that_members_attended_cannot_be_deleted(alice: User, staff: User) -> None:
    block = ended_block_attended_by(alice, title="Escritura")
    admin = client_for(staff)
    url = f"/admin/focus/focusblock/{block.pk}/delete/"

    asked = admin.get(url).content.decode()
    assert "Escritura" in asked
    assert "members came to it, and it counts in their focus history" in asked
    admin.post(url, {"post": "yes"})

    assert FocusBlock.objects.filter(pk=block.pk).exists()
    figures = member_stats(user=alice, now=datetime.now(UTC))
    assert figures.sessions == 1 and figures.goals_done == 1


def test_the_bulk_delete_keeps_blocks_members_attended_and_deletes_those_nobody_came_to(
    alice: User, staff: User
) -> None:
    attended = ended_block_attended_by(alice, title="Escritura")
    admin = client_for(staff)

    def delete_selected(block: FocusBlock) -> str:
        response = admin.post(
            "/admin/focus/focusblock/",
            {"action": "delete_selected", "_selected_action": [block.pk], "post": "yes"},
        )
        return str(response.content.decode())

    page = delete_selected(attended)
    assert "members came to it, and it counts in their focus history" in page
    assert FocusBlock.objects.filter(pk=attended.pk).exists()
    assert member_stats(user=alice, now=datetime.now(UTC)).sessions == 1

    # Ended with nobody there (booked and missed, or not booked at all): it may go.
    missed = FocusBlock.objects.create(starts_at=attended.starts_at - timedelta(days=1))
    Seat.objects.create(block=missed, user=alice, booked_at=BEFORE, no_show=True)
    delete_selected(missed)
    assert not FocusBlock.objects.filter(pk=missed.pk).exists()


# Moving -----------------------------------------------------------------------------------


def reminders_at(moment: datetime) -> int:
    """What beat does every minute (eager tasks: the reminders are sent inside)."""
    with time_machine.travel(moment, tick=False):
        return tasks.focus_reminders_tick()


def reminders_to(smtp: SmtpSink, email: str) -> list[Any]:
    """The reminders emailed to `email` (not the calendar messages, which carry focus.ics)."""
    return [
        message
        for message in smtp.messages
        if email in str(message["To"])
        and "focus.ics" not in {part.get_filename() for part in message.iter_attachments()}
    ]


def test_a_block_moved_after_its_reminder_went_out_reminds_its_members_at_the_new_time(
    smtp: SmtpSink, staff: User
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE, minutes=50, title="Escritura")
    ana = UserFactory.create(email="ana@example.com", display_name="Ana", language="en")
    Preference.objects.create(user=ana, kind=Kind.FOCUS_REMINDER, channel=Channel.BOTH)
    seat = Seat.objects.create(block=block, user=ana, booked_at=BEFORE)
    assert reminders_at(NINE - timedelta(minutes=5)) == 1

    # Four minutes before the start, staff put it an hour later.
    later = NINE + timedelta(hours=1)
    with time_machine.travel(NINE - timedelta(minutes=4), tick=False):
        response = client_for(staff).post(change_url(block), change_form(block, starts_at=later))
    assert response.status_code == 302
    block.refresh_from_db()
    assert block.starts_at == later

    assert tasks.focus_reminders_due(now=NINE) == []  # not at the old time
    assert tasks.focus_reminders_due(now=later - timedelta(minutes=4)) == [seat.pk]
    assert reminders_at(later - timedelta(minutes=5)) == 1
    assert reminders_at(later - timedelta(minutes=4)) == 0  # once, at the new time too

    # One notice on the site, of the new time (11:00 in Madrid), not one of each.
    notice = Notification.objects.get(user=ana, kind=Kind.FOCUS_REMINDER)
    assert "11:00" in notice.text and "10:00" not in notice.text
    # Two emails, each its own message: the provider must not drop the second as a copy.
    old, new = reminders_to(smtp, "ana@example.com")
    assert "10:00" in str(old["Subject"]) and "11:00" in str(new["Subject"])
    assert old["Message-ID"] != new["Message-ID"]


# Capacity ---------------------------------------------------------------------------------


def test_a_capacity_below_the_seats_held_is_refused_keeping_the_other_input(
    staff: User,
) -> None:
    block = FocusBlock.objects.create(starts_at=NINE, minutes=50, title="Escritura", capacity=10)
    members = [UserFactory.create() for _ in range(3)]
    with time_machine.travel(BEFORE, tick=False):
        for user in members:
            seat_book(block=block, user=user, now=BEFORE)
        admin = client_for(staff)
        refused = admin.post(change_url(block), change_form(block, capacity=2, title="Lectura"))

        assert refused.status_code == 200
        errors = refused.context["adminform"].form.errors
        assert errors["capacity"] == [
            "3 members already hold a seat in this block: the capacity cannot be lower than that."
        ]
        page = refused.content.decode()
        assert 'value="Lectura"' in page and 'name="capacity" value="2"' in page
        block.refresh_from_db()
        assert (block.capacity, block.title) == (10, "Escritura")

        # As many as the seats held is fine.
        saved = admin.post(change_url(block), change_form(block, capacity=3, title="Lectura"))
    assert saved.status_code == 302
    block.refresh_from_db()
    assert (block.capacity, block.title) == (3, "Lectura")
