from django.urls import path

from matching import views

app_name = "matching"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("settings/", views.participation_settings, name="settings"),
    path("answer/", views.answer_set, name="answer_set"),
    path("answer/<str:token>/", views.answer, name="answer"),
    path("resume/<str:token>/", views.resume, name="resume"),
]
