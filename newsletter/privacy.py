"""Personal data of the newsletter app (the registry: members/privacy.py)."""

from members.models import User
from members.privacy import Deletion, personal_data_register
from newsletter.services import subscriptions_delete, subscriptions_export


def _delete(user: User) -> None:
    subscriptions_delete(user=user)


def register() -> None:
    personal_data_register(
        key="newsletter",
        # Issues name their staff author; the account stays as a former member.
        models=("newsletter.Subscriber", "newsletter.Delivery", "newsletter.Issue"),
        export=lambda user: subscriptions_export(user=user),
        delete=_delete,
        deletion=Deletion.ERASE,
        note="Subscriptions go with their delivery history; issues they wrote as staff stay.",
    )
