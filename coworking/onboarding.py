"""A new member's first steps, shown on the home page until every one is done, and then no
more (`first_steps`): a photo, interests, working hours, the coffee pairs and a hello in the
cafeteria. Each step is read from what the member really did, wherever they did it, so
nothing has to remember to tick it. It reads members, matching and rooms at once, so it
lives with the home page."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from matching.apps import COMMUNITY_SLUG
from matching.models import GroupMember, Participation
from matching.schedule import next_round_for
from members.models import Interest, User
from rooms.models import CAFETERIA_SLUG, Message, Room


@dataclass(frozen=True)
class Step:
    key: str
    label: str | Promise
    url: str  # where to do it
    done: bool
    # The coffee pairs, joined and not paired yet: when the first pair comes.
    first_pair_at: datetime | None = None


@dataclass(frozen=True)
class Checklist:
    steps: list[Step]
    paired_before: bool = False  # a member back for the steps left has had coffee pairs

    @property
    def done_count(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def complete(self) -> bool:
        return all(step.done for step in self.steps)


def first_steps(*, user: User, now: datetime | None = None) -> Checklist | None:
    """The home page's list, or None once every step is done. The first time it is found
    complete that is noted on the member (`first_steps_done_at`, set once even if two pages
    find it at once), and it is not read again, nor shown should a step come undone later:
    the list is a welcome, and most members are long past it."""
    if user.first_steps_done_at is not None:
        return None
    checklist = onboarding_checklist(user=user, now=now)
    if not checklist.complete:
        return checklist
    User.objects.filter(pk=user.pk, first_steps_done_at__isnull=True).update(
        first_steps_done_at=now or timezone.now()
    )
    return None


def onboarding_checklist(*, user: User, now: datetime | None = None) -> Checklist:
    # One query for what the member did (the home page shows this on every visit), and
    # only for a member waiting for their first pair, what the programme's calendar says.
    facts = (
        User.objects.filter(pk=user.pk)
        .annotate(
            has_interests=Exists(Interest.objects.filter(profiles__user=OuterRef("pk"))),
            in_coffee_pairs=Exists(
                Participation.objects.filter(
                    user=OuterRef("pk"), programme__slug=COMMUNITY_SLUG, opted_in=True
                )
            ),
            paired_before=Exists(
                GroupMember.objects.filter(
                    user=OuterRef("pk"), round__programme__slug=COMMUNITY_SLUG
                )
            ),
            said_hello=Exists(
                Message.objects.filter(author=OuterRef("pk"), room__kind=Room.Kind.CAFETERIA)
            ),
        )
        .values(
            "profile__photo",
            "profile__onboarded_at",
            "profile__working_days",
            "has_interests",
            "in_coffee_pairs",
            "paired_before",
            "said_hello",
        )
        .get()
    )
    onboarded = facts["profile__onboarded_at"] is not None
    # Before onboarding the profile form is the onboarding page, which also asks about pairs.
    profile_form = reverse("members:profile_edit" if onboarded else "members:onboarding")
    first_pair_at = None
    # Rounds pair only onboarded members; "first" means never paired in this programme.
    if facts["in_coffee_pairs"] and onboarded and not facts["paired_before"]:
        participation = Participation.objects.select_related("programme").get(
            user=user, programme__slug=COMMUNITY_SLUG
        )
        first_pair_at = next_round_for(participation, now=now)
    return Checklist(
        [
            Step(
                "photo",
                _("Add a photo"),
                f"{profile_form}#id_photo_upload",
                done=bool(facts["profile__photo"]),
            ),
            Step(
                "interests",
                _("Add your skills and interests"),
                f"{profile_form}#id_interest_names",
                done=facts["has_interests"],
            ),
            # Hours have defaults, so they count as set once the member saved them on the
            # profile form, with at least one working day (pairing needs a day in common).
            Step(
                "working_hours",
                _("Set your working hours"),
                f"{profile_form}#id_working_hours_start",
                done=onboarded and bool(facts["profile__working_days"]),
            ),
            Step(
                "coffee_pairs",
                _("Join the coffee pairs"),
                reverse("matching:mine") + "#id_opted_in",
                done=facts["in_coffee_pairs"],
                first_pair_at=first_pair_at,
            ),
            Step(
                "hello",
                _("Say hello in the cafeteria"),
                reverse("rooms:room", args=[CAFETERIA_SLUG]) + "#chat",
                done=facts["said_hello"],
            ),
        ],
        paired_before=facts["paired_before"],
    )
