"""Notifications: every kind of news reaches a member the way their preferences say, once,
and the list behind the bell in the header."""

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone, translation

from conversations import tasks as conversation_tasks
from conversations.models import Participant
from conversations.services import direct_conversation_start, message_post
from events import tasks as event_tasks
from events.models import Rsvp
from focus import tasks as focus_tasks
from focus.models import FocusBlock, Seat
from matching import tasks as matching_tasks
from members.models import User
from notifications.models import Channel, Kind, Notification, Preference
from notifications.services import CONFIGURABLE, FIXED, default_channel, notify
from rooms import services as room_services
from rooms import tasks as room_tasks
from tests.conftest import SmtpSink
from tests.factories import (
    PASSWORD,
    EventFactory,
    GroupFactory,
    GroupMemberFactory,
    RoomFactory,
    RsvpFactory,
    client_for,
    onboarded_member,
)

pytestmark = pytest.mark.django_db


def english_member(name: str, **fields: Any) -> User:
    """An onboarded member who reads English, at <name>@example.com."""
    return onboarded_member(name, email=f"{name.lower()}@example.com", language="en", **fields)


# One way to cause each kind of news for `who`, through the task that tells it.


def pair_created(who: User) -> None:
    group = GroupFactory.create()
    seat = GroupMemberFactory.create(group=group, user=who)
    GroupMemberFactory.create(group=group, user=english_member("Partner"))
    matching_tasks.intro_send(seat.pk)


def pair_follow_up(who: User) -> None:
    group = GroupFactory.create()
    seat = GroupMemberFactory.create(group=group, user=who)
    GroupMemberFactory.create(group=group, user=english_member("Partner"))
    matching_tasks.follow_up_send(seat.pk)


def event_reminder(who: User) -> None:
    soon = timezone.now() + timedelta(minutes=10)
    event = EventFactory.create(starts_at=soon, ends_at=soon + timedelta(hours=1))
    rsvp = RsvpFactory.create(event=event, user=who, status=Rsvp.Status.GOING)
    event_tasks.reminder_send(rsvp.pk, "soon")


def focus_reminder(who: User) -> None:
    starts_at = (timezone.now() + timedelta(days=1)).replace(minute=30, second=0, microsecond=0)
    block = FocusBlock.objects.create(starts_at=starts_at)
    seat = Seat.objects.create(block=block, user=who, booked_at=starts_at - timedelta(hours=1))
    with time_machine.travel(starts_at - timedelta(minutes=4), tick=False):
        focus_tasks.focus_reminder_send(seat.pk)


def focus_no_show(who: User) -> None:
    starts_at = (timezone.now() - timedelta(hours=2)).replace(minute=30, second=0, microsecond=0)
    block = FocusBlock.objects.create(starts_at=starts_at)
    seat = Seat.objects.create(
        block=block, user=who, booked_at=starts_at - timedelta(days=1), no_show=True
    )
    focus_tasks.no_show_tell(seat.pk)


def waitlist_promoted(who: User) -> None:
    event = EventFactory.create()
    rsvp = RsvpFactory.create(
        event=event, user=who, status=Rsvp.Status.GOING, promoted_at=timezone.now()
    )
    event_tasks.rsvp_promoted_notify(rsvp.pk)


def mention(who: User) -> None:
    room = RoomFactory.create()
    author = english_member("Author")
    for user in (who, author):
        room_services.room_enter(room=room, user=user)
    message, _created = room_services.message_post(
        room=room, author=author, text=f"@{who.display_name} have a look", client_id=uuid.uuid4()
    )
    room_tasks.mention_notify(message.pk, who.pk)


def private_message(who: User) -> None:
    writer = english_member("Writer")
    conversation = direct_conversation_start(starter=writer, other=who)
    message_post(conversation=conversation, author=writer, text="Hola", client_id=uuid.uuid4())
    conversation_tasks.unread_tell(Participant.objects.get(conversation=conversation, user=who).pk)


CAUSES: dict[str, Callable[[User], None]] = {
    Kind.PAIR_CREATED: pair_created,
    Kind.PAIR_FOLLOW_UP: pair_follow_up,
    Kind.EVENT_REMINDER: event_reminder,
    Kind.FOCUS_REMINDER: focus_reminder,
    Kind.FOCUS_NO_SHOW: focus_no_show,
    Kind.WAITLIST_PROMOTED: waitlist_promoted,
    Kind.MENTION: mention,
    Kind.MESSAGE: private_message,
}


def test_every_kind_is_either_chosen_by_the_member_or_fixed() -> None:
    assert set(Kind) == set(CONFIGURABLE) | set(FIXED)
    assert not set(CONFIGURABLE) & set(FIXED)


def test_every_configurable_kind_has_a_cause_here() -> None:
    assert set(CAUSES) == set(CONFIGURABLE)


@pytest.mark.parametrize("kind", CONFIGURABLE)
@pytest.mark.parametrize(
    ("channel", "emailed", "listed"),
    [
        (Channel.BOTH, True, True),
        (Channel.IN_APP, False, True),
        (Channel.EMAIL, True, False),
        (Channel.DIGEST, False, True),
    ],
)
def test_each_kind_reaches_the_member_as_they_chose(
    kind: str, channel: str, emailed: bool, listed: bool, smtp: SmtpSink
) -> None:
    ana = english_member("Ana")
    if channel != default_channel(kind):  # the default: no row needed
        Preference.objects.create(user=ana, kind=kind, channel=channel)

    CAUSES[kind](ana)

    to_ana = [m for m in smtp.messages if "ana@example.com" in str(m["To"])]
    assert len(to_ana) == (1 if emailed else 0)
    notice = Notification.objects.get(user=ana)
    assert notice.kind == kind
    assert notice.in_app is listed
    assert notice.for_digest is (channel == Channel.DIGEST)
    assert notice.text and notice.url.startswith("/")


@pytest.mark.parametrize("kind", CONFIGURABLE)
def test_a_task_that_runs_twice_tells_once(kind: str, smtp: SmtpSink) -> None:
    ana = english_member("Ana")
    CAUSES[kind](ana)
    before = len(smtp.messages)
    # Run the same occasion's notify again, as a redelivered task would.
    notice = Notification.objects.get(user=ana)
    delivery = notify(user=ana, kind=kind, key=notice.key, text="again")

    assert delivery.notification == notice
    assert Notification.objects.filter(user=ana).count() == 1
    assert len(smtp.messages) == before


@pytest.mark.parametrize("kind", CONFIGURABLE)
def test_each_kind_s_emails_stop_with_one_click_from_the_mail_client(
    kind: str, smtp: SmtpSink
) -> None:
    """RFC 8058, as the digest's: the mail client POSTs to the address in List-Unsubscribe,
    with no cookie. That kind's news comes on the site only from then on."""
    ana = english_member("Ana")
    Preference.objects.create(user=ana, kind=kind, channel=Channel.EMAIL, push=False)
    CAUSES[kind](ana)
    [email] = [m for m in smtp.messages if "ana@example.com" in str(m["To"])]
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    off = re.fullmatch(r"<https?://[^/]+(/[^>]+)>", "".join(str(email["List-Unsubscribe"]).split()))
    assert off is not None
    mail_client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    with translation.override("en"):
        label = str(Kind(kind).label)

    # Opening the link (a scanner, a prefetch) changes nothing; it asks.
    asked = mail_client.get(off.group(1)).content.decode()
    assert f"Stop emails about “{label}”?" in asked
    assert Preference.objects.get(user=ana, kind=kind).channel == Channel.EMAIL
    done = mail_client.post(off.group(1), {"List-Unsubscribe": "One-Click"})

    assert done.status_code == 200 and f"No more emails about “{label}”" in done.content.decode()
    assert (
        Preference.objects.get(user=ana, kind=kind).channel,
        ana.notification_preferences.get(kind=kind).push,
    ) == (Channel.IN_APP, False)
    again = mail_client.post(off.group(1), {"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    assert mail_client.post(off.group(1).replace("/off/", "/off/x")).status_code == 404


def test_the_text_is_written_in_the_member_s_language_and_zone() -> None:
    ana = english_member("Ana", time_zone="America/Bogota")
    User.objects.filter(pk=ana.pk).update(language="es")
    ana.refresh_from_db()
    when = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)

    notify(
        user=ana,
        kind=Kind.EVENT_REMINDER,
        key="x",
        text=event_tasks.REMINDER_TEXTS["day"],
        params={"title": "Taller", "when": when},
    )

    text = Notification.objects.get(user=ana).text
    assert text.startswith("Recordatorio: «Taller»")
    assert "1 de diciembre de 2026" in text and "10:30" in text  # 15:30 UTC in Bogotá


def test_event_changes_always_reach_attendees_by_email_and_on_the_site(smtp: SmtpSink) -> None:
    ana = english_member("Ana")
    Preference.objects.bulk_create(
        Preference(user=ana, kind=kind, channel=Channel.IN_APP) for kind in CONFIGURABLE
    )
    event = EventFactory.create(sequence=1)
    rsvp = RsvpFactory.create(event=event, user=ana, status=Rsvp.Status.GOING)

    event_tasks.event_change_send(rsvp.pk)

    assert len(smtp.messages) == 1
    assert "List-Unsubscribe" not in smtp.messages[0]  # nothing to turn off
    assert Notification.objects.get(user=ana).kind == Kind.EVENT_CHANGED


# The list ---------------------------------------------------------------------------


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def told(user: User, n: int, *, url: str = "/events/") -> list[Notification]:
    return [
        notify(user=user, kind=Kind.MENTION, key=f"k{i}", text=f"News {i}", url=url).notification
        for i in range(n)
    ]


def test_the_header_counts_unread_notifications_and_the_list_shows_them() -> None:
    ana = english_member("Ana")
    told(ana, 3)
    Notification.objects.filter(key="k0").update(read_at=timezone.now())
    told(english_member("Ben"), 2)  # someone else's

    page = signed_in(ana).get("/").content.decode()
    listing = signed_in(ana).get("/notifications/").content.decode()

    assert re.search(
        r'class="notifications-count" aria-hidden="true" data-count="notices">2<', page
    )
    assert "Notifications, 2 unread" in page
    assert all(f"News {i}" in listing for i in range(3))
    assert listing.count("notification-unread") == 2
    # Just told: "now", not "0 minutes ago".
    assert "0 minutes" not in listing and re.search(r"<time datetime=[^>]*>now</time>", listing)


def test_opening_a_notification_marks_it_read_and_follows_its_link() -> None:
    ana = english_member("Ana")
    [notice] = told(ana, 1, url="/events/")

    response = signed_in(ana).get(f"/notifications/{notice.pk}/")

    assert response.status_code == 302 and response["Location"] == "/events/"
    notice.refresh_from_db()
    assert notice.is_read


def test_a_link_elsewhere_is_not_followed() -> None:
    ana = english_member("Ana")
    [notice] = told(ana, 1, url="https://evil.example/")

    response = signed_in(ana).get(f"/notifications/{notice.pk}/")

    assert response["Location"] == "/notifications/"


def test_marking_one_or_all_read() -> None:
    ana = english_member("Ana")
    first, *_rest = told(ana, 3)
    client = signed_in(ana)

    client.post("/notifications/read/", {"id": first.pk})
    assert Notification.objects.filter(user=ana, read_at__isnull=True).count() == 2
    client.post("/notifications/read/")
    assert not Notification.objects.filter(user=ana, read_at__isnull=True).exists()


def test_mark_all_as_read_marks_what_the_list_showed_and_not_what_came_after() -> None:
    ana = english_member("Ana")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        told(ana, 2)
        page = signed_in(ana).get("/notifications/").content.decode()
    shown_at = re.search(r'name="shown_at" value="(\d+)"', page)
    assert shown_at is not None
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        notify(user=ana, kind=Kind.MENTION, key="later", text="Arrived later")
        signed_in(ana).post("/notifications/read/", {"shown_at": shown_at.group(1)})

    assert list(
        Notification.objects.filter(user=ana, read_at__isnull=True).values_list("text", flat=True)
    ) == ["Arrived later"]


def test_marking_one_read_on_a_later_page_stays_on_that_page() -> None:
    ana = english_member("Ana")
    oldest, *_rest = told(ana, 31)  # 30 a page: the oldest is alone on page 2
    client = signed_in(ana)
    form = client.get("/notifications/?page=2").content.decode().split("News 0")[1]
    assert '<input type="hidden" name="page" value="2">' in form

    response = client.post("/notifications/read/", {"id": oldest.pk, "page": "2"})

    assert response["Location"] == "/notifications/?page=2"
    assert Notification.objects.get(pk=oldest.pk).is_read
    bogus = client.post("/notifications/read/", {"id": oldest.pk, "page": "../x"})
    assert bogus["Location"] == "/notifications/"


@pytest.mark.parametrize("bad_id", ["²", "١", "abc", "", " 1", "1.0", "-1", "1" * 30])
def test_an_id_that_is_not_a_number_is_refused_and_marks_nothing_read(bad_id: str) -> None:
    ana = english_member("Ana")
    told(ana, 2)

    response = signed_in(ana).post("/notifications/read/", {"id": bad_id})

    assert response.status_code == 400
    assert Notification.objects.filter(user=ana, read_at__isnull=True).count() == 2


def test_several_ids_mark_those_read_and_one_bad_id_refuses_them_all() -> None:
    ana = english_member("Ana")
    first, second, third = told(ana, 3)
    client = signed_in(ana)

    bad = client.post("/notifications/read/", {"id": [first.pk, "²"]})
    assert bad.status_code == 400
    assert Notification.objects.filter(user=ana, read_at__isnull=True).count() == 3

    client.post("/notifications/read/", {"id": [first.pk, second.pk]})
    unread = Notification.objects.filter(user=ana, read_at__isnull=True)
    assert list(unread) == [third]


def test_others_notifications_stay_out_of_reach() -> None:
    [bens] = told(english_member("Ben"), 1)
    ana_client = signed_in(english_member("Ana"))

    assert ana_client.get(f"/notifications/{bens.pk}/").status_code == 404
    ana_client.post("/notifications/read/", {"id": bens.pk})
    bens.refresh_from_db()
    assert not bens.is_read
    assert Client().get("/notifications/")["Location"].startswith("/accounts/login/")
    assert ana_client.get("/notifications/read/").status_code == 405


def test_the_list_costs_the_same_queries_for_many_notifications(
    django_assert_max_num_queries: Any,
) -> None:
    ana = english_member("Ana")
    client = signed_in(ana)
    told(ana, 2)
    client.get("/")

    with django_assert_max_num_queries(12) as few:
        client.get("/notifications/")
    told(ana, 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/notifications/").status_code == 200


def test_export_carries_the_notifications_and_preferences_and_deletion_removes_them() -> None:
    from members.privacy import account_delete, account_export

    ana = english_member("Ana")
    Preference.objects.create(user=ana, kind=Kind.MENTION, channel=Channel.DIGEST)
    told(ana, 2)

    data = account_export(user=ana)
    account_delete(user=ana)

    assert data["notifications"]["preferences"] == {"mention": "digest"}
    assert sorted(n["text"] for n in data["notifications"]["received"]) == ["News 0", "News 1"]
    assert not Notification.objects.filter(user=ana).exists()
    assert not Preference.objects.filter(user=ana).exists()


def test_a_deleted_members_name_is_gone_from_other_members_notifications_page() -> None:
    ana = english_member("Ana")
    zoe = onboarded_member("Zoë Quintanilla", email="zoe@example.com", language="en")
    room = RoomFactory.create(name="Design corner")
    for user in (ana, zoe):
        room_services.room_enter(room=room, user=user)
    message, _created = room_services.message_post(
        room=room, author=zoe, text="@Ana have a look", client_id=uuid.uuid4()
    )
    room_tasks.mention_notify(message.pk, ana.pk)
    group = GroupFactory.create()
    ana_seat = GroupMemberFactory.create(group=group, user=ana)
    GroupMemberFactory.create(group=group, user=zoe)
    matching_tasks.intro_send(ana_seat.pk)
    anas_client = signed_in(ana)
    assert anas_client.get("/notifications/").content.decode().count("Zoë Quintanilla") >= 2

    deleted = signed_in(zoe).post("/members/me/delete/", {"password": PASSWORD})
    assert deleted.status_code == 302

    page = anas_client.get("/notifications/").content.decode()
    assert "Zoë" not in page and "Quintanilla" not in page
    assert "Former member mentioned you in “Design corner”" in page
    assert "Your coffee pair this round: Former member." in page


def test_a_name_in_many_notices_goes_in_batches_each_in_its_reader_s_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A year of mentions names someone in thousands of notices: rewritten a batch at a
    time, in a number of queries that does not grow with them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.privacy import account_delete
    from notifications import privacy

    def named_in(count: int) -> tuple[User, list[Notification]]:
        zoe = english_member("Zoë Quintanilla")
        notices = []
        for n in range(count):
            reader = onboarded_member(f"Reader {n}", language="es" if n % 2 else "en")
            notice = Notification.objects.create(
                user=reader, kind=Kind.MENTION, key=f"m{n}", text="Zoë Quintanilla mentioned you"
            )
            notice.about.add(zoe)
            notices.append(notice)
        return zoe, notices

    # The first deletion in a process fills Django's cache of content types (44 queries):
    # run alone, this test measured that too.
    account_delete(user=named_in(1)[0])
    queries = []
    for count in (3, 6):
        zoe, _notices = named_in(count)
        with CaptureQueriesContext(connection) as captured:
            account_delete(user=zoe)
        queries.append(len(captured))
    assert queries[0] == queries[1]

    monkeypatch.setattr(privacy, "RENAME_BATCH", 2)
    zoe, notices = named_in(5)
    account_delete(user=zoe)
    texts = [Notification.objects.get(pk=notice.pk).text for notice in notices]
    assert texts == [
        "Former member mentioned you" if n % 2 == 0 else "Antiguo miembro mentioned you"
        for n in range(5)
    ]
    assert not Notification.about.through.objects.filter(user=zoe).exists()


def test_only_the_deleted_member_s_whole_name_goes_from_a_notice() -> None:
    ana, anabel, reader = (english_member(name) for name in ("Ana", "Anabel", "Rita"))
    notice = Notification.objects.create(
        user=reader, kind=Kind.MESSAGE, key="message:1", text="Ana and Anabel wrote to you"
    )
    notice.about.set([ana, anabel])

    from members.privacy import account_delete

    account_delete(user=ana)

    notice.refresh_from_db()
    assert notice.text == "Former member and Anabel wrote to you"


def test_a_name_staff_correct_in_the_admin_reaches_the_notices_that_name_the_member(
    staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.test_rights import _change_form

    zoe, reader = english_member("Zoë Quintanilla"), english_member("Rita")
    notice = Notification.objects.create(
        user=reader, kind=Kind.MENTION, key="m1", text="Zoë Quintanilla mentioned you"
    )
    notice.about.add(zoe)
    admin = client_for(staff)

    with django_capture_on_commit_callbacks(execute=True):
        saved = admin.post(
            f"/admin/members/user/{zoe.pk}/change/",
            {**_change_form(admin, zoe), "display_name": "Zoë Q."},
        )

    assert saved.status_code == 302
    notice.refresh_from_db()
    assert notice.text == "Zoë Q. mentioned you"


@pytest.mark.parametrize(
    ("old", "new"),
    [("Zoë", "Zoë Quintanilla"), ("Zoë Quintanilla", "Zoë"), ("Zoë", "Dr Zoë")],
)
def test_a_rename_reaches_others_notices_once_however_often_it_is_told(old: str, new: str) -> None:
    """Longer, shorter, or the old name inside the new one: told twice (a retried request),
    the notice names the member once, by the new name, and never grows past its column."""
    from members.services import member_rename_tell
    from notifications.privacy import names_rewrite

    zoe, reader = english_member(old), english_member("Rita")
    texts = [f"{old} and Zoëlia wrote to you", f"{old} mentioned you: " + "x" * (282 - len(old))]
    notices = [
        Notification.objects.create(user=reader, kind=Kind.MESSAGE, key=f"m{n}", text=text)
        for n, text in enumerate(texts)
    ]
    for notice in notices:
        notice.about.add(zoe)
    User.objects.filter(pk=zoe.pk).update(display_name=new)
    zoe.refresh_from_db()

    member_rename_tell(user=zoe, old_name=old)
    assert names_rewrite(user=zoe, name=old, replacement=lambda _language: new) == 0

    first, second = (Notification.objects.get(pk=notice.pk).text for notice in notices)
    assert first == f"{new} and Zoëlia wrote to you"
    assert second.startswith(f"{new} mentioned you: xxx") and len(second) <= 300
    if len(new) > len(old):
        assert len(second) == 300 and second.endswith("x…")


def test_a_missed_focus_session_is_chosen_like_the_others_but_never_pushed() -> None:
    ana = english_member("Ana")
    page = client_for(ana).get("/notifications/settings/").content.decode()

    assert 'name="focus_no_show"' in page and 'name="push_focus_no_show"' not in page
    Preference.objects.create(user=ana, kind=Kind.FOCUS_NO_SHOW, channel=Channel.IN_APP)
    focus_no_show(ana)
    assert Notification.objects.get(user=ana).in_app
