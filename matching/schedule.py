"""When a member's next coffee pair comes, read from the programme's cadence and their
settings. Reads only: rounds are started by `services.rounds_start_due`."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from matching.models import Participation, Programme, Round
from matching.services import MAX_LATENESS

UTC = ZoneInfo("UTC")


def _first_slot_from(programme: Programme, moment: datetime) -> datetime:
    """The programme's first scheduled round time at or after `moment` (aware, UTC)."""
    zone = ZoneInfo(programme.time_zone)
    first = programme.starts_on + timedelta(
        days=(programme.weekday - programme.starts_on.weekday()) % 7
    )
    steps = max(0, (moment.astimezone(zone).date() - first).days // programme.cadence_days)
    while True:  # at most twice: the slot on the moment's day may be earlier that day
        day = first + timedelta(days=steps * programme.cadence_days)
        slot = datetime.combine(day, time(programme.hour), tzinfo=zone)
        if slot >= moment:
            return slot.astimezone(UTC)
        steps += 1


def next_slot(programme: Programme, *, now: datetime) -> datetime:
    """The programme's next round still to come (aware, UTC): its latest slot while that
    round is due but not started yet (the next tick starts it), else its first slot after
    `now`. Whether the programme is scheduled at all (`active`) is for the caller to say."""
    latest = programme.latest_slot(now)
    if (
        latest is not None
        and now - latest <= MAX_LATENESS
        and not Round.objects.filter(programme=programme, scheduled_for=latest).exists()
    ):
        return latest
    return _first_slot_from(programme, now)


def next_round_for(participation: Participation, *, now: datetime | None = None) -> datetime | None:
    """The time (aware, UTC) of the next round that will include this member, going by their
    settings as they are now; None when they do not take part (opted out, paused for
    unanswered intros, inactive programme).

    That is the programme's next slot, or its latest one while that round is still to be
    started; the one after when they skip the next round; and none on or before the day
    their pause ends (round days in the programme's zone, as `eligible_members` counts them).
    """
    programme = participation.programme
    if not (programme.active and participation.opted_in) or participation.auto_paused:
        return None
    upcoming = next_slot(programme, now=now or timezone.now())
    try:
        if participation.skip_next_round:
            upcoming = _first_slot_from(programme, upcoming + timedelta(seconds=1))
        if participation.paused_until is not None:
            back_on = datetime.combine(
                participation.paused_until + timedelta(days=1),
                time(0),
                tzinfo=ZoneInfo(programme.time_zone),
            )
            upcoming = max(upcoming, _first_slot_from(programme, back_on))
    except OverflowError:  # paused until the end of the calendar
        return None
    return upcoming
