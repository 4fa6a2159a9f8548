"""Allauth's pages where the community's differ."""

from typing import Any

from allauth.account import app_settings
from allauth.account.models import EmailAddress
from allauth.account.views import ConfirmEmailView
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse


class EmailConfirmView(ConfirmEmailView):
    """Allauth's confirmation page, which also recognises a link opened again after the
    address was confirmed (from the email once more, or on another device): it says so and
    offers the way in, rather than calling the link expired or broken."""

    def get_object(self, queryset: Any = None) -> Any:
        # An account staff suspended changes no address: its pending link reads as
        # invalid (a confirmed new address would free the old one for a new sign-up).
        confirmation = super().get_object(queryset)
        if not confirmation.email_address.user.account_is_open:
            raise Http404
        return confirmation

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["already_confirmed"] = self.object is None and _confirmed_already(
            self.kwargs["key"]
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().post(request, *args, **kwargs)
        except Http404:  # a page left open while the link was used elsewhere
            self.object = None
            return self.render_to_response(self.get_context_data())


def _confirmed_already(key: str) -> bool:
    """Whether `key` is a genuine confirmation link (allauth's signed one) of an address
    that is now verified. Its age does not matter: confirmed is confirmed."""
    try:
        address_id = signing.loads(key, salt=app_settings.SALT)
    except signing.BadSignature:
        return False
    return EmailAddress.objects.filter(pk=address_id, verified=True).exists()
