from django.urls import path

from events import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("new/", views.event_new, name="new"),
    path("new/meetup/", views.meetup_new, name="meetup_new"),
    path("<int:pk>/", views.event_detail, name="event"),
    path("<int:pk>/edit/", views.event_edit, name="edit"),
    path("<int:pk>/rsvp/", views.rsvp, name="rsvp"),
    path("<int:pk>/event.ics", views.event_calendar, name="ics"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("calendar/rotate/", views.calendar_feed_new, name="feed_rotate"),
    path("calendar/<slug:token>.ics", views.calendar_feed, name="feed"),
]
