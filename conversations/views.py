import uuid

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from conversations import selectors, services
from conversations.forms import GroupAddForm, GroupForm, GroupRenameForm, MessageForm
from conversations.models import Attachment, Conversation, Message, Participant
from conversations.services import ConversationRefused
from conversations.serving import attachment_response
from matching.selectors import CoffeeIntro, coffee_group_of, coffee_intro
from members.models import User
from members.selectors import profile_for_viewer
from members.services import blocked_user_ids
from members.status import busy_until
from rooms.reactions import REACTIONS


@login_required
@require_safe
def conversation_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    before = request.GET.get("before", "")[:100]
    archived = request.GET.get("archived") == "1"
    listing = selectors.conversations_of(
        user=user, before=before, limit=selectors.LIST_PAGE, archived=archived
    )
    # "In focus until 11:50" beside the people: one query for the page (members.status).
    people = {other.pk for entry in listing.entries for other in entry.others}
    busy = busy_until(user_ids=people, now=timezone.now())
    context = {
        "entries": listing.entries,
        "older": listing.older,
        "later": bool(before),
        "archived": archived,
        # The way to the archive shows once there is something in it.
        "has_archived": archived or selectors.has_archived(user=user),
    }
    # The list alone, which the page fetches again when a message comes (live, over the
    # member socket: static/js/conversation-list.js).
    template = "_list.html" if request.GET.get("partial") else "list.html"
    return render(request, f"conversations/{template}", {**context, "busy": busy})


@login_required
@require_safe
def conversation_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    results = selectors.messages_search(user=request.user, query=query) if query else []  # type: ignore[arg-type]
    return render(request, "conversations/search.html", {"query": query, "results": results})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    conversation, others = selectors.conversation_for(user=user, conversation_id=conversation_id)
    status = 200
    if request.method == "POST":
        form = MessageForm(request.POST, request.FILES)
        status = 400
        if form.is_valid() and not (
            ratelimit.consume(request, action="conversation_message_form")
            and services.message_allowed(
                user=user,
                conversation_id=conversation.pk,
                client_id=form.cleaned_data["client_id"],
            )
        ):
            form.add_error("text", services.WRITING_TOO_FAST)
            status = 429
        if form.is_valid():
            try:
                services.message_post(
                    conversation=conversation,
                    author=user,
                    text=form.cleaned_data["text"],
                    client_id=form.cleaned_data["client_id"],
                    reply_to=form.cleaned_data["reply_to"],
                    attachment=form.prepared,
                )
            except ConversationRefused as refusal:
                form.add_error("text", str(refusal))
            else:
                if form.prepared is not None and form.prepared.not_shown:
                    messages.info(
                        request,
                        _(
                            "“%(name)s” is not a picture this site shows: it went as a file to "
                            "download."
                        )
                        % {"name": form.prepared.name},
                    )
                return redirect(f"{conversation.get_absolute_url()}#latest")
    else:
        form = MessageForm(initial={"client_id": uuid.uuid4()})
    before = request.GET.get("before", "")
    before_id = int(before) if before.isdecimal() and len(before) < 19 else None
    page, has_older = selectors.messages_page(
        conversation=conversation, viewer=user, before=before_id
    )
    # Where the member had read up to: the page marks the first message after it.
    seat = selectors.seat_of(conversation=conversation, user=user)
    last_read = seat.last_read_id if seat is not None else 0
    new_from = next((m.pk for m in page if m.pk > last_read and m.author_id != user.pk), None)
    if before_id is None:
        services.conversation_read(conversation=conversation, user=user)
    elif page:  # an older page (a search result's): what came after it is still unread
        services.conversation_read(conversation=conversation, user=user, upto=page[-1].pk)
    return render(
        request,
        "conversations/detail.html",
        {
            "conversation": conversation,
            "others": others,
            # Quotes of their messages say only that there was one (rooms.quotes).
            "hidden_ids": blocked_user_ids(user=user),
            # Whom "@" offers in the composer (static/js/room/mention-picker.js).
            "mentionable": [{"id": other.pk, "name": other.name} for other in others],
            # A coffee pair's (or trio's) conversation opens with their intro, and leads to
            # their meeting and table.
            "coffee": _coffee_intro(user, others),
            "page": page,
            "has_older": has_older,
            "new_from": new_from,
            "reactions": REACTIONS,
            "read_marks": selectors.read_marks(conversation=conversation, viewer=user),
            "busy": busy_until(user_ids=[other.pk for other in others], now=timezone.now()),
            "form": form,
            # The other of a direct conversation deleted (their seat went with it) or closed
            # their account: no composer.
            "gone": conversation.kind == Conversation.Kind.DIRECT
            and (not others or any(not other.is_active for other in others)),
            "gone_text": services.GONE,
            "seat": seat,
        },
        status=status,
    )


def _own_seat(request: HttpRequest, conversation_id: int) -> tuple[Conversation, Participant]:
    """The conversation and the member's seat in it, for what only its members change."""
    user: User = request.user  # type: ignore[assignment]
    conversation, _others = selectors.conversation_for(user=user, conversation_id=conversation_id)
    seat = selectors.seat_of(conversation=conversation, user=user)
    if seat is None:
        raise Http404
    return conversation, seat


@login_required
@require_POST
def conversation_mute(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Mute or unmute the conversation for the member (`muted` 1 or 0): no notice, email or
    push about it while muted."""
    conversation, seat = _own_seat(request, conversation_id)
    muted = request.POST.get("muted") == "1"
    services.conversation_mute(seat=seat, muted=muted)
    messages.success(
        request,
        _("Muted: no notices or emails about this conversation until you unmute it.")
        if muted
        else _("Unmuted: we tell you of new messages here again."),
    )
    return redirect(conversation)


@login_required
@require_POST
def conversation_archive(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Archive the conversation for the member, or bring it back (`archived` 1 or 0)."""
    conversation, seat = _own_seat(request, conversation_id)
    archived = request.POST.get("archived") == "1"
    services.conversation_archive(seat=seat, archived=archived)
    if not archived:
        messages.success(request, _("Back in your messages."))
        return redirect(conversation)
    messages.success(
        request,
        _("Archived: it stays muted and out of your messages.")
        if seat.muted_at
        else _("Archived: it comes back to your messages when someone writes in it."),
    )
    return redirect("conversations:list")


def _coffee_intro(user: User, others: list[User]) -> CoffeeIntro | None:
    group_id = coffee_group_of(user_ids=[user.pk, *(other.pk for other in others)])
    return None if group_id is None else coffee_intro(group_id=group_id, user=user)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def group_new(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    candidates = selectors.group_candidates(user=user)
    form = GroupForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.consume(request, action="conversation_start"):
            form.add_error(None, _("You are starting conversations very fast. Try again later."))
        else:
            try:
                conversation = services.group_create(
                    creator=user,
                    members=list(form.cleaned_data["members"]),
                    title=form.cleaned_data["title"],
                )
            except ConversationRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                return redirect(conversation)
    status = 400 if form.errors else 200
    # A group needs two people besides its maker: with fewer, the page says so up front
    # (and leads to the one contact's direct conversation) instead of a form that cannot
    # succeed.
    few = list(candidates[:2])
    only = few[0] if len(few) == 1 else None
    context = {"form": form, "enough": len(few) == 2, "only": only}
    if only is not None:
        context["only_conversation"] = selectors.direct_conversation_of(user=user, other=only)
        context["may_write_only"] = only.pk in selectors.conversation_openers(
            starter=user, others=[only]
        )
    return render(request, "conversations/group_new.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def group_settings(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """A group's name and members: rename it, bring people in, leave it."""
    user: User = request.user  # type: ignore[assignment]
    conversation, others = selectors.conversation_for(user=user, conversation_id=conversation_id)
    if conversation.kind != Conversation.Kind.GROUP:
        return redirect(conversation)
    candidates = selectors.group_candidates(user=user, exclude=[other.pk for other in others])
    action = request.POST.get("action") if request.method == "POST" else None
    # Only the form the member sent is bound: what was typed stays in it.
    rename = GroupRenameForm(
        request.POST if action == "rename" else None, initial={"title": conversation.title}
    )
    add = GroupAddForm(request.POST if action == "add" else None, candidates=candidates)
    limited = False
    try:
        # Counted once the change is made: a refused one costs nothing.
        if action in ("rename", "add") and not ratelimit.consume(
            request, action="group_change", dry_run=True
        ):
            limited = True
            (rename if action == "rename" else add).add_error(
                None, _("You have changed groups many times lately. Try again later.")
            )
        elif action == "rename" and rename.is_valid():
            services.group_rename(
                conversation=conversation, by=user, title=rename.cleaned_data["title"]
            )
            ratelimit.consume(request, action="group_change")
            messages.success(request, _("The group has a new name."))
            return redirect("conversations:group", conversation.pk)
        elif action == "add" and add.is_valid():
            services.group_members_add(
                conversation=conversation, by=user, members=list(add.cleaned_data["members"])
            )
            ratelimit.consume(request, action="group_change")
            messages.success(request, _("They are in the group now."))
            return redirect("conversations:group", conversation.pk)
        elif action == "leave":
            services.group_leave(conversation=conversation, user=user)
            messages.success(request, _("You left “%(name)s”.") % {"name": conversation.title})
            return redirect("conversations:list")
    except ConversationRefused as refusal:
        (add if action == "add" else rename).add_error(None, str(refusal))
    status = 429 if limited else 400 if rename.errors or add.errors else 200
    return render(
        request,
        "conversations/group_settings.html",
        {"conversation": conversation, "others": others, "rename": rename, "add": add},
        status=status,
    )


@login_required
@require_POST
def conversation_start(request: HttpRequest, member_id: int) -> HttpResponse:
    # Whoever's profile is not there for the starter (a block either way among the reasons)
    # is not there to write to either: a refusal of its own would tell them of the block.
    user: User = request.user  # type: ignore[assignment]
    other = profile_for_viewer(viewer=user, member_id=member_id).user
    if not ratelimit.consume(request, action="conversation_start"):
        messages.error(request, _("You are starting conversations very fast. Try again later."))
        return redirect("members:profile", member_id)
    try:
        conversation = services.direct_conversation_start(starter=user, other=other)
    except ConversationRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("members:profile", member_id)
    return redirect(conversation)


def _message_for(request: HttpRequest, conversation_id: int, message_id: int) -> Message:
    conversation, _others = selectors.conversation_for(
        user=request.user,  # type: ignore[arg-type]
        conversation_id=conversation_id,
    )
    # Not a message of someone on either side of a block: the page hides it, so do its file
    # and its reactions.
    return get_object_or_404(
        Message.objects.select_related("author", "conversation").exclude(
            author_id__in=blocked_user_ids(user=request.user)  # type: ignore[arg-type]
        ),
        conversation=conversation,
        pk=message_id,
    )


@login_required
@require_POST
def message_react(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """A reaction without the page's script (which reacts over the member socket)."""
    message = _message_for(request, conversation_id, message_id)
    try:
        services.reaction_toggle(
            message=message,
            user=request.user,  # type: ignore[arg-type]
            emoji=request.POST.get("emoji", ""),
        )
    except ConversationRefused as refusal:
        messages.error(request, str(refusal))
    return redirect(f"{message.conversation.get_absolute_url()}#m{message.pk}")


@login_required
@require_POST
def message_delete(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    message = _message_for(request, conversation_id, message_id)
    try:
        services.message_delete(message=message, by=request.user)  # type: ignore[arg-type]
    except ConversationRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("Your message was deleted."))
    return redirect(message.conversation)


@login_required
@require_safe
def attachment(request: HttpRequest, conversation_id: int, message_id: int) -> FileResponse:
    """A conversation's file or picture, to its members only."""
    message = _message_for(request, conversation_id, message_id)
    shared = get_object_or_404(Attachment, message=message)
    return attachment_response(shared, thumbnail=bool(request.GET.get("thumbnail")))
