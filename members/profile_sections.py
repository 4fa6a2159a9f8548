"""Sections that other apps add to a member's profile page (their focus figures, say).

`members` is a lower layer than the apps that own those figures, so it never imports them:
each app registers a maker from its `AppConfig.ready()`, and the profile page renders what
the makers return, in the order they were registered.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser

from members.models import User


@dataclass(frozen=True)
class ProfileSection:
    """A template to include on the profile page, with its own context (as `section`)."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


# Given the profile's member and whoever looks at the page (perhaps a visitor), a section,
# or None when that viewer is not to see one.
SectionMaker = Callable[[User, User | AnonymousUser], ProfileSection | None]

_makers: dict[str, SectionMaker] = {}


def profile_section_register(*, key: str, maker: SectionMaker) -> None:
    """Add a section to profile pages; registering the same key again replaces it (a
    reloaded app), so each app's part appears once."""
    _makers[key] = maker


def profile_sections_for(*, member: User, viewer: User | AnonymousUser) -> list[ProfileSection]:
    sections = []
    for maker in _makers.values():
        section = maker(member, viewer)
        if section is not None:
            sections.append(section)
    return sections
