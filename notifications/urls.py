from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read/", views.notifications_read, name="read"),
    path("settings/", views.preferences, name="settings"),
    path("digest/off/<str:token>/", views.digest_off, name="digest_off"),
    path("emails/off/<str:token>/", views.email_off, name="email_off"),
    path("<id:pk>/", views.notification_open, name="open"),
    path("push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("push/renew/", views.push_renew, name="push_renew"),
    path("push/rebind/", views.push_rebind, name="push_rebind"),
    path("push/test/", views.push_test, name="push_test"),
    path("push/<id:pk>/remove/", views.push_remove, name="push_remove"),
]
