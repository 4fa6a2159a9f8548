"""Signed links in pairing emails: they work without logging in, only for their member."""

from datetime import UTC, datetime

from django.core import signing
from django.urls import reverse

ANSWER_SALT = "matching.answer"
RESUME_SALT = "matching.resume"
LINK_MAX_AGE = 60 * 24 * 3600  # two months: long after anyone still answers


def answer_url(*, seat_id: int, answer: str) -> str:
    token = signing.dumps({"seat": seat_id, "answer": answer}, salt=ANSWER_SALT, compress=True)
    return reverse("matching:answer", args=[token])


def answer_from_token(token: str) -> tuple[int, str]:
    """(seat id, answer); raises signing.BadSignature (or SignatureExpired) when forged."""
    data = signing.loads(token, salt=ANSWER_SALT, max_age=LINK_MAX_AGE)
    return int(data["seat"]), str(data["answer"])


def resume_url(*, participation_id: int) -> str:
    token = signing.dumps({"participation": participation_id}, salt=RESUME_SALT)
    return reverse("matching:resume", args=[token])


def participation_from_token(token: str) -> int:
    """No age limit: the pause lasts until the member resumes, however late they come back
    (those who let intros go unanswered are the ones who come back late), and the link only
    resumes their own participation, as often as it is opened."""
    return int(signing.loads(token, salt=RESUME_SALT)["participation"])


MEETING_SALT = "matching.meeting"
MEETING_ACTIONS = ("propose", "accept")


def meeting_url(*, seat_id: int, action: str, starts_at: datetime) -> str:
    """A link that proposes (or accepts) `starts_at` for the seat's member, after a click on
    the page it opens (mail scanners open links; only a POST changes anything)."""
    data = {"seat": seat_id, "do": action, "at": int(starts_at.timestamp())}
    token = signing.dumps(data, salt=MEETING_SALT, compress=True)
    return reverse("matching:meeting_link", args=[token])


def meeting_from_token(token: str) -> tuple[int, str, datetime]:
    """(seat id, action, start); raises signing.BadSignature (or SignatureExpired),
    KeyError or ValueError when forged."""
    data = signing.loads(token, salt=MEETING_SALT, max_age=LINK_MAX_AGE)
    action = str(data["do"])
    if action not in MEETING_ACTIONS:
        raise ValueError(action)
    return int(data["seat"]), action, datetime.fromtimestamp(int(data["at"]), tz=UTC)


RATING_SALT = "matching.rating"


def rating_url(*, seat_id: int, rating: int) -> str:
    """ "How was it?" with `rating` chosen, for the seat's member, without logging in."""
    token = signing.dumps({"seat": seat_id, "rating": rating}, salt=RATING_SALT, compress=True)
    return reverse("matching:rating", args=[token])


def rating_from_token(token: str) -> tuple[int, int]:
    data = signing.loads(token, salt=RATING_SALT, max_age=LINK_MAX_AGE)
    rating = int(data["rating"])
    if not 1 <= rating <= 5:
        raise ValueError(rating)
    return int(data["seat"]), rating
