"""What matching does when something happens in the apps below it."""

from typing import Any

from matching.services import community_opt_in_set
from members.models import User


def on_onboarding_completed(*, user: User, choices: dict[str, Any], **kwargs: Any) -> None:
    if "coffee_pairs" in choices:
        community_opt_in_set(user=user, opted_in=bool(choices["coffee_pairs"]))
