"""What is kept how long (docs/privacy.md, "How long things are kept"): each app's daily
task deletes what its retention module names, and nothing else."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.utils import timezone

from members import tasks as members_tasks
from members.models import User
from newsletter import tasks as newsletter_tasks
from newsletter.models import Subscriber
from notifications import tasks as notifications_tasks
from notifications.models import Digest, Kind, Notification, week_of
from rooms import tasks as rooms_tasks
from rooms.models import Visit
from tests.factories import RoomFactory, SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def test_ended_sessions_go_with_allauth_s_record_of_their_address_and_browser() -> None:
    ana = UserFactory.create()
    now = timezone.now()
    for key, expires in (("ended", now - DAY), ("alive", now + DAY)):
        Session.objects.create(session_key=key, session_data="", expire_date=expires)
        UserSession.objects.create(user=ana, session_key=key, ip="203.0.113.7", user_agent="Fx")

    members_tasks.retention_tick()

    assert list(Session.objects.values_list("session_key", flat=True)) == ["alive"]
    assert list(UserSession.objects.values_list("session_key", flat=True)) == ["alive"]


def test_a_sign_up_never_confirmed_goes_after_a_month_and_nobody_else() -> None:
    month_ago = timezone.now() - 31 * DAY

    def signed_up(email: str, *, verified: bool, **fields: object) -> User:
        user = UserFactory.create(email=email, date_joined=fields.pop("joined", month_ago))
        User.objects.filter(pk=user.pk).update(**fields)
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": verified, "primary": True}
        )
        return user

    signed_up("nadie@example.com", verified=False, last_login=None)
    signed_up("ana@example.com", verified=True, last_login=None)
    signed_up("reciente@example.com", verified=False, last_login=None, joined=timezone.now())
    signed_up("entro@example.com", verified=False, last_login=month_ago)
    signed_up("staff@example.com", verified=False, last_login=None, is_staff=True)
    # Made by staff in the admin: no address recorded by a sign-up.
    made_by_staff = UserFactory.create(email="guest@example.com", date_joined=month_ago)
    User.objects.filter(pk=made_by_staff.pk).update(last_login=None)
    EmailAddress.objects.filter(user=made_by_staff).delete()

    members_tasks.retention_tick()

    assert sorted(User.objects.values_list("email", flat=True)) == [
        "ana@example.com",
        "entro@example.com",
        "guest@example.com",
        "reciente@example.com",
        "staff@example.com",
    ]


def test_notices_go_three_months_after_being_read_or_a_year_unread_unless_held() -> None:
    ana = UserFactory.create()
    now = timezone.now()

    def notice(key: str, age_days: int, **fields: object) -> None:
        Notification.objects.create(
            user=ana,
            kind=Kind.MESSAGE,
            key=key,
            text=key,
            created_at=now - age_days * DAY,
            **fields,
        )

    notice("read-old", 91, read_at=now - 90 * DAY)
    notice("email-only-old", 91, in_app=False)
    notice("unread-old", 91)
    notice("unread-ancient", 366)
    notice("held-ancient", 366, held_until=now + DAY)
    notice("read-recent", 30, read_at=now - 29 * DAY)
    Digest.objects.create(user=ana, week=week_of(now.date()), created_at=now - 9 * 7 * DAY)
    Digest.objects.create(user=ana, week=week_of((now - 7 * DAY).date()))

    notifications_tasks.retention_tick()

    assert sorted(Notification.objects.values_list("key", flat=True)) == [
        "held-ancient",
        "read-recent",
        "unread-old",
    ]
    assert Digest.objects.count() == 1


def test_visits_are_kept_a_year() -> None:
    room, ana = RoomFactory.create(), UserFactory.create()
    now = timezone.now()
    for age in (366, 364):
        Visit.objects.create(
            room=room, user=ana, started_at=now - age * DAY, ended_at=now - age * DAY
        )

    rooms_tasks.retention_tick()

    [kept] = Visit.objects.all()
    assert kept.ended_at == now - 364 * DAY


def test_a_subscription_nobody_confirmed_goes_after_a_month() -> None:
    month_ago = timezone.now() - 31 * DAY

    def asked(email: str, status: str, **fields: object) -> None:
        SubscriberFactory.create(
            email=email, status=status, requested_at=fields.pop("at", month_ago), **fields
        )

    asked("nobody-confirmed@example.org", "pending", confirmed_at=None)
    asked("asked-this-week@example.org", "pending", confirmed_at=None, at=timezone.now())
    asked("reader@example.org", "confirmed")
    asked("left@example.org", "unsubscribed")
    # Asked again after a bounce, by anyone, and left unconfirmed: its record of the bounce
    # keeps issues from going there.
    asked("bounced@example.org", "pending", confirmed_at=None, undeliverable_at=month_ago)
    asked("read-before@example.org", "pending", confirmed_at=month_ago - 30 * DAY)

    newsletter_tasks.retention_tick()

    assert sorted(Subscriber.objects.values_list("email", flat=True)) == [
        "asked-this-week@example.org",
        "bounced@example.org",
        "left@example.org",
        "read-before@example.org",
        "reader@example.org",
    ]
