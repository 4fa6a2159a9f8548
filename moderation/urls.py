from django.urls import path

from moderation import views

app_name = "moderation"

# Mounted at the site's root: each page sits next to what it is about.
urlpatterns = [
    path("members/<id:member_id>/report/", views.report_member, name="report_member"),
    path(
        "rooms/<slug:slug>/messages/<id:message_id>/report/",
        views.report_message,
        name="report_message",
    ),
    path(
        "messages/<id:conversation_id>/<id:message_id>/report/",
        views.report_private_message,
        name="report_private_message",
    ),
    path("staff/moderation/", views.queue, name="queue"),
    path("staff/moderation/<id:pk>/", views.act, name="act"),
    path("staff/moderation/<id:pk>/file/", views.reported_file, name="reported_file"),
]
