"""Celery tasks for rooms. Each is safe to run twice."""

from asgiref.sync import async_to_sync
from celery import shared_task
from django.utils import timezone

from rooms import broadcast
from rooms.presence import presence_prune as prune


@shared_task(ignore_result=True)
def presence_prune() -> int:
    """Beat runs this every minute: connections that vanished without a goodbye (a closed
    laptop, a lost network) leave the rooms' presence. Returns how many rooms changed."""
    room_ids = prune(now=timezone.now())
    for room_id in room_ids:
        async_to_sync(broadcast.presence_changed)(room_id=room_id)
    return len(room_ids)
