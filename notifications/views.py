import math

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.converters import is_row_id, moment_from_ms
from members.models import User
from notifications.digest import digest_off_token_read
from notifications.email_off import email_off_token_read, emails_of_kind_off, emails_of_kind_on
from notifications.forms import PreferencesForm, PushSubscriptionForm
from notifications.holds import SHOWN
from notifications.models import Kind, Notification, PushSubscription
from notifications.push import (
    MAX_DEVICES,
    PUSH_BOUND_SESSION_KEY,
    device_name,
    public_key,
    subscription_rebind,
    subscription_renew,
    subscription_save,
)
from notifications.selectors import notifications_listed
from notifications.services import notifications_mark_read, preferences_set
from notifications.tasks import push_test_send

PAGE_SIZE = 30


@login_required
@require_safe
def notification_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    page = Paginator(notifications_listed(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    # "Mark all as read" marks what was there when the list was shown (ms since 1970,
    # rounded up: what was there a fraction of a millisecond before is marked too).
    shown_at = math.ceil(timezone.now().timestamp() * 1000)
    return render(request, "notifications/list.html", {"page": page, "shown_at": shown_at})


@login_required
@require_safe
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    user: User = request.user  # type: ignore[assignment]
    notification = get_object_or_404(Notification, SHOWN, pk=pk, user=user, in_app=True)
    if request.method == "GET":  # a HEAD (a link checker with the session) reads nothing
        notifications_mark_read(user=user, ids=[notification.pk])
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect("notifications:list")
    return HttpResponseRedirect(target)


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark the notifications named by `id` (one or more) read, or all of them when no `id`
    is sent at all; an `id` that is not a number is refused (400), never taken for "all"."""
    user: User = request.user  # type: ignore[assignment]
    ids: list[int] | None = None
    if "id" in request.POST:
        raw = request.POST.getlist("id")
        if not all(is_row_id(value) for value in raw):
            return HttpResponseBadRequest(_("This notification does not exist."))
        ids = [int(value) for value in raw]
    shown_by = moment_from_ms(request.POST.get("shown_at", ""))
    notifications_mark_read(user=user, ids=ids, shown_by=shown_by)
    # Back to the page the member was reading (get_page makes any bad number a good one).
    page = request.POST.get("page", "")
    listing = reverse("notifications:list")
    return redirect(f"{listing}?page={page}" if is_row_id(page) else listing)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = PreferencesForm.for_user(user, request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        preferences_set(
            user=user,
            channels=form.channels(),
            email_digest=form.cleaned_data["email_digest"],
            pushes=form.pushes(),
            quiet=form.quiet(),
        )
        messages.success(request, _("Your notification preferences are saved."))
        return redirect("notifications:settings")
    return render(
        request,
        "notifications/settings.html",
        {
            "form": form,
            "push_key": public_key(),
            "devices": PushSubscription.objects.filter(user=user),
        },
    )


def _too_many_attempts() -> JsonResponse:
    """The answer to a device's calls over their limit (`push_subscribe`)."""
    return JsonResponse(
        {"errors": {"__all__": [_("Too many attempts. Wait a minute and try again.")]}},
        status=429,
    )


@login_required
@require_POST
def push_subscribe(request: HttpRequest) -> HttpResponse:
    """Store this device's push subscription (sent by static/js/push.js, which asked the
    browser for it after the member's click). Answers JSON: the device, or the errors."""
    user: User = request.user  # type: ignore[assignment]
    if not public_key():
        return JsonResponse(
            {"errors": {"__all__": [_("Push notifications are off on this site.")]}}, status=409
        )
    if not ratelimit.consume(request, action="push_subscribe"):
        return _too_many_attempts()
    form = PushSubscriptionForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    known = PushSubscription.objects.filter(endpoint=form.cleaned_data["endpoint"], user=user)
    if not known.exists() and PushSubscription.objects.filter(user=user).count() >= MAX_DEVICES:
        message = _("You have notifications on %(count)d devices: remove one first.") % {
            "count": MAX_DEVICES
        }
        return JsonResponse({"errors": {"__all__": [message]}}, status=400)
    device = subscription_save(
        user=user,
        endpoint=form.cleaned_data["endpoint"],
        p256dh=form.cleaned_data["p256dh"],
        auth=form.cleaned_data["auth"],
        device=device_name(request.headers.get("User-Agent", "")),
        session_key=request.session.session_key or "",
    )
    request.session[PUSH_BOUND_SESSION_KEY] = True
    messages.success(request, _("Notifications are on for this device."))
    return JsonResponse({"id": device.pk, "device": device.device}, status=201)


@login_required
@require_POST
def push_rebind(request: HttpRequest) -> HttpResponse:
    """A signed-in page says which push subscription this browser holds (static/js/me.js,
    once a session): the member's device stored under it follows this session
    (`subscription_rebind`). Answers 204, or 404 when it is no device of theirs."""
    user: User = request.user  # type: ignore[assignment]
    if not ratelimit.consume(request, action="push_subscribe"):
        return _too_many_attempts()
    request.session[PUSH_BOUND_SESSION_KEY] = True
    rebound = subscription_rebind(
        user=user,
        endpoint=request.POST.get("endpoint", ""),
        session_key=request.session.session_key or "",
    )
    return HttpResponse(status=204 if rebound else 404)


@csrf_exempt
@require_POST
def push_renew(request: HttpRequest) -> HttpResponse:
    """The service worker's `pushsubscriptionchange`: the browser replaced a device's
    subscription, and the device stored under `old_endpoint` takes the new one. CSRF does not
    apply: a service worker has no page to read the token from. What stands in: the session
    cookie is SameSite=Lax, so another site's POST comes without it, and only a device
    already stored under the member's old endpoint, a secret address that only their browser
    and the site know, is re-pointed. Answers 204, or 404 when there is no such device."""
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"errors": {"__all__": [_("Log in first.")]}}, status=403)
    if not ratelimit.consume(request, action="push_subscribe"):
        return _too_many_attempts()
    old_endpoint = request.POST.get("old_endpoint", "")
    # Before the new endpoint is checked, which resolves its host name: nobody without a
    # device of theirs to renew makes the site look names up.
    if not PushSubscription.objects.filter(user=user, endpoint=old_endpoint).exists():
        return HttpResponse(status=404)
    form = PushSubscriptionForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    renewed = subscription_renew(
        user=user,  # type: ignore[arg-type]
        old_endpoint=old_endpoint,
        endpoint=form.cleaned_data["endpoint"],
        p256dh=form.cleaned_data["p256dh"],
        auth=form.cleaned_data["auth"],
    )
    return HttpResponse(status=204 if renewed else 404)


@login_required
@require_POST
def push_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    device = get_object_or_404(PushSubscription, pk=pk, user=user)
    device.delete()
    messages.success(request, _("That device no longer gets notifications."))
    return redirect("notifications:settings")


@login_required
@require_POST
def push_test(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not ratelimit.consume(request, action="push_test"):
        messages.error(request, _("Too many attempts. Wait a minute and try again."))
    elif not PushSubscription.objects.filter(user=user).exists():
        messages.error(request, _("Turn on notifications on a device first."))
    else:
        transaction.on_commit(lambda: push_test_send.delay(user.pk))
        messages.success(request, _("A test notification is on its way to your devices."))
    return redirect("notifications:settings")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def digest_off(request: HttpRequest, token: str) -> HttpResponse:
    """The weekly digest's one-click "no more" (RFC 8058): mail clients POST here with no
    cookie, so CSRF does not apply; the signed token is the authentication. GET only shows
    the button: link scanners and prefetchers follow GET links."""
    user_id = digest_off_token_read(token)
    user = User.objects.filter(pk=user_id, deleted_at__isnull=True).first() if user_id else None
    if user is None:
        return render(request, "notifications/digest_off.html", {"state": "invalid"}, status=404)
    if request.method == "POST":
        User.objects.filter(pk=user.pk).update(email_digest=False)
        state = "done"
    else:
        state = "ask" if user.email_digest else "off"
    return render(request, "notifications/digest_off.html", {"state": state, "token": token})


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def email_off(request: HttpRequest, token: str) -> HttpResponse:
    """One kind of news's one-click "no more emails" (RFC 8058), as the digest's: the mail
    client POSTs with no cookie, the signed token is the authentication, and a GET only
    shows the button. The news keeps coming on the site."""
    read = email_off_token_read(token)
    user = User.objects.filter(pk=read[0], deleted_at__isnull=True).first() if read else None
    if read is None or user is None:
        return render(request, "notifications/email_off.html", {"state": "invalid"}, status=404)
    kind = read[1]
    if request.method == "POST":
        emails_of_kind_off(user=user, kind=kind)
        state = "done"
    else:
        state = "ask" if emails_of_kind_on(user=user, kind=kind) else "off"
    context = {"state": state, "token": token, "kind": Kind(kind).label}
    return render(request, "notifications/email_off.html", context)
