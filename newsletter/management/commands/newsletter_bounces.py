import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from newsletter import services
from newsletter.models import Subscriber


class Command(BaseCommand):
    help = (
        "Mark addresses that bounced (or, with --complaint, reported the newsletter as spam) "
        "as undeliverable, so no issue is sent to them again. Addresses come as arguments, "
        "from a file (--file PATH, one per line) or from standard input (--file -)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("emails", nargs="*", help="Addresses to mark.")
        parser.add_argument("--file", help="A file with one address per line; - for stdin.")
        parser.add_argument(
            "--complaint", action="store_true", help="Spam complaints rather than bounces."
        )
        parser.add_argument("--detail", default="", help="A note kept with each address.")

    def handle(self, *args: Any, **options: Any) -> None:
        emails: list[str] = list(options["emails"])
        if options["file"] == "-":
            emails += sys.stdin.read().split()
        elif options["file"]:
            try:
                emails += Path(options["file"]).read_text().split()
            except OSError as exc:
                raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
        if not emails:
            raise CommandError("Give at least one address, or --file.")
        reason = Subscriber.Reason.COMPLAINT if options["complaint"] else Subscriber.Reason.BOUNCE
        marked = services.subscribers_mark_undeliverable(
            emails=emails, reason=reason, detail=options["detail"]
        )
        self.stdout.write(
            f"Marked {marked} of {len(set(emails))} addresses undeliverable ({reason})."
        )
