"""What staff may do in rooms, each act with the admin's permission for the same act
(`core.access.staff_may`): an account made staff for the events reads no private room,
deletes nobody's message and moderates nobody."""

# Come into any room and read it, private ones and coffee tables too (the message admin).
READ = "rooms.view_message"
# Close a room, invite to it, make it permanent, come in before it opens (the room admin).
MANAGE = "rooms.change_room"
# Delete someone else's message (the message admin's soft delete).
DELETE = "rooms.change_message"
# Send a member out, mute them, and see who is muted (the participation admin's actions).
MODERATE = "rooms.change_roomparticipation"
