from typing import Any

from django.core.management.base import BaseCommand

from notifications.push import vapid_key_generate, vapid_key_public


class Command(BaseCommand):
    help = (
        "Make a VAPID key pair for Web Push and print it as environment lines. Set "
        "VAPID_PRIVATE_KEY on every web and worker process; changing it later turns off "
        "every device, as browsers tie their subscriptions to the key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        private = vapid_key_generate()
        self.stdout.write(f"VAPID_PRIVATE_KEY={private}")
        self.stdout.write(f"# public key (applicationServerKey): {vapid_key_public(private)}")
