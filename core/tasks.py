from celery import shared_task

from core.health import record_worker_heartbeat


@shared_task(ignore_result=True)
def worker_heartbeat() -> str:
    """Beat runs this every minute; /healthz shows when a worker last did."""
    return record_worker_heartbeat()
