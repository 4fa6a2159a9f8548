"""allauth's password-reset form, where an address another account only asked to move to (a
change not confirmed: maybe a typo, maybe someone else's) is not theirs."""

from functools import partial
from typing import Any

from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.account.models import EmailAddress
from django.db import transaction
from django.http import HttpRequest

from members.models import User
from members.selectors import account_suspended
from members.tasks import suspension_notice_again


class ResetPasswordForm(AllauthResetPasswordForm):
    users: list[Any]

    def save(self, request: HttpRequest, **kwargs: Any) -> str:
        email: str = self.cleaned_data["email"]
        suspended = None
        if not self.users:
            suspended = User.objects.filter(account_suspended(), email__iexact=email).first()
        if suspended is None:
            saved: str = super().save(request, **kwargs)
            return saved
        # The account is suspended, not unknown: its owner (only they read this mailbox)
        # hears why they cannot log in, as the login page tells them.
        transaction.on_commit(partial(suspension_notice_again.delay, suspended.pk))
        return email

    def clean_email(self) -> str:
        email: str = super().clean_email()
        # Only the accounts the address is confirmed for: the link of an account that only
        # asked to move to it would let the address's owner set that account's password.
        confirmed = set(
            EmailAddress.objects.filter(email__iexact=email, verified=True).values_list(
                "user_id", flat=True
            )
        )
        self.users = [
            user
            for user in self.users
            if user.pk in confirmed or user.email.lower() == email.lower()
        ]
        return email
