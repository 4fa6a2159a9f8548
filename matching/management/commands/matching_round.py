from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from matching import services
from matching.apps import COMMUNITY_SLUG
from matching.models import Programme


class Command(BaseCommand):
    help = (
        "Start a coffee-pair round for a programme (once per time: a second run is a no-op), "
        "or show with --dry-run who would be paired, without saving anything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--programme", default=COMMUNITY_SLUG, help="Programme slug (default: %(default)s)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the pairs and save nothing."
        )
        parser.add_argument(
            "--at",
            help="When the round is scheduled, ISO 8601 (e.g. 2026-03-02T09:00+01:00); without "
            "an offset it is read in the programme's time zone. Default: now, to the minute.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        programme = Programme.objects.filter(slug=options["programme"]).first()
        if programme is None:
            known = ", ".join(Programme.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(
                f"No programme with the slug “{options['programme']}” (known: {known})."
            )
        scheduled_for = self._moment(options["at"], programme)

        if options["dry_run"]:
            plan = services.round_plan(programme=programme, scheduled_for=scheduled_for)
            self.stdout.write(
                f"Dry run for {programme} at {scheduled_for.isoformat()}: "
                f"{len(plan.members)} eligible, {len(plan.result.groups)} groups, "
                f"total score {plan.result.total_score:.2f}. Nothing was saved."
            )
            for group in plan.result.groups:
                names = " + ".join(str(plan.members[user_id]) for user_id in group.members)
                self.stdout.write(f"  {names}  (score {group.score:.2f})")
            for user_id in plan.result.unmatched:
                self.stdout.write(f"  unmatched: {plan.members[user_id]}")
            return

        round_, created = services.round_create(programme=programme, scheduled_for=scheduled_for)
        if created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created round {round_.pk} of {programme} at {scheduled_for.isoformat()}: "
                    f"{round_.groups.count()} groups, {round_.unmatched.count()} unmatched."
                )
            )
        else:
            self.stdout.write(
                f"Round {round_.pk} of {programme} at {scheduled_for.isoformat()} already "
                "exists; nothing changed."
            )

    def _moment(self, value: str | None, programme: Programme) -> datetime:
        if not value:
            return timezone.now().replace(second=0, microsecond=0)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise CommandError(
                f"--at “{value}” is not an ISO 8601 date and time, e.g. 2026-03-02T09:00+01:00."
            ) from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(programme.time_zone))
        return moment
