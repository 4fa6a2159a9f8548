"""Signed tokens in newsletter links. Neither needs a session or a cookie: the signature
(SECRET_KEY) is the authentication, so one-click unsubscribe works from any mail client."""

import base64
from collections.abc import Callable
from datetime import timedelta

from django.core import signing
from django.utils.crypto import salted_hmac

CONFIRM_SALT = "newsletter.confirm"
UNSUBSCRIBE_SALT = "newsletter.unsubscribe"
# Long enough for someone who reads mail once a week; the link also works only once.
CONFIRM_MAX_AGE = timedelta(days=7)


def confirm_token(*, subscriber_id: int, nonce: str) -> str:
    return signing.dumps([subscriber_id, nonce], salt=CONFIRM_SALT)


def confirm_token_read(token: str, *, any_age: bool = False) -> tuple[int, str] | None:
    """(subscriber id, nonce), or None when the token is forged or, unless `any_age`, older
    than a week."""
    max_age = None if any_age else CONFIRM_MAX_AGE
    try:
        subscriber_id, nonce = signing.loads(token, salt=CONFIRM_SALT, max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return int(subscriber_id), str(nonce)


def unsubscribe_token(*, subscriber_id: int) -> str:
    # No expiry: a link in a years-old issue must still let its reader leave.
    return signing.dumps(subscriber_id, salt=UNSUBSCRIBE_SALT)


def unsubscribe_tokens() -> Callable[[int], str]:
    """`unsubscribe_token` for many subscribers in a row, as a function of the id: the same
    tokens, byte for byte, with the signer's key derived once rather than per token (an
    issue signs one per recipient)."""
    signer = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT)
    # The HMAC keyed as `Signer.signature` keys it, before any message: copied per token.
    keyed = salted_hmac(UNSUBSCRIBE_SALT + "signer", b"", signer.key, algorithm=signer.algorithm)
    sep = signer.sep

    def token(subscriber_id: int) -> str:
        # What `signing.dumps` signs: the id serialised as JSON, then base64 without padding.
        payload = base64.urlsafe_b64encode(str(int(subscriber_id)).encode()).rstrip(b"=")
        value = f"{payload.decode()}{sep}{signer.timestamp()}"
        mac = keyed.copy()
        mac.update(value.encode())
        return f"{value}{sep}{signing.b64_encode(mac.digest()).decode()}"

    return token


def unsubscribe_token_read(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=UNSUBSCRIBE_SALT))
    except (signing.BadSignature, ValueError, TypeError):
        return None
