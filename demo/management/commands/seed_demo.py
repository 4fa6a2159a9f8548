from typing import Any

from django.core.management.base import BaseCommand

from demo import data, seed


class Command(BaseCommand):
    help = "Create (or complete) a demo community. Safe to run again: nothing is duplicated."

    def handle(self, *args: Any, **options: Any) -> None:
        report = seed.demo_seed()
        self.stdout.write(
            f"Demo community ready: {report.created} people created, "
            f"{report.existing} already there."
        )
        self.stdout.write(f"  Staff account:  {data.STAFF_EMAIL} / {data.STAFF_PASSWORD}")
        self.stdout.write(f"  Member account: {data.MEMBER_EMAIL} / {data.MEMBER_PASSWORD}")
