"""The refusals of event operations. Each has a stable `code` for pages and clients (see
`events.models.EventError`)."""

from django.utils.translation import gettext_lazy as _

from events.models import EventError


class NotAllowed(EventError):
    code = "not_allowed"
    default_message = _("You are not allowed to do that.")


class StaffOnly(EventError):
    code = "staff_only"
    default_message = _("Only staff can organise training sessions and talks.")


class TimesStaffOnly(EventError):
    code = "times_staff_only"
    default_message = _(
        "Only staff change the time of a training session or a talk: ask them to move it."
    )


class TitleRequired(EventError):
    code = "title_required"
    default_message = _("Give the event a title.")


class EndsBeforeStart(EventError):
    code = "ends_before_start"
    default_message = _("An event must end after it starts.")


class StartsInPast(EventError):
    code = "starts_in_past"
    default_message = _("An event cannot start in the past.")


class InvalidTimeZone(EventError):
    code = "invalid_time_zone"
    default_message = _("That is not a known time zone.")


class CapacityTooLow(EventError):
    code = "capacity_too_low"
    default_message = _("The capacity must be at least 1.")


class CapacityBelowAttendance(EventError):
    code = "capacity_below_attendance"
    default_message = _("More members are already going than that capacity allows.")


class RoomClosed(EventError):
    code = "room_closed"
    default_message = _("That room is closed.")


class NoLaterHourToday(EventError):
    code = "no_later_hour_today"
    default_message = _("There is no later hour left today: choose “Now” or “At a time I choose”.")


class EventCancelled(EventError):
    code = "cancelled"
    default_message = _("This event was cancelled.")


class EventOver(EventError):
    code = "over"
    default_message = _("This event is over.")


class HostIsGoing(EventError):
    code = "host_is_going"
    default_message = _(
        "You host this event, so you are going. If it cannot take place, cancel it instead."
    )


class InvalidAnswer(EventError):
    code = "invalid_answer"
    default_message = _("Answer going, maybe or not going.")


# Meetups a member (not staff) may start in 24 hours.
MEETUPS_PER_DAY = 5


class TooManyMeetups(EventError):
    code = "too_many_meetups"

    def __init__(self) -> None:
        super().__init__(
            _(
                "You have started %(count)s meetups in the last 24 hours, the most there "
                "can be. Try again tomorrow."
            )
            % {"count": MEETUPS_PER_DAY}
        )
