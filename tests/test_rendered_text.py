"""What members read, in both languages: every email the site sends and its main pages show
names, never Python reprs ("<User: Ana>", "[<User: Ana>]") or a bare "None", and what a
Spanish member reads has no English left in it (a catalogue msgid shown untranslated).

One small community per language does what members do, through the real services and
tasks, so each email comes from its real trigger and the pages have something to show."""

import html
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from html.parser import HTMLParser
from typing import Any

import polib
import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.utils import timezone

from events.models import Event, EventKind, Rsvp
from events.rsvps import rsvp_set
from events.services import event_cancel, event_create, event_update
from events.tasks import reminder_send
from matching import links
from matching import tasks as matching_tasks
from matching.models import Answer, GroupMember, Unmatched
from matching.services import (
    participation_auto_pause,
    participation_get_or_create,
    participation_resume,
)
from members.models import User
from moderation.models import Report
from moderation.services import report_create, report_warn
from newsletter.emails import issue_message, issue_render, unsubscribe_url
from notifications.models import Channel, Kind, Preference, week_of
from notifications.tasks import digest_send
from rooms.models import Room
from rooms.services import message_post, room_enter
from tests import test_allauth_emails as account
from tests.conftest import ROOT
from tests.factories import (
    GroupFactory,
    GroupMemberFactory,
    IssueFactory,
    RoomFactory,
    RoundFactory,
    SubscriberFactory,
    UserFactory,
    onboarded_member,
)

# Tasks send outside any transaction (core.emails.send_once refuses to run inside one).
with_tasks = pytest.mark.django_db(transaction=True)

LANGUAGES = ["es", "en"]
MEMBER = {"es": "Lucía Medina", "en": "Emma Brown"}


# Reading what a person reads ---------------------------------------------------------------

# Tags that do not break a line: their text runs on with its neighbours' ("<strong>Ana</strong>
# joined" reads "Ana joined"); any other tag separates words.
INLINE = {"a", "abbr", "b", "bdi", "cite", "code", "em", "i", "mark", "q", "s", "small", "span"}
INLINE |= {"strong", "sub", "sup", "time", "u"}


class _Reader(HTMLParser):
    """The text of a page as a person reads it (not scripts or styles), and, apart, the
    values of its attributes (alt texts, labels, titles, links)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.attributes: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        if tag not in INLINE:
            self.text.append(" ")
        self.attributes.extend(value for _, value in attrs if value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1
        if tag not in INLINE:
            self.text.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def words(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Rendered:
    """One email or page: what it is, its readable text and its attribute values."""

    name: str
    text: str
    attributes: str
    spanish: bool


def rendered_html(name: str, markup: str, *, spanish: bool, also: str = "") -> Rendered:
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    return Rendered(
        name=name,
        text=words(f"{also} {''.join(reader.text)}"),
        attributes="\n".join(reader.attributes),
        spanish=spanish,
    )


def rendered_email(name: str, message: EmailMultiAlternatives) -> Rendered:
    """The subject, the text part and the HTML part's text, which must all read well."""
    (markup, mimetype), *_ = message.alternatives
    assert mimetype == "text/html", name
    to = ", ".join(message.to)
    return rendered_html(
        f"{name} email to {to}",
        str(markup),
        spanish='<html lang="es">' in str(markup),
        also=f"{message.subject}\n{message.body}",
    )


# What must never show ----------------------------------------------------------------------

REPRS = ("<User:", "[<")
# "None" on its own: not inside a word ("Nonetheless") or a name.
NONE = re.compile(r"(?<![\w-])None(?![\w-])")


def _around(text: str, start: int, end: int) -> str:
    return f"…{text[max(0, start - 60) : end + 60]}…"


def reprs_and_nones(item: Rendered) -> list[str]:
    found = []
    for needle in REPRS:
        for where, text in (("text", item.text), ("an attribute", item.attributes)):
            at = text.find(needle)
            if at >= 0:
                found.append(f"{item.name}: {needle!r} in {where}: {_around(text, at, at)}")
    found.extend(
        f"{item.name}: 'None' in the text: {_around(item.text, match.start(), match.end())}"
        for match in NONE.finditer(item.text)
    )
    return found


# English the Spanish catalogue translates --------------------------------------------------

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
TAG = re.compile(r"<(/?)(\w+)[^>]*>")
EDGES = " \t\n.,:;!?¿¡()[]\"'“”‘’«»-–—…·"


def _readable(msgid: str) -> str:
    """A msgid as it reads once rendered: tags gone (separating words unless inline),
    entities resolved."""
    text = TAG.sub(lambda match: "" if match.group(2) in INLINE else " ", msgid)
    return html.unescape(text.replace("%%", "%"))


@dataclass(frozen=True)
class Phrase:
    """A stretch of English of at least three words, from a msgid that Spanish translates."""

    msgid: str
    text: str
    pattern: re.Pattern[str] = field(compare=False)


@cache
def english_phrases() -> list[Phrase]:
    """The pieces of each translated msgid between its placeholders, of three words or more:
    any of them in a Spanish page or email was left in English. Pieces that the Spanish
    keeps as they are (a name, a URL) are left out."""
    po = polib.pofile(str(ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    phrases = []
    for entry in po:
        if entry.obsolete or not entry.msgid:
            continue
        if entry.msgid_plural:
            pairs = [(entry.msgid, entry.msgstr_plural.get(0, ""))]
            pairs.append((entry.msgid_plural, entry.msgstr_plural.get(1, "")))
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for msgid, msgstr in pairs:
            if msgstr == msgid:
                continue
            spanish = words(_readable(msgstr))
            for piece in PLACEHOLDER.split(_readable(msgid)):
                text = words(piece).strip(EDGES)
                if len(text.split()) < 3 or text in spanish:
                    continue
                start = r"\b" if text[0].isalnum() else ""
                end = r"\b" if text[-1].isalnum() else ""
                pattern = re.compile(start + re.escape(text) + end)
                phrases.append(Phrase(msgid=msgid, text=text, pattern=pattern))
    return phrases


def english_left(item: Rendered) -> list[str]:
    msgids = {phrase.msgid for phrase in english_phrases() if phrase.pattern.search(item.text)}
    return [f"{item.name}: untranslated {msgid!r}" for msgid in sorted(msgids)]


# The community --------------------------------------------------------------------------


class Inbox:
    """The emails sent so far, each named after what sent it."""

    def __init__(self) -> None:
        self.read = 0
        self.emails: list[tuple[str, EmailMultiAlternatives]] = []

    def take(self, name: str) -> None:
        new = mail.outbox[self.read :]
        assert new, f"{name}: no email was sent"
        self.read = len(mail.outbox)
        self.emails.extend((name, message) for message in new)  # type: ignore[misc]


@dataclass
class Community:
    member: User
    partner: User
    room: Room
    event: Event
    seat: GroupMember
    inbox: Inbox


def _in_days(days: int, hour: int = 17) -> datetime:
    return (timezone.now() + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def _event_change(event: Event, by: User, **changes: Any) -> Event:
    fields = {
        name: getattr(event, name)
        for name in ("title", "description", "starts_at", "ends_at", "time_zone", "capacity")
    }
    return event_update(event=event, by=by, room=event.room, **{**fields, **changes})


def community(language: str) -> Community:
    """A member writing in `language` (emails and browser) among Spanish speakers, who gets
    every email the site sends, each from what sends it in real life."""
    # The migration's cafeteria is gone after an earlier test that flushed the database.
    Room.objects.get_or_create(
        slug="cafeteria", defaults={"kind": "cafeteria", "name": "Cafeteria"}
    )
    inbox = Inbox()
    member = onboarded_member(
        MEMBER[language],
        email=f"{language}@example.com",
        language=language,
        languages=("es", "en"),
        interests=("Fotografía", "Python"),
        headline="Fotógrafa y desarrolladora",
    )
    camila = onboarded_member(
        "Camila Medina",
        email="camila@example.com",
        interests=("Python", "Ciclismo"),
        headline="Diseñadora de producto",
        is_staff=True,
    )
    tomas = onboarded_member(
        "Tomás Ruiz", email="tomas@example.com", languages=("es", "en"), interests=("Fotografía",)
    )
    staff = UserFactory.create(display_name="Sam Staff", is_staff=True)

    # Coffee pairs: nobody left two weeks ago, a trio now, "did you meet?", a pause.
    earlier = RoundFactory.create(scheduled_for=timezone.now() - timedelta(days=15))
    unmatched = Unmatched.objects.create(round=earlier, user=member)
    matching_tasks.unmatched_notice_send(unmatched.pk)
    inbox.take("no coffee pair")
    group = GroupFactory.create(round=RoundFactory.create())
    seat = GroupMemberFactory.create(group=group, user=member)
    for other in (camila, tomas):
        GroupMemberFactory.create(group=group, user=other)
    matching_tasks.intro_send(seat.pk)
    inbox.take("coffee intro")
    matching_tasks.follow_up_send(seat.pk)
    inbox.take("did you meet")
    participation = participation_get_or_create(programme=group.round.programme, user=member)
    participation_auto_pause(participation=participation, notify=True)
    inbox.take("coffee pairs paused")
    participation_resume(participation=participation)

    # Events: reminders, a change, a seat from the waiting list, a cancellation.
    event = event_create(
        by=camila,
        kind=EventKind.MEETUP,
        title="Café de fotografía",
        description="Trae tus mejores fotos del mes.",
        starts_at=_in_days(2),
        ends_at=_in_days(2, hour=18),
        time_zone="America/Bogota",
    )
    rsvp = rsvp_set(event=event, user=member, status=Rsvp.Status.GOING).rsvp
    reminder_send(rsvp.pk, "day")
    inbox.take("reminder the day before")
    reminder_send(rsvp.pk, "soon")
    inbox.take("reminder just before")
    event = _event_change(event, camila, starts_at=_in_days(3), ends_at=_in_days(3, hour=18))
    inbox.take("event changed")
    full = event_create(
        by=camila,
        kind=EventKind.TRAINING,
        title="Taller de facturación",
        starts_at=_in_days(4),
        ends_at=_in_days(4, hour=19),
        time_zone="Europe/Madrid",
        capacity=1,
    )
    rsvp_set(event=full, user=member, status=Rsvp.Status.GOING)
    _event_change(full, camila, capacity=2)
    inbox.take("seat from the waiting list")
    called_off = event_create(
        by=camila,
        kind=EventKind.MEETUP,
        title="Paseo en bici",
        starts_at=_in_days(5),
        ends_at=_in_days(5, hour=19),
        time_zone="Europe/Madrid",
    )
    rsvp_set(event=called_off, user=member, status=Rsvp.Status.GOING)
    event_cancel(event=called_off, by=camila)
    inbox.take("event cancelled")

    # A room: a mention by email, then one for the digest.
    room = RoomFactory.create(name="Sala de diseño", slug="sala-de-diseno", created_by=camila)
    for person in (member, camila):
        room_enter(room=room, user=person)
    text = f"@{member.display_name} ¿te vienes al café de las cinco?"
    message_post(room=room, author=camila, text=text, client_id=uuid.uuid4())
    inbox.take("mention")
    Preference.objects.create(user=member, kind=Kind.MENTION, channel=Channel.DIGEST)
    text = f"@{member.display_name} te dejé el enlace del taller"
    message_post(room=room, author=camila, text=text, client_id=uuid.uuid4())
    digest_send(member.pk, week_of(timezone.localdate()).isoformat())
    inbox.take("weekly digest")

    # A warning from the community team.
    report = report_create(
        reporter=camila, reported=member, reason=Report.Reason.SPAM, details="Mismo anuncio."
    )
    report_warn(report=report, by=staff)
    inbox.take("warning")

    # The newsletter: subscribing from the site, and an issue.
    Client(HTTP_ACCEPT_LANGUAGE=language).post(
        "/newsletter/",
        {"email": "lectora@example.com", "language": language, "consent": "on"},
    )
    inbox.take("newsletter confirmation")

    # The account: what allauth sends, in the language of the browser.
    account.sign_up(language)
    inbox.take("sign-up confirmation")
    account.reset_password(language, member)
    inbox.take("password reset")
    account.reset_unknown(language)
    inbox.take("reset for an unknown address")
    account.change_email(language, member, new=f"nuevo-{language}@example.com")
    inbox.take("new address confirmation")
    account.sign_up_again(language, camila)
    inbox.take("sign-up with a taken address")

    return Community(member=member, partner=camila, room=room, event=event, seat=seat, inbox=inbox)


def newsletter_issue(language: str) -> EmailMultiAlternatives:
    issue = IssueFactory.create(
        subject="Novedades de la comunidad",
        body_markdown="Hola a **todas** y **todos**.\n\n- Salas nuevas\n- Más eventos\n",
    )
    subscriber = SubscriberFactory.create(language=language)
    return issue_message(
        rendered=issue_render(issue=issue, language=language),
        to=subscriber.email,
        unsubscribe=unsubscribe_url(subscriber_id=subscriber.pk),
    )


def emails(language: str) -> Iterator[Rendered]:
    world = community(language)
    for name, message in world.inbox.emails:
        yield rendered_email(name, message)
    yield rendered_email("newsletter issue", newsletter_issue(language))


def pages(language: str) -> Iterator[Rendered]:
    world = community(language)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(world.member)
    paths = [
        "/",
        "/members/",
        f"/members/{world.partner.pk}/",
        f"/members/{world.member.pk}/",
        "/members/me/edit/",
        "/members/me/met/",
        "/events/",
        world.event.get_absolute_url(),
        "/rooms/",
        f"/rooms/{world.room.slug}/",
        "/pairs/",
        links.answer_url(seat_id=world.seat.pk, answer=Answer.MET),
        "/notifications/",
        "/notifications/settings/",
        "/newsletter/",
        "/guidelines/",
        "/privacy/",
        "/accounts/email/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Language"] == language, path
        yield rendered_html(f"page {path}", response.content.decode(), spanish=language == "es")


# The tests -------------------------------------------------------------------------------


@with_tasks
@pytest.mark.parametrize("language", LANGUAGES)
def test_emails_name_people_and_never_show_a_repr_or_none(language: str) -> None:
    found = [problem for item in emails(language) for problem in reprs_and_nones(item)]

    assert not found, "\n".join(found)


@with_tasks
@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_name_people_and_never_show_a_repr_or_none(language: str) -> None:
    found = [problem for item in pages(language) for problem in reprs_and_nones(item)]

    assert not found, "\n".join(found)


@with_tasks
def test_emails_in_spanish_leave_no_english_behind() -> None:
    spanish = [item for item in emails("es") if item.spanish]

    assert len(spanish) >= 17, [item.name for item in spanish]
    found = [problem for item in spanish for problem in english_left(item)]
    assert not found, "\n".join(found)


@with_tasks
def test_pages_in_spanish_leave_no_english_behind() -> None:
    found = [problem for item in pages("es") for problem in english_left(item)]

    assert not found, "\n".join(found)


def test_the_checks_catch_what_they_look_for() -> None:
    """The scanners themselves: a repr, a None and an English sentence are found, in text
    and attributes as it should be, and Spanish text, names or a None attribute are not."""
    sentence = next(phrase.text for phrase in english_phrases() if len(phrase.text) > 30)
    bad = rendered_html(
        "bad",
        f'<p>Ana y [&lt;User: Ben&gt;]</p><img alt="<User: Ana>"><p>Ciudad: <b>None</b></p>'
        f"<p>{sentence}</p>",
        spanish=True,
    )
    good = rendered_html(
        "good",
        '<p>Ana y Ben, <strong>Nonell</strong></p><input value="None" data-x="None">'
        "<p>Hola, ¿qué tal?</p>",
        spanish=True,
    )

    assert len(reprs_and_nones(bad)) == 4  # "<User:" and "[<" in the text, one in alt, None
    assert english_left(bad) != []
    assert reprs_and_nones(good) == []
    assert english_left(good) == []
