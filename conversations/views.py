import uuid

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from conversations import selectors, services
from conversations.forms import MessageForm
from conversations.services import ConversationRefused
from members.models import User


@login_required
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    entries = selectors.conversations_of(user=request.user)  # type: ignore[arg-type]
    return render(request, "conversations/list.html", {"entries": entries})


@login_required
@require_http_methods(["GET", "POST"])
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    conversation, others = selectors.conversation_for(user=user, conversation_id=conversation_id)
    status = 200
    if request.method == "POST":
        form = MessageForm(request.POST)
        status = 400
        if form.is_valid() and not ratelimit.consume(request, action="conversation_message"):
            form.add_error("text", _("You are writing very fast. Wait a moment and send it again."))
            status = 429
        if form.is_valid():
            try:
                services.message_post(
                    conversation=conversation,
                    author=user,
                    text=form.cleaned_data["text"],
                    client_id=form.cleaned_data["client_id"],
                )
            except ConversationRefused as refusal:
                form.add_error("text", str(refusal))
            else:
                return redirect(f"{conversation.get_absolute_url()}#latest")
    else:
        form = MessageForm(initial={"client_id": uuid.uuid4()})
    before = request.GET.get("before", "")
    page, has_older = selectors.messages_page(
        conversation=conversation, before=int(before) if before.isdecimal() else None
    )
    services.conversation_read(conversation=conversation, user=user)
    return render(
        request,
        "conversations/detail.html",
        {
            "conversation": conversation,
            "others": others,
            "page": page,
            "has_older": has_older,
            "form": form,
        },
        status=status,
    )


@login_required
@require_POST
def conversation_start(request: HttpRequest, member_id: int) -> HttpResponse:
    other = get_object_or_404(User, pk=member_id, is_active=True)
    if not ratelimit.consume(request, action="conversation_start"):
        messages.error(request, _("You are starting conversations very fast. Try again later."))
        return redirect("members:profile", member_id)
    try:
        conversation = services.direct_conversation_start(
            starter=request.user,  # type: ignore[arg-type]
            other=other,
        )
    except ConversationRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("members:profile", member_id)
    return redirect(conversation)
