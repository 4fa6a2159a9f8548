"""Conversation starters for coffee-pair intros: a small curated set, one per group."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Open questions anyone can answer, whatever they do: the intro offers one to break the ice,
# above all when the pair shares no interests.
STARTERS: tuple[Promise, ...] = (
    _("What are you working on this week that you are looking forward to?"),
    _("What does a good working day look like for you?"),
    _("How did you end up doing what you do now?"),
    _("What have you learned recently that surprised you?"),
    _("Where do you work from, and what do you like about it?"),
    _("What could you use some help with right now, and what could you help others with?"),
    _("Which tool or habit makes your work easier?"),
    _("What do you enjoy doing when you are not working?"),
)


def starter_for(group_id: int) -> Promise:
    """The group's question: fixed by the group, so that every member's email and the pairs
    page ask the same one, each in the reader's language."""
    return STARTERS[group_id % len(STARTERS)]
