from typing import Any

from celery import shared_task

from core.emails import EMAIL_RETRY, message_from
from core.health import record_worker_heartbeat


@shared_task(ignore_result=True)
def worker_heartbeat() -> str:
    """Beat runs this every minute; /healthz shows when a worker last did."""
    return record_worker_heartbeat()


@shared_task(ignore_result=True, **EMAIL_RETRY)
def email_send(payload: dict[str, Any]) -> None:
    """An email written while a request waited (`core.emails.send_later`). A retry after a
    failed send sends it again; a mail server that took it but answered with an error may
    so deliver it twice, which for these emails (a link to confirm or reset) does no harm."""
    message_from(payload).send()
