from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from events.access import event_can_manage
from events.errors import EventCancelled, EventOver
from events.feeds import calendar_feed_get_or_create, calendar_feed_rotate
from events.forms import EventForm, MeetupForm, RsvpForm, StaffEventForm
from events.ics import calendar_ics, event_ics
from events.models import EVENT_ROOM_OPENS_BEFORE, CalendarFeed, Event, EventError, Rsvp
from events.rsvps import RsvpChange, rsvp_set
from events.selectors import (
    event_attendees,
    event_conversation,
    events_in_feed,
    events_mine,
    events_past,
    events_upcoming,
    waitlist_place,
)
from events.services import (
    event_cancel,
    event_create,
    event_create_with_room,
    event_update,
    meetup_start,
)
from matching.emails import meeting_entries
from matching.selectors import meetings_in_feed
from members.models import User
from rooms.models import RoomError
from rooms.services import cafeteria_get

# Enough to plan with on one page; the rest are on the next pages (the past grows by the year).
LISTED_EVENTS = 50
TABS = ("upcoming", "past", "mine")


def _event(pk: int) -> Event:
    """Any event, for any member: events are open to the whole community."""
    return get_object_or_404(Event.objects.select_related("host", "room"), pk=pk)


def _event_to_manage(request: HttpRequest, pk: int) -> tuple[User, Event]:
    user: User = request.user  # type: ignore[assignment]
    event = _event(pk)
    if not event_can_manage(event=event, user=user):
        raise PermissionDenied
    return user, event


@login_required
@require_safe
def event_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    tab = request.GET.get("show", "upcoming")
    if tab not in TABS:
        tab = "upcoming"
    events: QuerySet[Event]
    feed_url = None
    if tab == "past":
        events = events_past()
    elif tab == "mine":
        events = events_mine(user=user)
        feed = calendar_feed_get_or_create(user=user)
        feed_url = f"{settings.SITE_URL}{feed.get_absolute_url()}"
    else:
        events = events_upcoming()
    page = Paginator(events, LISTED_EVENTS).get_page(request.GET.get("page"))
    return render(
        request,
        "events/list.html",
        {"tab": tab, "events": list(page), "page": page, "feed_url": feed_url},
    )


@login_required
@require_safe
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    event = _event(pk)
    counts = event.rsvps.aggregate(
        going=Count("pk", filter=Q(status=Rsvp.Status.GOING)),
        waiting=Count("pk", filter=Q(status=Rsvp.Status.WAITLISTED)),
    )
    seats_left = None if event.capacity is None else max(event.capacity - counts["going"], 0)
    my_rsvp = Rsvp.objects.filter(event=event, user=user).first()
    return render(
        request,
        "events/event.html",
        {
            "event": event,
            "going": counts["going"],
            "waiting": counts["waiting"],
            "seats_left": seats_left,
            "my_rsvp": my_rsvp,
            "waitlist_place": waitlist_place(rsvp=my_rsvp) if my_rsvp else None,
            "is_host": user.pk == event.host_id,
            "attendees": event_attendees(event=event, viewer=user),
            "can_manage": event_can_manage(event=event, user=user),
            "conversation": event_conversation(event=event, viewer=user),
        },
    )


def _rsvp_message(change: RsvpChange) -> str:
    rsvp = change.rsvp
    if rsvp.status == Rsvp.Status.GOING:
        text = _("You are going. See you there!")
    elif rsvp.status == Rsvp.Status.WAITLISTED:
        text = _(
            "The event is full: you are on the waiting list, at position %(position)d. "
            "We will email you if a seat frees up."
        ) % {"position": waitlist_place(rsvp=rsvp)}
    elif rsvp.status == Rsvp.Status.MAYBE:
        text = _("Noted: maybe.")
    else:
        text = _("Noted: you are not going.")
    if change.promoted:
        count = len(change.promoted)
        text += " " + ngettext(
            "Your seat went to %(count)d member from the waiting list; we told them.",
            "Your seat went to %(count)d members from the waiting list; we told them.",
            count,
        ) % {"count": count}
    return text


@login_required
@require_POST
def rsvp(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    event = _event(pk)
    form = RsvpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Answer going, maybe or not going."))
        return redirect("events:event", event.pk)
    try:
        change = rsvp_set(event=event, user=user, status=form.cleaned_data["status"])
    except (EventCancelled, EventOver):
        # The event's page says so at the top; a second notice would only repeat it.
        pass
    except EventError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _rsvp_message(change))
    return redirect("events:event", event.pk)


@login_required
@require_safe
def event_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event(pk)
    response = HttpResponse(
        event_ics(event=event, site_url=settings.SITE_URL),
        content_type="text/calendar; charset=utf-8",
    )
    filename = f"{slugify(event.title) or 'event'}.ics"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _meetup_started_message(event: Event) -> str:
    # From the meetup's own times, in the member's zone (active for the request): one
    # planned for later is not on yet, and its room opens shortly before.
    if event.is_starting_now():
        return _("Your meetup is on. Its room is open for everyone.")
    starts_at = timezone.localtime(event.starts_at)
    return _(
        "Your meetup is planned for %(weekday)s %(day)s at %(time)s (your time). Its room "
        "opens %(minutes)d minutes before."
    ) % {
        "weekday": date_format(starts_at, "l"),
        "day": date_format(starts_at, "MONTH_DAY_FORMAT"),
        "time": time_format(starts_at, "H:i"),
        "minutes": int(EVENT_ROOM_OPENS_BEFORE.total_seconds() // 60),
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def meetup_new(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = MeetupForm(request.POST if request.method == "POST" else None, user=user)
    if form.is_bound and form.is_valid():
        try:
            event = meetup_start(by=user, **form.meetup_fields())
        except EventError as error:
            form.add_service_error(error)
        except RoomError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _meetup_started_message(event))
            return redirect("events:event", event.pk)
    return render(
        request,
        "events/meetup_form.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def event_new(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not (user.is_staff and user.has_perm("events.add_event")):
        raise PermissionDenied
    form = StaffEventForm(request.POST if request.method == "POST" else None, user=user)
    if form.is_bound and form.is_valid():
        try:
            if form.wants_new_room:
                event = event_create_with_room(by=user, **form.event_fields())
            else:
                event = event_create(by=user, room=cafeteria_get(), **form.event_fields())
        except EventError as error:
            form.add_service_error(error)
        except RoomError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The event is published."))
            return redirect("events:event", event.pk)
    return render(
        request,
        "events/event_form.html",
        {"form": form, "event": None},
        status=400 if form.is_bound else 200,
    )


def _limited_move(request: HttpRequest, event: Event, form: EventForm) -> bool:
    """Whether the valid `form` gives `event` a new time under the limit `event_move`: a
    new time emails everyone going (events.tasks.event_change_announce), so a few a day per
    event, whoever moves it. Staff's sessions are not limited."""
    fields = form.event_fields()
    moved = (fields["starts_at"], fields["ends_at"]) != (event.starts_at, event.ends_at)
    return moved and not request.user.is_staff


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user, event = _event_to_manage(request, pk)
    if event.is_cancelled:
        messages.error(request, _("This event was cancelled, so it can no longer be changed."))
        return redirect("events:event", event.pk)
    if event.has_ended():
        messages.error(request, _("This event is over, so it can no longer be changed."))
        return redirect("events:event", event.pk)
    if request.method == "POST":
        form = EventForm(request.POST, event=event)
    else:
        form = EventForm(initial=EventForm.initial_for(event), event=event)
    if form.is_bound and form.is_valid() and not ratelimit.consume(request, action="event_edit"):
        form.add_error(
            None, _("You have changed this event many times. Wait a while and try again.")
        )
    # Counted once the move is made: a change the service refuses costs nothing.
    move = form.is_bound and form.is_valid() and _limited_move(request, event, form)
    move_key = {"action": "event_move", "key": str(event.pk)}
    if move and not ratelimit.consume(request, **move_key, dry_run=True):
        form.add_error(
            None,
            _(
                "This event's time has changed several times today, and each change emails "
                "everyone going. Try again tomorrow, or cancel it."
            ),
        )
    if form.is_bound and form.is_valid():
        try:
            event_update(event=event, by=user, room=event.room, **form.event_fields())
        except EventError as error:
            form.add_service_error(error)
        else:
            if move:
                ratelimit.consume(request, **move_key)
            messages.success(request, _("The event is updated."))
            return redirect("events:event", event.pk)
    return render(
        request,
        "events/event_form.html",
        {"form": form, "event": event},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user, event = _event_to_manage(request, pk)
    if event_cancel(event=event, by=user):
        messages.success(
            request, _("The event is cancelled. The members who were going are being told.")
        )
    else:
        messages.info(request, _("This event was already cancelled."))
    return redirect("events:event", event.pk)


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A member's private feed, read by calendar programs: the secret token in the URL
    stands in for logging in."""
    feed = get_object_or_404(
        CalendarFeed.objects.select_related("user"),
        token=token,
        user__is_active=True,
        user__deleted_at__isnull=True,
    )
    member = feed.user
    with translation.override(member.language):
        name = _("%(site)s events") % {"site": settings.SITE_NAME}
        body = calendar_ics(
            events=events_in_feed(user=member),
            site_url=settings.SITE_URL,
            name=name,
            # The coffee meetings the member agreed on, in the same calendar.
            more=meeting_entries(meetings_in_feed(user=member), reader=member),
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_POST
def calendar_feed_new(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    calendar_feed_rotate(user=user)
    messages.success(
        request,
        _(
            "Here is your new calendar link. The old one no longer works: "
            "update it in your calendar app."
        ),
    )
    return redirect(f"{reverse('events:list')}?show=mine")
