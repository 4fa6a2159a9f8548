"""A lived-in demo community for `manage.py seed_demo`, which `make run` runs on each start.

Deterministic and idempotent: people are made once; what depends on the date (events,
coffee rounds, today's cafeteria, who was seen lately) is placed relative to `now` on every
run, so a demo started weeks later is as fresh as a new one. Only demo rows are written:
accounts on `demo.data.DEMO_DOMAIN` and what they made."""

import random
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from demo.activity import (
    cafeteria_chat,
    newsletter_make,
    reports_make,
    room_usage_fill,
    rooms_ensure,
)
from demo.agenda import agenda_refresh
from demo.conversations import conversations_make
from demo.data import EVENTS
from demo.focus import focus_refresh
from demo.pairs import PairsReport, coffee_pairs_join, coffee_pairs_refresh
from demo.people import acquaintances_make, last_seen_refresh, people_ensure
from events.models import Event
from rooms.models import Message


@dataclass(frozen=True)
class SeedReport:
    created: int
    existing: int
    upcoming: list[Event]
    pairs: PairsReport
    chat: list[Message]


@transaction.atomic
def demo_seed(*, now: datetime | None = None) -> SeedReport:
    now = now or timezone.now()
    rng = random.Random(2026)
    people = people_ensure(rng, now=now)
    if people.member in people.created:
        acquaintances_make(rng, members=people.members, now=now)
    coffee_pairs_join(members=people.members, created=people.created)
    rooms = rooms_ensure(staff=people.staff)
    chat = cafeteria_chat(people=people, now=now)
    events = agenda_refresh(people=people, ideas=EVENTS, room=rooms.training, now=now)
    pairs = coffee_pairs_refresh(people=people, now=now)
    last_seen_refresh(people=people, now=now)
    room_usage_fill(rooms=[chat[0].room, rooms.training, rooms.focus], now=now)
    reports_make(people=people)
    conversations_make(people=people, now=now)
    newsletter_make(staff=people.staff, now=now)
    focus_refresh(people=people, now=now)
    everyone = len(people.members) + 1
    return SeedReport(
        created=len(people.created),
        existing=everyone - len(people.created),
        upcoming=sorted(
            (event for event in events if event.ends_at > now), key=lambda e: e.starts_at
        ),
        pairs=pairs,
        chat=chat,
    )
