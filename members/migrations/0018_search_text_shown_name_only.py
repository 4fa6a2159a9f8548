"""The directory's search text holds the name members see, only (members.services.
profile_search_text): a member who signed in with Google or GitHub and chose another display
name was still found by the first and last names the provider gave. The profiles with both
are indexed again. Like 0010, this keeps its own copy of the search text."""

import unicodedata

from django.db import migrations
from django.db.models import Q
from django_countries import countries


def search_text(profile):
    """members.services.profile_search_text as it is at this migration."""
    user = profile.user
    parts = [
        user.display_name or f"{user.first_name} {user.last_name}",
        profile.headline,
        profile.bio,
        profile.city,
        countries.name(str(profile.country)) if profile.country else "",
        *(
            label
            for interest in profile.interests.all()
            if interest.status == "approved"
            for label in (interest.label_es, interest.label_en)
            if label
        ),
    ]
    decomposed = unicodedata.normalize("NFKD", " ".join(p for p in parts if p).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def forwards(apps, schema_editor):
    Profile = apps.get_model("members", "Profile")
    affected = (
        Profile.objects.exclude(user__display_name="")
        .filter(~Q(user__first_name="") | ~Q(user__last_name=""))
        .select_related("user")
        .prefetch_related("interests")
    )
    batch = []
    for profile in affected.iterator(chunk_size=500):
        profile.search_text = search_text(profile)
        batch.append(profile)
    Profile.objects.bulk_update(batch, ["search_text"], batch_size=500)
    if schema_editor.connection.vendor == "postgresql" and batch:
        from django.contrib.postgres.search import SearchVector

        Profile.objects.filter(pk__in=[profile.pk for profile in batch]).update(
            search_vector=SearchVector("search_text", config="simple")
        )


class Migration(migrations.Migration):
    dependencies = [("members", "0017_working_hours_defaults")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
