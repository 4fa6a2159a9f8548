from django.urls import path

from members.views import directory, privacy, profiles

app_name = "members"

urlpatterns = [
    path("", directory.directory, name="directory"),
    path("welcome/", profiles.onboarding, name="onboarding"),
    path("me/edit/", profiles.profile_edit, name="profile_edit"),
    path("me/met/", profiles.met_list, name="met"),
    path("me/met/<id:member_id>/note/", profiles.met_note, name="met_note"),
    path("<id:member_id>/", profiles.profile_detail, name="profile"),
    path("me/blocked/", privacy.blocked_list, name="blocked"),
    path("me/export/", privacy.data_export, name="export"),
    path("me/delete/", privacy.account_delete, name="delete"),
    path("<id:member_id>/block/", privacy.block, name="block"),
    path("<id:member_id>/unblock/", privacy.unblock, name="unblock"),
]
