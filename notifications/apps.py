from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from members.signals import member_renamed, session_key_changed
        from notifications import privacy, push

        privacy.register()
        user_logged_out.connect(push.subscriptions_forget_session, dispatch_uid="push_logout")
        session_key_changed.connect(push.subscriptions_follow_session, dispatch_uid="push_rekey")
        member_renamed.connect(privacy.notices_follow_rename, dispatch_uid="notices_rename")
