from typing import Any

from django.core.management.base import BaseCommand

from core import demo


class Command(BaseCommand):
    help = "Create (or complete) a demo community. Safe to run again: nothing is duplicated."

    def handle(self, *args: Any, **options: Any) -> None:
        report = demo.demo_seed()
        self.stdout.write(
            f"Demo community ready: {report.created} people created, "
            f"{report.existing} already there."
        )
        self.stdout.write(f"  Staff account:  {demo.STAFF_EMAIL} / {demo.STAFF_PASSWORD}")
        self.stdout.write(f"  Member account: {demo.MEMBER_EMAIL} / {demo.MEMBER_PASSWORD}")
