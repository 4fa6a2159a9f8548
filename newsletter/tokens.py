"""Signed tokens in newsletter links. Neither needs a session or a cookie: the signature
(SECRET_KEY) is the authentication, so one-click unsubscribe works from any mail client."""

from datetime import timedelta

from django.core import signing

CONFIRM_SALT = "newsletter.confirm"
UNSUBSCRIBE_SALT = "newsletter.unsubscribe"
# Long enough for someone who reads mail once a week; the link also works only once.
CONFIRM_MAX_AGE = timedelta(days=7)


def confirm_token(*, subscriber_id: int, nonce: str) -> str:
    return signing.dumps([subscriber_id, nonce], salt=CONFIRM_SALT)


def confirm_token_read(token: str) -> tuple[int, str] | None:
    """(subscriber id, nonce), or None when the token is forged or older than a week."""
    try:
        subscriber_id, nonce = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return int(subscriber_id), str(nonce)


def unsubscribe_token(*, subscriber_id: int) -> str:
    # No expiry: a link in a years-old issue must still let its reader leave.
    return signing.dumps(subscriber_id, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token_read(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=UNSUBSCRIBE_SALT))
    except (signing.BadSignature, ValueError, TypeError):
        return None
