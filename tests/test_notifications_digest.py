"""The weekly digest: Monday morning in each member's zone, only for members who want it and
have been away, with what they missed, sent once."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client

from events.models import Rsvp
from members.models import Profile, User
from members.services import member_suspend
from notifications import tasks
from notifications.digest import digest_content, digest_recipients
from notifications.models import Channel, Digest, Kind, Preference
from notifications.services import notify
from tests.conftest import SmtpSink
from tests.factories import (
    BlockFactory,
    EventFactory,
    GroupFactory,
    GroupMemberFactory,
    InterestFactory,
    ProfileFactory,
    RsvpFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Monday 30 November 2026, 08:30 in Madrid (07:30 UTC); 02:30 in Bogotá.
MONDAY = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)


def member_away(name: str, *, away_days: float | None = 10, **fields: Any) -> User:
    """A member who joined two months before MONDAY and was last seen `away_days` before it
    (never, for None)."""
    seen = None if away_days is None else MONDAY - timedelta(days=away_days)
    user = UserFactory.create(
        display_name=name,
        email=f"{name.lower()}@example.com",
        language="en",
        date_joined=MONDAY - timedelta(days=60),
        last_seen_at=seen,
        **fields,
    )
    return user


def with_profile(user: User, *interests: str, onboarded_days_ago: float = 30) -> Profile:
    profile = ProfileFactory.create(
        user=user,
        onboarded_at=MONDAY - timedelta(days=onboarded_days_ago),
        visible_in_directory=True,
    )
    profile.interests.set([InterestFactory.create(label_es=name) for name in interests])
    return profile


def test_only_members_away_for_a_week_who_want_it_and_whose_monday_morning_it_is() -> None:
    away = member_away("Away")
    member_away("Recent", away_days=1)
    member_away("NoThanks", email_digest=False)
    member_away("Bogota", time_zone="America/Bogota")  # 02:30 there: later today
    member_away("Closed", is_active=False)
    new = member_away("Newcomer", away_days=None)
    User.objects.filter(pk=new.pk).update(date_joined=MONDAY - timedelta(days=2))
    never_back = member_away("NeverBack", away_days=None)
    # Signed up with someone else's address, which was never confirmed.
    unconfirmed = member_away("Unconfirmed", away_days=None)
    EmailAddress.objects.filter(user=unconfirmed).update(verified=False)

    due = set(digest_recipients(now=MONDAY).values_list("display_name", flat=True))

    assert due == {away.display_name, never_back.display_name}
    later = MONDAY + timedelta(hours=6)  # 08:30 in Bogotá
    assert "Bogota" in set(digest_recipients(now=later).values_list("display_name", flat=True))
    assert not digest_recipients(now=MONDAY + timedelta(days=1)).exists()  # Tuesday


def test_the_digest_says_what_was_missed_and_goes_out_once(smtp: SmtpSink) -> None:
    ana = member_away("Ana")
    with_profile(ana, "Design", "Python")
    with_profile(member_away("Nuria", away_days=0), "Python", onboarded_days_ago=3)
    with_profile(member_away("Old", away_days=0), "Python", onboarded_days_ago=40)  # not new
    with_profile(member_away("Other", away_days=0), "Knitting", onboarded_days_ago=2)
    blocked = member_away("Blocked", away_days=0)
    with_profile(blocked, "Python", onboarded_days_ago=2)
    BlockFactory.create(blocker=ana, blocked=blocked)
    EventFactory.create(
        title="Open talk: pricing",
        starts_at=MONDAY + timedelta(days=2),
        ends_at=MONDAY + timedelta(days=2, hours=1),
    )
    EventFactory.create(
        title="Far away",
        starts_at=MONDAY + timedelta(days=20),
        ends_at=MONDAY + timedelta(days=20, hours=1),
    )
    group = GroupFactory.create()
    GroupMemberFactory.create(group=group, user=ana)
    GroupMemberFactory.create(group=group, user=member_away("Pablo", away_days=0))
    Preference.objects.create(user=ana, kind=Kind.WAITLIST_PROMOTED, channel=Channel.DIGEST)
    with time_machine.travel(MONDAY - timedelta(days=2), tick=False):
        notify(
            user=ana,
            kind=Kind.WAITLIST_PROMOTED,
            key="seat",
            text="A seat freed up: you are going to Workshop.",
            url="/events/",
        )

    with time_machine.travel(MONDAY, tick=False):
        assert tasks.digest_tick() >= 1
        assert tasks.digest_tick() == 0  # claimed: nothing queued twice

    to_ana = [m for m in smtp.messages if "ana@example.com" in str(m["To"])]
    assert len(to_ana) == 1
    text = to_ana[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "This week at" in str(to_ana[0]["Subject"])
    assert "A seat freed up: you are going to Workshop." in text
    assert "Pablo" in text
    assert "Open talk: pricing" in text and "Far away" not in text
    assert "Nuria" in text
    assert "Old" not in text and "Other" not in text and "Blocked" not in text
    digest = Digest.objects.get(user=ana)
    assert digest.sent_at is not None and not digest.skipped
    assert str(digest.week) == "2026-11-30"

    tasks.digest_send(ana.pk, "2026-11-30")  # a redelivered task
    assert len([m for m in smtp.messages if "ana@example.com" in str(m["To"])]) == 1


def test_the_digest_stops_with_one_click_from_the_mail_client(smtp: SmtpSink) -> None:
    ana = member_away("Ana")
    python = InterestFactory.create(label_es="Python")
    with_profile(ana).interests.set([python])
    with_profile(member_away("Nuria", away_days=0), onboarded_days_ago=3).interests.set([python])
    with time_machine.travel(MONDAY, tick=False):
        tasks.digest_tick()
    [email] = smtp.messages
    # RFC 8058: the mail client POSTs to the address in List-Unsubscribe, with no cookie.
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    off = re.fullmatch(r"<https?://[^/]+(/[^>]+)>", "".join(str(email["List-Unsubscribe"]).split()))
    assert off is not None
    text = email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert off.group(1) in text
    mail_client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")

    # Opening the link (a scanner, a prefetch) changes nothing; it asks.
    assert "Stop the weekly digest?" in mail_client.get(off.group(1)).content.decode()
    assert User.objects.get(pk=ana.pk).email_digest
    done = mail_client.post(off.group(1), {"List-Unsubscribe": "One-Click"})

    assert done.status_code == 200 and "No more weekly digests" in done.content.decode()
    assert not User.objects.get(pk=ana.pk).email_digest
    forged = off.group(1).replace("/off/", "/off/x")
    assert mail_client.post(forged).status_code == 404
    with time_machine.travel(MONDAY + timedelta(days=7), tick=False):
        tasks.digest_tick()
    assert len(smtp.messages) == 1


def test_the_events_coming_up_name_the_zone_of_their_times() -> None:
    luis = member_away("Luis", time_zone="America/Mexico_City")
    EventFactory.create(
        title="Open talk",
        starts_at=MONDAY + timedelta(days=2),
        ends_at=MONDAY + timedelta(days=2, hours=1),
    )

    with time_machine.travel(MONDAY + timedelta(hours=7), tick=False):  # 08:30 in Mexico City
        tasks.digest_tick()

    (digest,) = [message for message in mail.outbox if message.to == [luis.email]]
    assert isinstance(digest, EmailMultiAlternatives)
    # Wednesday, 07:30 UTC: 01:30 there (08:30 in the community's Madrid).
    assert "- Open talk: 2 December 2026, 01:30 (Mexico City)" in digest.body
    assert ">Open talk</a>: 2 December 2026, 01:30 (Mexico City)</li>" in str(
        digest.alternatives[0][0]
    )


def test_a_week_with_nothing_to_say_sends_nothing(smtp: SmtpSink) -> None:
    quiet = member_away("Quiet")

    with time_machine.travel(MONDAY, tick=False):
        tasks.digest_tick()

    assert smtp.messages == []
    assert Digest.objects.get(user=quiet).skipped


def test_the_content_leaves_out_read_and_non_digest_notifications() -> None:
    ana = member_away("Ana")
    event = EventFactory.create()
    RsvpFactory.create(event=event, user=ana, status=Rsvp.Status.GOING)
    with time_machine.travel(MONDAY - timedelta(days=1), tick=False):
        notify(user=ana, kind=Kind.MENTION, key="both", text="shown, emailed already")
        Preference.objects.create(user=ana, kind=Kind.MENTION, channel=Channel.DIGEST)
        read = notify(user=ana, kind=Kind.MENTION, key="read", text="read").notification
        read.read_at = MONDAY
        read.save()
        notify(user=ana, kind=Kind.MENTION, key="unread", text="unread")

    content = digest_content(user=ana, now=MONDAY)

    assert [n.text for n in content.notifications] == ["unread"]


def test_the_content_names_nobody_blocked_since_either_way() -> None:
    ana, beto, carla = member_away("Ana"), member_away("Beto"), member_away("Carla")
    Preference.objects.create(user=ana, kind=Kind.MENTION, channel=Channel.DIGEST)
    with time_machine.travel(MONDAY - timedelta(days=2), tick=False):
        for other in (beto, carla):
            notify(
                user=ana, kind=Kind.MENTION, key=f"m{other.pk}", text=f"{other.name}", about=[other]
            )
    BlockFactory.create(blocker=ana, blocked=beto)

    assert [n.text for n in digest_content(user=ana, now=MONDAY).notifications] == ["Carla"]
    BlockFactory.create(blocker=carla, blocked=ana)
    assert digest_content(user=ana, now=MONDAY).notifications == []


def test_the_content_names_nobody_suspended_since(staff: User) -> None:
    ana, spammer, carla = member_away("Ana"), member_away("Spam"), member_away("Carla")
    Preference.objects.create(user=ana, kind=Kind.MENTION, channel=Channel.DIGEST)
    with time_machine.travel(MONDAY - timedelta(days=2), tick=False):
        for other in (spammer, carla):
            notify(
                user=ana, kind=Kind.MENTION, key=f"m{other.pk}", text=f"{other.name}", about=[other]
            )
    member_suspend(user=spammer, by=staff)

    assert [n.text for n in digest_content(user=ana, now=MONDAY).notifications] == ["Carla"]


def test_a_round_s_pairs_are_counted_once_for_all_of_its_members_digests() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from matching.digest import pair_news

    first = GroupFactory.create()
    second = GroupFactory.create(round=first.round)
    people = []
    for group in (first, second):
        for name in ("A", "B"):
            person = member_away(f"{name}{group.pk}", away_days=0)
            GroupMemberFactory.create(group=group, user=person)
            people.append(person)

    news = pair_news(people[0], MONDAY)
    assert news is not None and news.pairs_count == 2
    with CaptureQueriesContext(connection) as queries:
        news = pair_news(people[2], MONDAY)
    assert news is not None and news.pairs_count == 2
    assert not [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"]]
