from django.urls import path

from events import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("new/", views.event_new, name="new"),
    path("new/meetup/", views.meetup_new, name="meetup_new"),
    path("<id:pk>/", views.event_detail, name="event"),
    path("<id:pk>/edit/", views.event_edit, name="edit"),
    path("<id:pk>/rsvp/", views.rsvp, name="rsvp"),
    path("<id:pk>/event.ics", views.event_calendar, name="ics"),
    path("<id:pk>/cancel/", views.cancel, name="cancel"),
    path("calendar/rotate/", views.calendar_feed_new, name="feed_rotate"),
    path("calendar/<slug:token>.ics", views.calendar_feed, name="feed"),
]
