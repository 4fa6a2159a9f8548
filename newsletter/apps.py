from typing import TYPE_CHECKING, Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from allauth.account.models import EmailAddress

    from members.models import User


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = _("Newsletter")

    def ready(self) -> None:
        from allauth.account.signals import email_changed

        from newsletter import privacy

        privacy.register()
        email_changed.connect(_email_changed, dispatch_uid="newsletter_follows_email")


def _email_changed(
    sender: Any,
    user: "User",
    from_email_address: "EmailAddress | None",
    to_email_address: "EmailAddress",
    **kwargs: Any,
) -> None:
    from newsletter.services import subscription_follow_email

    if from_email_address is not None:
        subscription_follow_email(
            user=user, old=from_email_address.email, new=to_email_address.email
        )
