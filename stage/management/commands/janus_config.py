from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from stage.janus import JanusSettings, config_files


class Command(BaseCommand):
    help = "Write the media server's (Janus's) configuration files, made from the settings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", help="where to write them (run `janus -F <folder>`)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.JANUS_API_SECRET or not settings.JANUS_ROOM_ADMIN_KEY:
            raise CommandError("Set JANUS_API_SECRET and JANUS_ROOM_ADMIN_KEY first.")
        folder = Path(options["folder"]).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in config_files(JanusSettings.from_settings(), folder=str(folder)).items():
            (folder / name).write_text(text)
            self.stdout.write(str(folder / name))
