"""The host is going to their own event, in one of its seats (events.rsvps.host_seat_take),
and a meetup does not outlive its host's account (events.services.hosted_meetups_cancel).
Events still to come are brought in line; past ones keep their records as they were."""

from typing import Any

from django.db import migrations
from django.db.models import F
from django.utils import timezone


def forwards(apps: Any, schema_editor: Any) -> None:
    Event = apps.get_model("events", "Event")
    Rsvp = apps.get_model("events", "Rsvp")
    now = timezone.now()
    upcoming = Event.objects.filter(cancelled_at__isnull=True, ends_at__gt=now)
    # Meetups whose host deleted their account before this change. Nobody is emailed from a
    # migration: their calendars learn it from the raised revision (SEQUENCE) in the feed.
    upcoming.filter(kind="meetup", host__deleted_at__isnull=False).update(
        cancelled_at=now, sequence=F("sequence") + 1, updated_at=now
    )
    for event in upcoming.filter(host__isnull=False, host__deleted_at__isnull=True):
        Rsvp.objects.update_or_create(
            event=event,
            user_id=event.host_id,
            defaults={"status": "going", "position": None},
            create_defaults={
                "status": "going",
                "position": None,
                "announced_sequence": event.sequence,
            },
        )
        # The seats promised to members stay theirs: the host's is one more.
        going = Rsvp.objects.filter(event=event, status="going").count()
        if event.capacity is not None and going > event.capacity:
            Event.objects.filter(pk=event.pk).update(capacity=going)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_attendance"),
        ("members", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
