from django.urls import path

from matching import views

app_name = "matching"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("settings/", views.participation_settings, name="settings"),
    path("answer/", views.answer_set, name="answer_set"),
    path("now/", views.pair_now, name="pair_now"),
    path("again/<id:member_id>/", views.meet_again, name="meet_again"),
    path("programmes/<slug:slug>/", views.programme_join, name="programme_join"),
    path("now/cancel/", views.pair_now_cancel, name="pair_now_cancel"),
    path("answer/<str:token>/", views.answer, name="answer"),
    path("resume/<str:token>/", views.resume, name="resume"),
    path("rating/<str:token>/", views.rating, name="rating"),
    path("meeting/<id:group_id>/", views.meeting, name="meeting"),
    path("meeting/<id:group_id>/propose/", views.meeting_propose, name="meeting_propose"),
    path("meeting/<id:group_id>/accept/", views.meeting_accept, name="meeting_accept"),
    path("meeting/<id:group_id>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("meeting/<id:group_id>/table/", views.meeting_place, name="meeting_place"),
    path("meeting/<id:group_id>/write/", views.meeting_write, name="meeting_write"),
    path("meeting/link/<str:token>/", views.meeting_link, name="meeting_link"),
]
