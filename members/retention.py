"""What members leave behind that nobody needs (docs/privacy.md, "How long things are kept"):
sessions that ended, and sign-ups never confirmed."""

from datetime import datetime, timedelta
from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef, Q

from core.retention import delete_in_batches
from members.models import User

# The confirmation link of a sign-up lasts ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS (3): an
# account nobody confirmed within a month holds an address that may not be its signer's.
UNCONFIRMED_SIGN_UP = timedelta(days=30)


def sign_up_unconfirmed() -> Q:
    """Accounts a sign-up made (it records their address, as allauth's EmailAddress) whose
    address nobody confirmed and which never signed in: nobody can sign in with them, and
    nobody is a member through them yet (the dashboard does not count them)."""
    addresses = EmailAddress.objects.filter(user=OuterRef("pk"))
    return (
        Q(Exists(addresses), last_login__isnull=True)
        & ~Q(Exists(addresses.filter(verified=True)))
        & Q(is_staff=False, is_superuser=False)
    )


def sessions_prune() -> int:
    """Expired sessions go (as `manage.py clearsessions` does), and with them allauth's
    record of each (its address and browser), which it otherwise drops only when the
    same member signs in again. Returns how many of allauth's records went."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
    alive = Session.objects.filter(session_key=OuterRef("session_key"))
    return delete_in_batches(UserSession.objects.exclude(Exists(alive)))


def sign_ups_unconfirmed_delete(*, now: datetime) -> int:
    """Accounts made by a sign-up whose address was never confirmed and which never signed
    in, a month on: without a confirmed address nobody could sign in with them, so nothing
    on the site is theirs. Only accounts a sign-up made (it records their address, as
    allauth's EmailAddress): not one staff made in the admin or with createsuperuser."""
    unconfirmed = User.objects.filter(
        sign_up_unconfirmed(), date_joined__lt=now - UNCONFIRMED_SIGN_UP, deleted_at__isnull=True
    )
    return delete_in_batches(unconfirmed, batch=500)
