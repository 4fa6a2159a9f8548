"""The header shows the member's photo (its thumbnail) from the user row, which every request
reads anyway (User.avatar_thumbnail); filled in here for the photos already there."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def avatars_filled(apps, schema_editor):
    User = apps.get_model("members", "User")
    Profile = apps.get_model("members", "Profile")
    thumbnail = Profile.objects.filter(user_id=OuterRef("pk")).values("photo_thumbnail")[:1]
    User.objects.filter(profile__photo_thumbnail__gt="").update(
        avatar_thumbnail=Subquery(thumbnail)
    )


class Migration(migrations.Migration):
    dependencies = [("members", "0018_search_text_shown_name_only")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="avatar_thumbnail",
            field=models.CharField(blank=True, editable=False, max_length=200),
        ),
        migrations.RunPython(avatars_filled, migrations.RunPython.noop, elidable=True),
    ]
