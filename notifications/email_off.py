"""One-click "no more emails like this" (RFC 8058) for each kind of news a member chooses a
channel for: the List-Unsubscribe header of each such email (the apps' emails add
`email_off_headers`), and what its address does (`notifications.views.email_off`). The
news keeps coming on the site: only its emails stop, as the settings page would do with
"On the site only"."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from members.models import User
from notifications.digest import digest_off_headers
from notifications.models import Channel, Preference
from notifications.services import CONFIGURABLE, EMAILED, channel_for

EMAIL_OFF_SALT = "notifications.email-off"


def email_off_token(*, user_id: int, kind: str) -> str:
    return signing.dumps([user_id, kind], salt=EMAIL_OFF_SALT)


def email_off_token_read(token: str) -> tuple[int, str] | None:
    """(member id, kind) from a token `email_off_token` made, or None."""
    try:
        user_id, kind = signing.loads(token, salt=EMAIL_OFF_SALT)
        user_id = int(user_id)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return (user_id, kind) if kind in CONFIGURABLE else None


def email_off_headers(*, user: User, kind: str) -> dict[str, str]:
    """What lets a mail client offer "unsubscribe" next to an email telling `user` news of
    `kind`, and do it by a POST to the address."""
    token = email_off_token(user_id=user.pk, kind=kind)
    return digest_off_headers(settings.SITE_URL + reverse("notifications:email_off", args=[token]))


def emails_of_kind_on(*, user: User, kind: str) -> bool:
    return channel_for(user=user, kind=kind) in EMAILED


def emails_of_kind_off(*, user: User, kind: str) -> bool:
    """No more emails of `kind` for `user`: on the site only, their push choice kept. False
    when none were being sent (a second click, or an older email)."""
    if not emails_of_kind_on(user=user, kind=kind):
        return False
    Preference.objects.update_or_create(user=user, kind=kind, defaults={"channel": Channel.IN_APP})
    return True
