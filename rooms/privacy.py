"""Personal data of the rooms app (the registry: members/privacy.py)."""

from typing import Any

from members.models import User
from members.privacy import Deletion, export_moment, personal_data_register
from members.signals import member_suspended
from rooms.models import Mention, Message, Presence, Reaction, Room, RoomParticipation, Visit
from rooms.services import rooms_close_of


def _rooms_export(user: User) -> dict[str, Any]:
    return {
        "created": [
            {"room": room.title, "created_at": export_moment(room.created_at)}
            for room in Room.objects.filter(created_by=user)
        ],
        "invited_to": [room.title for room in Room.objects.filter(invitees=user)],
        "participation": [
            {
                "room": participation.room.title,
                "first_seen_at": export_moment(participation.first_seen_at),
                "last_seen_at": export_moment(participation.last_seen_at),
                "muted_until": export_moment(participation.muted_until),
                "removed_at": export_moment(participation.removed_at),
            }
            for participation in RoomParticipation.objects.filter(user=user).select_related("room")
        ],
        "visits": [
            {
                "room": visit.room.title,
                "started_at": export_moment(visit.started_at),
                "ended_at": export_moment(visit.ended_at),
            }
            for visit in Visit.objects.filter(user=user).select_related("room")
        ],
    }


def _rooms_delete(user: User) -> None:
    Room.invitees.through.objects.filter(user=user).delete()
    RoomParticipation.objects.filter(user=user).delete()
    Presence.objects.filter(user=user).delete()
    # Rooms they opened and their visits stay (the room is everyone's, the visits count in
    # the room's statistics), under the former member.


def _messages_export(user: User) -> list[dict[str, Any]]:
    return [
        {
            "id": message.pk,
            "room": message.room.title,
            "text": message.text,
            "reply_to": message.reply_to_id,
            "created_at": export_moment(message.created_at),
            "edited_at": export_moment(message.edited_at),
            "deleted": message.is_deleted,
        }
        for message in Message.objects.filter(author=user).select_related("room").order_by("pk")
    ]


def _messages_delete(user: User) -> None:
    Mention.objects.filter(user=user).delete()


def _reactions_export(user: User) -> list[dict[str, Any]]:
    return [
        {
            "room": reaction.message.room.title,
            "message": reaction.message_id,
            "emoji": reaction.emoji,
            "created_at": export_moment(reaction.created_at),
        }
        for reaction in Reaction.objects.filter(user=user)
        .select_related("message__room")
        .order_by("pk")
    ]


def _reactions_delete(user: User) -> None:
    Reaction.objects.filter(user=user).delete()


def _suspended(sender: object, user: User, **kwargs: object) -> None:
    rooms_close_of(user=user)


def register() -> None:
    member_suspended.connect(_suspended, dispatch_uid="rooms_close_on_suspension")
    personal_data_register(
        key="rooms",
        models=("rooms.Room", "rooms.RoomParticipation", "rooms.Presence", "rooms.Visit"),
        export=_rooms_export,
        delete=_rooms_delete,
        deletion=Deletion.ANONYMISE,
        note="Invitations, presence and mutes go; rooms they opened and their visits stay, "
        "under “Former member”.",
    )
    personal_data_register(
        key="room_messages",
        models=("rooms.Message", "rooms.Mention"),
        export=_messages_export,
        delete=_messages_delete,
        deletion=Deletion.ANONYMISE,
        note="Their messages stay in the conversation, signed “Former member”.",
    )
    personal_data_register(
        key="room_reactions",
        models=("rooms.Reaction",),
        export=_reactions_export,
        delete=_reactions_delete,
        deletion=Deletion.ERASE,
        note="Their reactions to room messages go.",
    )
