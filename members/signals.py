"""Signals members sends for the apps above it, which connect to them in their `ready()`."""

from django.dispatch import Signal

# A member finished onboarding. Arguments: `user`, and `choices`, what they chose on the
# onboarding form for features of other apps (`coffee_pairs`: join the coffee pairs).
onboarding_completed = Signal()

# Staff suspended a member (members.services.member_suspend), inside its transaction.
# Argument: `user`.
member_suspended = Signal()

# A signed-in browser's session took a new key (Django cycles it when the password changes
# and the member stays signed in): what was recorded under the old key follows it. Sent by
# coworking.middleware.UserSessionActivityMiddleware on that browser's next request.
# Arguments: `user`, `old_key`, `new_key`.
session_key_changed = Signal()

# A member blocked another (members.services.block_create), once per block. Arguments:
# `blocker`, `blocked`.
member_blocked = Signal()

# A member's name changed (their profile form, or staff in the admin), inside the save's
# transaction: what apps above wrote with the old name for others to read (notices, coffee
# tables' rooms) is written with the new one, so that a later deletion finds it too.
# Arguments: `user` (with the new name), `old_name`.
member_renamed = Signal()
