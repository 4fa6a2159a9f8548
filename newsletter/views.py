import hmac
import json

from allauth.account.adapter import get_adapter
from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from members.models import User, language_in_sentence
from newsletter import services, tokens
from newsletter.forms import SubscribeForm
from newsletter.models import Issue, Subscriber

# The archive shows the latest issues; older ones are still reachable by their address.
ARCHIVED_ISSUES = 50


@require_http_methods(["GET", "HEAD", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """The subscribe form and the archive, for members and visitors alike."""
    user: User | None = request.user if request.user.is_authenticated else None  # type: ignore[assignment]
    initial = {"email": user.email if user else "", "language": get_language() or "es"}
    form = SubscribeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        # Per IP and per address: nobody can flood an inbox with confirmation links.
        if not ratelimit.consume(request, action="newsletter_subscribe", key=email.lower()):
            form.add_error(None, _("Too many attempts. Wait a while and try again."))
        else:
            subscriber = services.subscriber_subscribe(
                email=email,
                language=form.cleaned_data["language"],
                ip=get_adapter(request).get_client_ip(request) or None,
                user=user,
            )
            if user is not None and subscriber.user_id == user.pk and subscriber.confirmed_at:
                messages.success(request, _("Done: the newsletter will come to your inbox."))
            else:
                # The same answer whether or not the address was already on the list.
                messages.success(
                    request,
                    _(
                        "Thanks! If this address is not subscribed yet, we have sent it a "
                        "link to confirm. Nothing arrives until you click it."
                    ),
                )
            return redirect("newsletter:index")
    # Each is listed by its subject in the reader's language (the English fields tell).
    mine = services.subscription_of(user=user) if user else None
    issues = Issue.objects.filter(status=Issue.Status.SENT).only(
        "pk", "subject", "subject_en", "body_markdown_en", "sent_at"
    )
    return render(
        request,
        "newsletter/index.html",
        {
            "form": form,
            "issues": list(issues[:ARCHIVED_ISSUES]),
            # A member sees whether their own account's address gets it, and can stop it.
            "mine": mine,
            "mine_language": language_in_sentence(mine.language) if mine else "",
        },
    )


@login_required
@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    """A member stops the newsletter to their account's address, from the site."""
    user: User = request.user  # type: ignore[assignment]
    mine = services.subscription_of(user=user)
    if mine is not None:
        services.subscriber_unsubscribe(subscriber_id=mine.pk)
        # The address it came to, which may be another of the member's.
        messages.success(
            request, _("Done: no more newsletters to %(email)s.") % {"email": mine.email}
        )
    return redirect("newsletter:index")


@require_safe
def issue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An issue going out or sent, for anyone (its first readers click "Read it on the web"
    while the last emails are still leaving); a draft only for the team, as a preview: a
    test copy's link leads here before the issue goes out."""
    issue = get_object_or_404(Issue, pk=pk)
    preview = issue.status == Issue.Status.DRAFT
    # The team: whoever may open issues in the admin (to view them or to change them).
    team = request.user.has_perm("newsletter.view_issue") or request.user.has_perm(
        "newsletter.change_issue"
    )
    if preview and not team:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    return render(request, "newsletter/issue.html", {"issue": issue, "preview": preview})


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button and changes nothing: mail scanners that open every link must not
    confirm on someone's behalf. POST confirms."""
    if request.method == "POST":
        subscriber = services.subscriber_confirm(token=token)
        state = "confirmed" if subscriber else "invalid"
    else:
        subscriber = services.subscriber_for_confirmation(token=token)
        state = "ask" if subscriber else "invalid"
    if state == "invalid" and services.confirmation_used(token=token):
        state = "already"
    return render(
        request,
        "newsletter/confirm.html",
        {"state": state, "subscriber": subscriber, "token": token},
        status=404 if state == "invalid" else 200,
    )


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058 one-click unsubscribe: mail clients POST here with no cookie, so CSRF does
    not apply; the signed token in the URL is the authentication. GET only shows the page
    with the button, because link scanners and prefetchers follow GET links."""
    subscriber_id = tokens.unsubscribe_token_read(token)
    if subscriber_id is None:
        return render(request, "newsletter/unsubscribe.html", {"state": "invalid"}, status=404)
    if request.method == "POST":
        services.subscriber_unsubscribe(subscriber_id=subscriber_id)
        state = "done"
    elif Subscriber.objects.filter(
        pk=subscriber_id, status__in=[Subscriber.Status.PENDING, Subscriber.Status.CONFIRMED]
    ).exists():
        state = "ask"
    else:
        # The link opened again after leaving (or for an address that bounces): nothing to ask.
        state = "left"
    return render(request, "newsletter/unsubscribe.html", {"state": state, "token": token})


@csrf_exempt
@require_POST
def bounces_webhook(request: HttpRequest) -> JsonResponse:
    """Bounces and complaints from the mail provider, as JSON: one event or a list of
    `{"email": ..., "type": "bounce" | "complaint", "detail": ...}`. Authenticated by
    `Authorization: Bearer <NEWSLETTER_WEBHOOK_TOKEN>`; absent when that setting is empty."""
    secret = settings.NEWSLETTER_WEBHOOK_TOKEN
    if not secret:
        raise Http404
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(supplied.encode(), secret.encode()):
        return JsonResponse({"error": "forbidden"}, status=403)
    try:
        payload = json.loads(request.body)
    except (ValueError, RecursionError):  # RecursionError: nested beyond Python's limit
        return JsonResponse({"error": "invalid JSON"}, status=400)
    events = payload if isinstance(payload, list) else [payload]
    marked = 0
    for event in events:
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("email"), str)
            or "\x00" in event["email"]
        ):
            return JsonResponse({"error": "each event needs an email"}, status=400)
        complaint = event.get("type") == "complaint"
        marked += services.subscribers_mark_undeliverable(
            emails=[event["email"]],
            reason=Subscriber.Reason.COMPLAINT if complaint else Subscriber.Reason.BOUNCE,
            detail=str(event.get("detail", "")).replace("\x00", "")[:255],
        )
    return JsonResponse({"marked": marked})
