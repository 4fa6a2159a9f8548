from django.urls import path

from stage import views

app_name = "stage"

urlpatterns = [
    path("<slug:slug>/", views.stage, name="stage"),
]
