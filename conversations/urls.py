from django.urls import path

from conversations import views

app_name = "conversations"

urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("new/", views.group_new, name="group_new"),
    path("search/", views.conversation_search, name="search"),
    path("<id:conversation_id>/", views.conversation_detail, name="detail"),
    path("<id:conversation_id>/group/", views.group_settings, name="group"),
    path("<id:conversation_id>/mute/", views.conversation_mute, name="mute"),
    path("<id:conversation_id>/archive/", views.conversation_archive, name="archive"),
    path("<id:conversation_id>/<id:message_id>/react/", views.message_react, name="react"),
    path("<id:conversation_id>/<id:message_id>/delete/", views.message_delete, name="delete"),
    path("<id:conversation_id>/<id:message_id>/file/", views.attachment, name="attachment"),
    path("with/<id:member_id>/", views.conversation_start, name="start"),
]
