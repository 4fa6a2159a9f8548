from django.urls import path

from newsletter import views

app_name = "newsletter"

urlpatterns = [
    path("", views.index, name="index"),
    path("<id:pk>/", views.issue_detail, name="issue"),
    path("leave/", views.leave, name="leave"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("bounces/", views.bounces_webhook, name="bounces"),
]
