from django.urls import path

from focus import views, views_standing

app_name = "focus"

urlpatterns = [
    path("", views.blocks, name="blocks"),
    path("drop-in/", views.drop_in, name="drop_in"),
    path("share-stats/", views_standing.share_stats, name="share_stats"),
    path("<id:pk>/", views.session, name="session"),
    path("<id:pk>/book/", views.book, name="book"),
    path("<id:pk>/cancel/", views.cancel, name="cancel"),
]
