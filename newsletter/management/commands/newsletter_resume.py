from typing import Any

from django.core.management.base import BaseCommand

from newsletter.tasks import newsletter_resume_tick


class Command(BaseCommand):
    help = (
        "Pick up issues whose sending stopped (what beat does every five minutes): settle "
        "batches a dead worker left and queue the rest. Safe to run at any time."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        resumed = newsletter_resume_tick()
        self.stdout.write(f"Resumed {resumed} issue(s).")
