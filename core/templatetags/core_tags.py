import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from core.navigation import ResolvedNavItem, navigation_for
from core.zones import zone_place as _zone_place

register = template.Library()


@register.simple_tag(takes_context=True)
def main_navigation(context: dict[str, Any]) -> list[ResolvedNavItem]:
    request = context["request"]
    user = request.user
    return navigation_for(
        request.path, authenticated=user.is_authenticated, staff=bool(user.is_staff)
    )


# As static/js/room/dom.js's `linkified`: http(s) addresses, less the punctuation that
# usually ends the sentence rather than the address, and without direction controls (an
# address drawn in another order than the one it leads to); each link is laid out on its
# own, left to right.
_URL = re.compile(r"https?://[^\s<>\"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+")
_URL_TRAILING = re.compile(r"[.,;:!?'\")\]]+$")


@register.filter
def absolute_url(url: str) -> str:
    """`url` (a path, or already absolute) on the site's public address, `SITE_URL`: what
    link previews and emails need, whichever host the request came by. A path stays on the
    site even when it begins with `//` (a request for `//other.example/`), which a URL join
    would read as another host."""
    if url.startswith("/"):
        return f"{settings.SITE_URL}/{url.lstrip('/')}"
    return urljoin(f"{settings.SITE_URL}/", url)


@register.filter
def linkified(text: str) -> SafeString:
    """Plain text, escaped, with its http(s) addresses as links that open in a new tab
    (`rel="noopener noreferrer nofollow"`) and its line breaks kept."""
    parts: list[str] = []
    start = 0
    for match in _URL.finditer(text):
        url = _URL_TRAILING.sub("", match.group(0))
        parts.append(escape(text[start : match.start()]))
        parts.append(
            format_html(
                '<a href="{}" dir="ltr" target="_blank" rel="noopener noreferrer nofollow">{}</a>',
                url,
                url,
            )
        )
        start = match.start() + len(url)
    parts.append(escape(text[start:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))


@register.filter
def zone_place(zone: str) -> str:
    """ "Europe/Madrid" as "Madrid" (core.zones)."""
    return _zone_place(zone)


@register.filter
def with_zone_place(when: str, zone: str) -> str:
    """A time as written, then the place its zone is named for: "27 March 2026, 11:00 (Mexico
    City)", as the event emails' "Starts:" line reads. For a sentence whose translation has
    one slot for the time, which stays as it is in both languages."""
    return f"{when} ({_zone_place(zone)})"


@register.filter
def time_ago(when: datetime) -> str:
    """Django's `timesince`, with "a moment" for under a minute, where it says "0 minutes".
    Read after "ago" / "hace": "you asked a moment ago", "lo pediste hace un momento"."""
    if timezone.now() - when < timedelta(minutes=1):
        return _("a moment")
    return timesince(when)


@register.filter
def day_or_time(when: datetime) -> str:
    """When something last happened, as a list of them shows it, in the reader's zone: the
    time today ("09:41"), the day this year ("7 Dec", "7 dic"), the day and year before."""
    local, today = timezone.localtime(when), timezone.localdate()
    if local.date() == today:
        return time_format(local, "H:i")
    if local.year == today.year:
        return date_format(local, _("j M"))
    return date_format(local, _("j M Y"))
