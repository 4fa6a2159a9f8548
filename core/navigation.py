"""The main navigation, in one place. An entry shows up once its app defines the URL."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    members_only: bool = False
    staff_only: bool = False


MAIN_NAVIGATION = [
    NavItem("home", _("Home")),
    NavItem("members:directory", _("Members"), members_only=True),
    NavItem("matching:mine", _("Coffee pairs"), members_only=True),
    NavItem("rooms:lobby", _("Rooms"), members_only=True),
    NavItem("focus:blocks", _("Focus"), members_only=True),
    NavItem("conversations:list", _("Messages"), members_only=True),
    NavItem("events:list", _("Events"), members_only=True),
    NavItem("dashboard:index", _("Staff"), staff_only=True),
]


@dataclass(frozen=True)
class ResolvedNavItem:
    url: str
    label: str | Promise
    current: bool


def navigation_for(path: str, *, authenticated: bool, staff: bool = False) -> list[ResolvedNavItem]:
    items = []
    for item in MAIN_NAVIGATION:
        if item.members_only and not authenticated:
            continue
        if item.staff_only and not (authenticated and staff):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        current = path == url if url == "/" else path.startswith(url)
        items.append(ResolvedNavItem(url=url, label=item.label, current=current))
    return items
