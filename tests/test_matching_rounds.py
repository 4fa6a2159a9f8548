"""Rounds end to end on PostgreSQL and Redis: due-ness, idempotency, emails, follow-ups."""

import re
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.formats import date_format

from conversations.models import Conversation
from matching import links, services, tasks
from matching.apps import COMMUNITY_SLUG
from matching.models import Group, GroupMember, Participation, Programme, Round, Unmatched
from matching.schedule import next_round_for
from matching.starters import starter_for
from members import services as member_services
from members.models import Acquaintance, Block, Language, User
from notifications.models import Kind, Notification
from tests.conftest import SmtpSink
from tests.factories import ProfileFactory, UserFactory

pytest.importorskip("matching.solver")

# Monday 2026-11-23 09:00 in Madrid is 08:00 UTC.
SLOT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def community() -> Programme:
    return Programme.objects.get(slug=COMMUNITY_SLUG)


def participant(
    *,
    zone: str = "Europe/Madrid",
    languages: tuple[str, ...] = ("es",),
    opted_in: bool = True,
    **user_fields: object,
) -> User:
    user = UserFactory.create(time_zone=zone, **user_fields)
    member_services.profile_update(
        profile=ProfileFactory.create(user=user),
        languages=Language.objects.filter(code__in=languages),
        interests=member_services.interests_from_names(names=["Café"]),
        complete_onboarding=True,
    )
    Participation.objects.create(programme=community(), user=user, opted_in=opted_in)
    return user


def seats_by_user(round_: Round) -> dict[int, GroupMember]:
    return {seat.user_id: seat for seat in round_.seats.all()}


@pytest.mark.django_db
def test_the_community_programme_is_due_every_other_monday_at_nine_in_madrid() -> None:
    programme = community()

    assert programme.latest_slot(SLOT - timedelta(minutes=1)) == SLOT - timedelta(days=14)
    assert programme.latest_slot(SLOT) == SLOT
    assert programme.latest_slot(SLOT + timedelta(days=13)) == SLOT
    # Summer time: 09:00 in Madrid is 07:00 UTC.
    assert programme.latest_slot(datetime(2026, 6, 22, 7, 0, tzinfo=UTC)) == datetime(
        2026, 6, 22, 7, 0, tzinfo=UTC
    )


@pytest.mark.django_db
def test_a_due_round_starts_once_and_pairs_only_eligible_members() -> None:
    members = [participant() for _ in range(5)]
    out = participant(opted_in=False)
    paused = participant()
    Participation.objects.filter(user=paused).update(paused_until=date(2026, 12, 1))
    skipping = participant()
    Participation.objects.filter(user=skipping).update(skip_next_round=True)
    unverified = participant(verified=False)
    inactive = participant(is_active=False)

    assert services.rounds_start_due(now=SLOT - timedelta(minutes=5)) == []
    started = services.rounds_start_due(now=SLOT + timedelta(minutes=3))
    again = services.rounds_start_due(now=SLOT + timedelta(minutes=8))

    assert len(started) == 1 and again == []
    round_ = started[0]
    seated = set(seats_by_user(round_))
    assert seated == {member.pk for member in members}
    assert not seated & {out.pk, paused.pk, skipping.pk, unverified.pk, inactive.pk}
    assert sorted(len(group.members.all()) for group in round_.groups.all()) == [2, 3]
    assert not Participation.objects.get(user=skipping).skip_next_round
    assert Acquaintance.objects.filter(owner=members[0]).exists()


@pytest.mark.django_db(transaction=True)
def test_a_skip_asked_while_the_round_is_planned_holds_for_the_round_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    members = [participant() for _ in range(4)]
    asks_late = members[0]
    plan = services.round_plan

    def planned_then_a_skip_is_saved(**kwargs: Any) -> services.Plan:
        planned = plan(**kwargs)

        def skip() -> None:  # the member's settings page, saved meanwhile
            try:
                participation = Participation.objects.select_related("programme").get(
                    programme=community(), user=asks_late
                )
                services.participation_update(
                    participation=participation,
                    opted_in=True,
                    skip_next_round=True,
                    paused_until=None,
                )
            finally:
                connection.close()

        thread = threading.Thread(target=skip)
        thread.start()
        thread.join()
        return planned

    monkeypatch.setattr(services, "round_plan", planned_then_a_skip_is_saved)
    round_, _created = services.round_create(programme=community(), scheduled_for=SLOT)

    assert GroupMember.objects.filter(round=round_, user=asks_late).exists()  # planned before
    assert Participation.objects.get(user=asks_late).skip_next_round


@pytest.mark.django_db
def test_a_slot_missed_by_more_than_a_day_is_not_run_late() -> None:
    participant(), participant()

    assert services.rounds_start_due(now=SLOT + timedelta(days=2)) == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_starts_make_one_round_and_one_seat_per_member() -> None:
    for _ in range(8):
        participant()
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def start() -> None:
        barrier.wait()
        try:
            _, created = services.round_create(programme=community(), scheduled_for=SLOT)
            results.append(created)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False, True]
    assert Round.objects.count() == 1
    assert GroupMember.objects.count() == 8
    assert len(mail.outbox) == 8


@pytest.mark.django_db
def test_a_member_with_no_common_language_is_told_not_dropped(
    django_capture_on_commit_callbacks: Any,
) -> None:
    participant(), participant()
    loner = participant(languages=("zh",), language="en")

    with django_capture_on_commit_callbacks(execute=True):
        round_, _ = services.round_create(programme=community(), scheduled_for=SLOT)

    assert Unmatched.objects.get(round=round_).user == loner
    (told,) = [message for message in mail.outbox if message.to == [loner.email]]
    assert told.subject == "No coffee pair for you this round"
    # Why, in plain words, in the member's language, and the next chance.
    assert "nobody else taking part speaks a language you speak (Chinese)" in told.body
    assert "The others spoke mostly Spanish." in told.body
    assert "add it to your profile" in told.body
    next_round = next_round_for(Participation.objects.get(user=loner))
    assert next_round is not None
    with translation.override("en"):
        assert f"we try again on {date_format(next_round, 'l j F')}." in told.body
    # The page says the same, with where to add a language.
    client = Client()
    client.force_login(loner)
    page = client.get("/pairs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "nobody else taking part speaks a language you speak (Chinese)" in page
    assert 'href="/members/me/edit/#id_languages"' in page
    # Still the round's reason once the member has followed the advice, read without
    # counting the round's languages again.
    loner.profile.languages.add(Language.objects.get(code="es"))
    with CaptureQueriesContext(connection) as seen:
        page = client.get("/pairs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "nobody else taking part speaks a language you speak (Chinese)" in page
    assert not [q for q in seen.captured_queries if "UNION" in q["sql"]]
    # Out of the programme since: the page says so, not "you stay in the programme".
    Participation.objects.filter(user=loner).update(opted_in=False)
    page = client.get("/pairs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You are not taking part in coffee pairs" in page
    assert "You stay in the programme" not in page


@pytest.mark.django_db
def test_a_member_alone_in_a_round_is_told_there_was_nobody_else(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alone = participant(language="es")
    with django_capture_on_commit_callbacks(execute=True):
        services.round_create(programme=community(), scheduled_for=SLOT)
    (told,) = [message for message in mail.outbox if message.to == [alone.email]]
    assert "nadie más participaba" in told.body
    assert "lo intentamos de nuevo el " in told.body
    # Nobody else takes part: "pair me now" could find nobody either, so it is not offered.
    assert "¿No quieres esperar?" not in told.body
    # The notice and the page give the same reason, and the page the next try's date.
    (notice,) = Notification.objects.filter(user=alone)
    assert notice.text == "En esta ronda no tienes café en pareja: nadie más participaba."
    client = Client()
    client.force_login(alone)
    page = client.get("/pairs/").content.decode()
    assert "En esta ronda nadie más participaba" in page
    next_round = next_round_for(Participation.objects.get(user=alone))
    assert next_round is not None
    with translation.override("es"):
        assert f"lo intentamos de nuevo el {date_format(next_round, r'l j \d\e F')}." in page


@pytest.mark.django_db
def test_who_had_to_wait_goes_first_next_round(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Bea blocked Carlos, so only one of them can have Ana: whoever waited this round is
    told so, offered a coffee this week, and placed in the next round."""
    ana = participant(language="en")
    bea, carlos = participant(language="en"), participant(language="en")
    Block.objects.create(blocker=bea, blocked=carlos)

    with django_capture_on_commit_callbacks(execute=True):
        first, _ = services.round_create(programme=community(), scheduled_for=SLOT)
    waited = Unmatched.objects.get(round=first).user
    second, _ = services.round_create(
        programme=community(), scheduled_for=SLOT + timedelta(days=14)
    )

    assert waited in (bea, carlos)
    (told,) = [message for message in mail.outbox if message.to == [waited.email]]
    assert "nobody who was taking part could be paired with you" in told.body
    assert "Don't want to wait?" in told.body
    (notice,) = Notification.objects.filter(user=waited)
    assert notice.text == (
        "No coffee pair for you this round: nobody taking part could be paired with you."
    )
    assert "And you go first" in told.body
    assert "Ask for a coffee this week on your coffee pairs page: http" in told.body
    assert [seat.user for seat in second.seats.order_by("user_id")] == sorted(
        [ana, waited], key=lambda user: user.pk
    )
    assert Unmatched.objects.get(round=second).user == ({bea, carlos} - {waited}).pop()


@pytest.mark.django_db
def test_nobody_meets_the_same_person_again_while_others_remain() -> None:
    # Three rounds of six: after two, everyone still has three unmet partners and a
    # repeat-free pairing always exists, so the solver must find it.
    members = [participant() for _ in range(6)]
    met: set[frozenset[int]] = set()
    for number in range(3):
        round_, _ = services.round_create(
            programme=community(), scheduled_for=SLOT + timedelta(days=14 * number)
        )
        pairs = {
            frozenset(seat.user_id for seat in group.members.all()) for group in round_.groups.all()
        }
        assert not pairs & met, f"repeat in round {number + 1}"
        met |= pairs
    assert len(met) == 9 == len(members) * 3 // 2


@pytest.mark.django_db
def test_blocked_members_are_never_paired() -> None:
    first, second = participant(), participant()
    participant(), participant()
    member_services.block_create(blocker=first, blocked=second)

    for number in range(3):
        round_, _ = services.round_create(
            programme=community(), scheduled_for=SLOT + timedelta(days=14 * number)
        )
        for group in round_.groups.all():
            assert {first.pk, second.pk} - {seat.user_id for seat in group.members.all()}


@pytest.mark.django_db
def test_intros_reach_a_real_smtp_server_once_in_each_language(
    smtp_server: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ana = participant(
        email="ana@example.com",
        display_name="Ana O'Hara & Co",
        language="es",
        zone="Europe/Madrid",
        languages=("es", "en"),
    )
    participant(
        email="ben@example.com",
        display_name="Ben",
        language="en",
        zone="America/Mexico_City",
        languages=("en",),
    )
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": smtp_server.port,
    }
    smtp_server.messages.clear()

    with override_settings(**smtp), django_capture_on_commit_callbacks(execute=True):
        round_, _ = services.round_create(programme=community(), scheduled_for=SLOT)
    with override_settings(**smtp):
        seats = seats_by_user(round_)
        tasks.intro_send(seats[ana.pk].pk)  # a redelivered task: nothing more is sent

    to_ana = smtp_server.wait_for("ana@example.com")
    to_ben = smtp_server.wait_for("ben@example.com")
    assert len(smtp_server.messages) == 2
    assert "Ben" in str(to_ana["Subject"])
    # Plain text stays plain (no HTML entities); the HTML part is escaped.
    assert str(to_ben["Subject"]) == "Your coffee pair: Ana O'Hara & Co"
    # Nobody's address goes to a partner: they write to each other on the site.
    assert to_ben["Reply-To"] is None and "ana@example.com" not in str(to_ben)
    body = to_ben.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    # Ana works 09:00-17:00 in Madrid, Ben 09:00-17:00 in Mexico City: they share
    # 09:00-10:00 for Ben, which is 16:00-17:00 for Ana.
    assert "- Monday 09:00–10:00 · Ana O'Hara & Co: Monday 16:00–17:00" in body
    html = to_ben.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "Ana O&#x27;Hara &amp; Co" in html
    # One partner: "Escríbele", not the plural.
    to_ana_text = to_ana.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Escríbele en la conversación del café" in to_ana_text
    assert all(seat.intro_sent_at for seat in GroupMember.objects.filter(round=round_))


@pytest.mark.django_db
def test_an_intro_without_shared_interests_says_what_each_does_and_how_to_start(
    django_capture_on_commit_callbacks: Any,
) -> None:
    ana = participant(email="ana@example.com", display_name="Ana", language="en")
    ben = participant(email="ben@example.com", display_name="Ben", language="en")
    for user, headline, interests in (
        (ana, "Illustrator of children's books", ["Drawing"]),
        (ben, "Backend developer", ["Go"]),
    ):
        user.profile.headline = headline
        user.profile.open_to_clients = True
        user.profile.open_to_chat = user == ben
        member_services.profile_update(
            profile=user.profile, interests=member_services.interests_from_names(names=interests)
        )

    with django_capture_on_commit_callbacks(execute=True):
        round_, _ = services.round_create(programme=community(), scheduled_for=SLOT)

    to_ana = next(m for m in mail.outbox if m.to == [ana.email])
    to_ben = next(m for m in mail.outbox if m.to == [ben.email])
    assert isinstance(to_ana, EmailMultiAlternatives) and isinstance(to_ben, EmailMultiAlternatives)
    with translation.override("en"):  # the language of both emails
        starter = str(starter_for(round_.groups.get().pk))
    for message, partner, open_to in (
        (to_ana, "Backend developer", "Open to: Finding clients, Just chatting"),
        (to_ben, "Illustrator of children&#x27;s books", "Open to: Finding clients"),
    ):
        text, html = str(message.body), str(message.alternatives[0][0])
        assert partner.replace("&#x27;", "'") in text and partner in html
        assert open_to in text and open_to in html
        # One question for the group: both read the same one.
        assert f"A question to start with: {starter}" in text
        assert f"A question to start with:</strong> {starter}" in html
        assert "You both like" not in text


@pytest.mark.django_db
def test_a_failed_intro_is_retried_and_then_sent(smtp_server: SmtpSink) -> None:
    participant(), participant()
    round_, _ = services.round_create(programme=community(), scheduled_for=SLOT)
    seat = round_.seats.first()
    assert seat is not None
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
    }

    with override_settings(**smtp, EMAIL_PORT=1):  # nothing listens there
        result = tasks.intro_send.apply(
            args=[seat.pk], retries=tasks.RETRY["max_retries"], throw=False
        )
    seat.refresh_from_db()
    assert result.failed()
    assert seat.intro_sent_at is None and seat.intro_attempts == 1

    with override_settings(**smtp, EMAIL_PORT=smtp_server.port):
        tasks.intro_send(seat.pk)

    seat.refresh_from_db()
    assert seat.intro_sent_at is not None


@pytest.mark.django_db
def test_the_follow_up_asks_once_and_its_links_answer_without_login(
    django_capture_on_commit_callbacks: Any,
) -> None:
    participant(), participant()
    with django_capture_on_commit_callbacks(execute=True):
        services.round_create(programme=community(), scheduled_for=SLOT)
    mail.outbox.clear()

    assert services.follow_ups_due(now=SLOT + timedelta(days=4)) == []
    due = services.follow_ups_due(now=SLOT + timedelta(days=5, hours=1))
    assert len(due) == 2
    for seat_id in due + due:
        tasks.follow_up_send(seat_id)
    assert len(mail.outbox) == 2

    seat = GroupMember.objects.get(pk=due[0])
    partner = GroupMember.objects.exclude(pk=seat.pk).get(group=seat.group).user
    message = next(m for m in mail.outbox if m.to == [seat.user.email])
    assert isinstance(message, EmailMultiAlternatives)
    text, html = str(message.body), str(message.alternatives[0][0])
    # The partner by name in both parts, never a list's repr.
    assert f"{partner.name}." in text and "<User" not in text
    assert partner.name in html
    # The links carry a signed timestamp, so read them from the email rather than rebuild them.
    tokens = re.findall(r"/pairs/answer/([^/\s]+)/", text)
    answers = [links.answer_from_token(token) for token in tokens]
    assert (seat.pk, "met") in answers
    assert {seat_id for seat_id, _ in answers} == {seat.pk}


@pytest.mark.django_db
def test_a_trio_is_named_in_words_in_each_members_language_never_as_a_list_of_users(
    django_capture_on_commit_callbacks: Any,
) -> None:
    names = {"Ana": "es", "Ben": "en", "Camila Medina": "en"}
    for name, language in names.items():
        participant(display_name=name, language=language, email=f"{name[:3].lower()}@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        round_, _ = services.round_create(programme=community(), scheduled_for=SLOT)
    for seat in round_.seats.all():
        tasks.follow_up_send(seat.pk)

    assert len(mail.outbox) == 6  # an intro and a follow-up each
    for message in mail.outbox:
        assert isinstance(message, EmailMultiAlternatives)
        for part in (message.subject, str(message.body), str(message.alternatives[0][0])):
            assert "<User" not in part and "[<" not in part and "&lt;User" not in part
    follow_ups = {m.to[0]: str(m.body) for m in mail.outbox if "/pairs/answer/" in str(m.body)}
    assert "te presentamos a Ben y Camila Medina." in follow_ups["ana@example.com"]
    assert "we introduced you to Ana and Ben." in follow_ups["cam@example.com"]
    notices = {n.user.name: n.text for n in Notification.objects.filter(kind=Kind.PAIR_CREATED)}
    assert notices["Ben"] == (
        "Your coffee pair this round: Ana and Camila Medina. Agree on a time together."
    )
    assert ": Ben y Camila Medina." in notices["Ana"]


@pytest.mark.django_db
def test_a_programme_of_small_tables_seats_its_members_four_by_four(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Staff choose small tables: eight members make two tables of four, each told who the
    other three are, and each table has its conversation for four."""
    programme = community()
    programme.table_size = Programme.TableSize.SMALL_TABLES
    programme.save()
    members = [participant(language="en" if k % 2 else "es") for k in range(8)]

    with django_capture_on_commit_callbacks(execute=True):
        round_, _ = services.round_create(programme=programme, scheduled_for=SLOT)

    assert sorted(group.members.count() for group in round_.groups.all()) == [4, 4]
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert len(subjects) == 8
    for member in members:
        expected = "Your coffee table: " if member.language == "en" else "Tu mesa de café: "
        assert subjects[member.email].startswith(expected)
        assert subjects[member.email].count(",") == 1 and member.name not in subjects[member.email]


@pytest.mark.django_db
def test_members_who_ignore_three_intros_are_paused_and_told(
    django_capture_on_commit_callbacks: Any,
) -> None:
    ignorer, answerer = participant(), participant()
    for number in range(3):
        round_, _ = services.round_create(
            programme=community(), scheduled_for=SLOT + timedelta(days=14 * number)
        )
        GroupMember.objects.filter(round=round_).update(follow_up_sent_at=SLOT)
        services.answer_record(seat=round_.seats.get(user=answerer), answer="met")
    mail.outbox.clear()

    # The notice goes out once the pause commits.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.follow_ups_tick()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.follow_ups_tick()

    assert Participation.objects.get(user=ignorer).auto_paused
    assert not Participation.objects.get(user=answerer).auto_paused
    assert [message.to for message in mail.outbox] == [[ignorer.email]]
    next_round, _ = services.round_create(
        programme=community(), scheduled_for=SLOT + timedelta(days=42)
    )
    assert ignorer.pk not in seats_by_user(next_round)


@pytest.mark.django_db
def test_the_history_remembers_every_earlier_round_of_the_programme() -> None:
    """Pairs from the first year still count as met in the third (no cut at recent rounds),
    and who was in a trio, however long ago, is counted for the solver's turn at the trio."""
    a, b, c, d, e = (participant() for _ in range(5))
    programme = community()
    for ago in range(40, 0, -1):
        round_ = Round.objects.create(
            programme=programme, scheduled_for=SLOT - timedelta(days=14 * ago)
        )
        first, second = ((a, b), (c, d, e)) if ago == 40 else ((a, c), (b, d))
        for group_members in (first, second):
            group = Group.objects.create(round=round_)
            for user in group_members:
                GroupMember.objects.create(group=group, round=round_, user=user)

    history = services.pair_history(programme=programme, before=SLOT)

    assert history.pairs[(min(a.pk, b.pk), max(a.pk, b.pk))] == 40
    assert history.pairs[(min(a.pk, c.pk), max(a.pk, c.pk))] == 1
    assert history.pairs[(min(d.pk, e.pk), max(d.pk, e.pk))] == 40
    assert history.trios == {c.pk: 1, d.pk: 1, e.pk: 1}
    assert history.left_out == set()
    Unmatched.objects.create(round=Round.objects.latest("scheduled_for"), user=e)
    Unmatched.objects.create(round=Round.objects.earliest("scheduled_for"), user=a)
    assert services.pair_history(programme=programme, before=SLOT).left_out == {e.pk}


@pytest.mark.django_db
def test_the_follow_up_names_the_day_of_the_intro_in_the_member_s_zone(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # 03:00 UTC on Monday 2 March 2026: still Sunday the 1st in Mexico City.
    for name in ("Luis", "Ana"):
        participant(
            zone="America/Mexico_City",
            display_name=name,
            language="en",
            email=f"{name}@example.com",
        )
    with django_capture_on_commit_callbacks(execute=True):
        round_, _ = services.round_create(
            programme=community(), scheduled_for=datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
        )
    mail.outbox.clear()

    tasks.follow_up_send(round_.seats.get(user__display_name="Luis").pk)

    [follow_up] = mail.outbox
    assert "On 1 March 2026 we introduced you to Ana." in str(follow_up.body)


@pytest.mark.django_db
def test_a_round_whose_announcement_was_lost_is_announced_by_a_later_tick_once(
    smtp: SmtpSink,
) -> None:
    participant(email="ana@example.com"), participant(email="ben@example.com")
    participant(email="eva@example.com")  # three: one trio
    # The round commits and its worker dies before the after-commit work (in this test's
    # transaction, after-commit callbacks never run): no conversation, no intro queued.
    round_, _ = services.round_create(programme=community(), scheduled_for=SLOT)
    assert round_.announced_at is None

    # Its own announcement may still be under way: left alone.
    with time_machine.travel(round_.created_at + timedelta(minutes=5), tick=False):
        tasks.matching_tick()
    assert smtp.messages == [] and not Conversation.objects.exists()

    with time_machine.travel(round_.created_at + timedelta(minutes=11), tick=False):
        tasks.matching_tick()
        tasks.matching_tick()

    for address in ("ana@example.com", "ben@example.com", "eva@example.com"):
        smtp.wait_for(address)
    assert len(smtp.messages) == 3
    round_.refresh_from_db()
    assert round_.announced_at == round_.created_at + timedelta(minutes=11)
    assert Conversation.objects.count() == 1  # the trio's


@pytest.mark.django_db
def test_an_imported_past_round_is_never_announced(smtp: SmtpSink) -> None:
    participant(), participant()
    round_, _ = services.round_create(programme=community(), scheduled_for=SLOT, notify=False)

    with time_machine.travel(round_.created_at + timedelta(hours=1), tick=False):
        tasks.matching_tick()

    assert smtp.messages == [] and not Notification.objects.exists()
