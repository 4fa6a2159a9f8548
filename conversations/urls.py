from django.urls import path

from conversations import views

app_name = "conversations"

urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("new/", views.group_new, name="group_new"),
    path("search/", views.conversation_search, name="search"),
    path("<int:conversation_id>/", views.conversation_detail, name="detail"),
    path("<int:conversation_id>/group/", views.group_settings, name="group"),
    path("<int:conversation_id>/<int:message_id>/react/", views.message_react, name="react"),
    path("<int:conversation_id>/<int:message_id>/delete/", views.message_delete, name="delete"),
    path("<int:conversation_id>/<int:message_id>/file/", views.attachment, name="attachment"),
    path("with/<int:member_id>/", views.conversation_start, name="start"),
]
