from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from demo import data, seed


class Command(BaseCommand):
    help = (
        "Create the demo community, or bring it up to date: events, coffee rounds and the "
        "cafeteria's talk move to the days around now. Safe to run again: nothing is "
        "duplicated, and only demo accounts and what they made are written."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = seed.demo_seed()
        write = self.stdout.write
        write(
            f"Demo community ready: {report.created} people created, "
            f"{report.existing} already there."
        )
        if report.upcoming:
            first = report.upcoming[0]
            starts = timezone.localtime(first.starts_at)
            write(
                f"  Coming up: {len(report.upcoming)} events, the next “{first.title}” "
                f"on {starts:%Y-%m-%d at %H:%M} ({settings.TIME_ZONE})."
            )
        latest = report.pairs.latest
        if latest is not None:
            day = timezone.localtime(latest.scheduled_for)
            write(f"  Coffee pairs: latest round on {day:%Y-%m-%d}, {latest.groups.count()} pairs.")
        if report.pairs.note:
            write(f"  Coffee pairs: {report.pairs.note}")
        write(
            f"  Cafeteria: {len(report.chat)} messages today. Who is in a room shows live "
            "people only: log in with both accounts (two browsers) and meet there."
        )
        write("")
        write(self.style.SUCCESS(f"Open {settings.SITE_URL}/ and log in as"))
        write(f"  staff:   {data.STAFF_EMAIL}  password {data.STAFF_PASSWORD}")
        write(f"  member:  {data.MEMBER_EMAIL}  password {data.MEMBER_PASSWORD}")
