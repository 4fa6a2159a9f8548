from django.urls import path

from members.views import profiles

app_name = "members"

urlpatterns = [
    path("welcome/", profiles.onboarding, name="onboarding"),
    path("me/edit/", profiles.profile_edit, name="profile_edit"),
    path("me/met/", profiles.met_list, name="met"),
    path("me/met/<int:member_id>/note/", profiles.met_note, name="met_note"),
    path("<int:member_id>/", profiles.profile_detail, name="profile"),
]
