import contextlib
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailConfirmation
from allauth.account.utils import get_next_redirect_url
from allauth.core import context as allauth_context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.http import urlencode
from django.utils.translation import get_language

from core.emails import send_later
from core.text import readable, visible_line
from members.models import User


def user_display(user: User) -> str:
    """How allauth's pages and messages, which only the account's owner reads, name them:
    their name, or before onboarding asks for one, their address (everyone else sees "New
    member" then; the owner would read it as a placeholder)."""
    return User.name_of(
        user.display_name, user.first_name, user.last_name, user.deleted_at, unnamed=user.email
    )


class AccountAdapter(DefaultAccountAdapter):
    def new_user(self, request: HttpRequest) -> User:
        """A new member (by email or a social account) gets their emails in the language
        they signed up in, until they choose another on their profile."""
        user: User = super().new_user(request)  # type: ignore[assignment]
        if get_language() in dict(settings.LANGUAGES):
            user.language = get_language()
        return user

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if not request.user.profile_onboarded:  # type: ignore[union-attr]
            return reverse("members:onboarding")
        return super().get_login_redirect_url(request)

    def post_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse:
        """A member who has not filled in the welcome form goes there first, even when the
        login was asked for by another page (`?next=`): the form sets their time zone, which
        every time on that page depends on. The form sends them on afterwards."""
        response = super().post_login(request, user, **kwargs)
        welcome = reverse("members:onboarding")
        target = response.get("Location", "")
        if target and not target.startswith(welcome) and not user.profile_onboarded:
            home = resolve_url(settings.LOGIN_REDIRECT_URL)
            response["Location"] = (
                welcome if target == home else f"{welcome}?{urlencode({'next': target})}"
            )
        return response

    def get_email_confirmation_url(
        self, request: HttpRequest, emailconfirmation: EmailConfirmation
    ) -> str:
        """With the page the sign-up was asked for by (`?next=`, checked as safe): the email
        is often opened in another browser than the one that signed up (a link in a chat
        app's browser, the email in a mail app), which holds nothing of the sign-up. There
        the confirmation sends the new member on to that page, by way of the login."""
        url = super().get_email_confirmation_url(request, emailconfirmation)
        target = get_next_redirect_url(request) if request is not None else None
        return f"{url}?{urlencode({'next': target})}" if target else url

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        # A sign-up that signs in at once (GitHub, Google: their address is verified) goes
        # to the welcome form too, where the member's time zone is set.
        return self.get_login_redirect_url(request)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Written here, in the account's language, the one its emails are in, rather than
        the language of whoever asked (a password reset from a browser in another language,
        a sign-up with an address that has an account; an address with no account: the
        request's). Sent by a worker (`core.emails.send_later`), with retries: sent here, a
        mail server that was down failed the sign-up with a 500."""
        user = context.get("user")
        if not isinstance(user, User):
            user = User.objects.filter(email__iexact=email, deleted_at__isnull=True).first()
        language = user.language if user is not None else None
        zone = user.time_zone if user is not None else settings.TIME_ZONE
        request = allauth_context.request
        # What allauth's own send_mail adds to the context.
        full_context = {
            "request": request,
            "email": email,
            "current_site": get_current_site(request),
            **context,
        }
        with (
            (
                translation.override(language)
                if language in dict(settings.LANGUAGES)
                else contextlib.nullcontext()
            ),
            timezone.override(zone),
        ):
            message = self.render_mail(
                template_prefix,
                email,
                {**full_context, "TIME_ZONE": timezone.get_current_timezone_name()},
            )
        assert isinstance(message, EmailMultiAlternatives), "allauth's templates have a text part"
        send_later(message)

    def send_notification_mail(
        self,
        template_prefix: str,
        user: Any,
        context: dict[str, Any] | None = None,
        email: str | None = None,
    ) -> None:
        """A change to the account (its address, its password), told to the account's
        address, or to the old one when it changed: with the member, for their name,
        language and time zone (by the old address they could not be found)."""
        super().send_notification_mail(
            template_prefix, user, {**(context or {}), "user": user}, email
        )

    def send_account_already_exists_mail(self, email: str) -> None:
        """A sign-up with an address that has an account (sent instead of a confirmation).

        A sign-up with a new address hashes its password, on purpose the slowest step by far;
        this one hashes a throwaway password with the same hasher, so that the response time
        does not tell which addresses have an account (as Django's ModelBackend does for
        logins with an unknown address)."""
        make_password(get_random_string(32))
        super().send_account_already_exists_mail(email)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> User:
        user: User = super().populate_user(request, sociallogin, data)
        # What the provider holds is cleaned as the profile form cleans a name: no invisible
        # characters (a right-to-left override), one line, readable or left for onboarding.
        user.first_name = visible_line(user.first_name)[:150].strip()
        user.last_name = visible_line(user.last_name)[:150].strip()
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
        name = visible_line(name or "")[:80].strip()
        user.display_name = name if readable(name) else ""
        return user
