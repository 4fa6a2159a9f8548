from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FocusConfig(AppConfig):
    name = "focus"
    verbose_name = _("Focus sessions")

    def ready(self) -> None:
        from focus import presence, privacy

        privacy.register()
        presence.register()
        # The member's focus figures on their profile (focus/stats.py).
        from focus.stats import stats_profile_section
        from members.profile_sections import profile_section_register

        profile_section_register(key="focus-stats", maker=stats_profile_section)
        # Links to a block's room (a mention, a report) lead to the block's page.
        from focus.sessions import block_page_of_room
        from rooms.models import Room
        from rooms.pages import room_page_register

        room_page_register(kind=Room.Kind.FOCUS, page=block_page_of_room)
        # A block made at a table moves the blocked member to another one.
        from focus.sessions import tables_part_after_block
        from members.signals import member_blocked

        member_blocked.connect(tables_part_after_block, dispatch_uid="focus_tables_part")
