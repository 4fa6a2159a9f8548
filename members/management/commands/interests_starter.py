from typing import Any

from django.core.management.base import BaseCommand

from members.models import Interest
from members.services import interests_from_names
from members.starter import STARTER_INTERESTS


class Command(BaseCommand):
    help = (
        "Add the starter list of skills and interests (members/starter.py), approved: for a "
        "new community. Safe to run again: a tag already there, in either language, is kept "
        "as it is (a member's suggestion of it is approved)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        before = Interest.objects.approved().count()
        interests_from_names(names=STARTER_INTERESTS)
        after = Interest.objects.approved().count()
        self.stdout.write(f"{after - before} interests added or approved; {after} approved in all.")
