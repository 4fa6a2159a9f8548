from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from core.zones import zone_place
from members.forms import WEEKDAYS
from members.hours import in_zone, working_span
from members.models import Language, Profile

register = template.Library()


@register.filter
def spoken(languages: list[Language]) -> str:
    """`Speaks {{ profile.languages.all|spoken }}`: "inglés y español" in Spanish."""
    return str(get_text_list([language.name_in_sentence for language in languages], _("and")))


def _days(days: list[int]) -> str:
    names = dict(WEEKDAYS)
    if days == [0, 1, 2, 3, 4]:
        return _("Monday to Friday")
    return ", ".join(str(names[day]) for day in sorted(days) if day in names)


@register.simple_tag
def working_hours_for(profile: Profile, viewer: Any) -> dict[str, str]:
    """The member's usual hours in their zone, and in the viewer's zone when it differs."""
    zone = profile.user.time_zone
    span = working_span(
        start=profile.working_hours_start,
        end=profile.working_hours_end,
        zone=zone,
        on=timezone.localdate(timezone=ZoneInfo(zone)),
    )
    hours = {
        "start": time_format(span.start.time(), "H:i"),
        "end": time_format(span.end.time(), "H:i"),
        "zone": zone_place(zone),
    }
    if profile.working_days:
        own = _("%(start)s–%(end)s in %(zone)s, %(days)s") % {
            **hours,
            "days": _days(profile.working_days),
        }
    else:
        own = _("%(start)s–%(end)s in %(zone)s") % hours
    result = {"own": own, "viewer": ""}
    viewer_zone = getattr(viewer, "time_zone", None)
    if viewer_zone and viewer_zone != zone:
        local = in_zone(span, viewer_zone)
        result["viewer"] = (
            f"{time_format(local.start.time(), 'H:i')}–{time_format(local.end.time(), 'H:i')}"
        )
    return result
