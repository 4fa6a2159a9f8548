"""The demo member's private conversations: one with a coffee partner, one that waits
unread, and a small group, so that "Messages" shows what it is for. Once per account: a later
run finds them by their messages' client ids and adds nothing."""

import uuid
from datetime import datetime, timedelta

from conversations.models import Conversation, Message
from conversations.services import (
    ConversationRefused,
    direct_conversation_start,
    group_create,
    message_post,
)
from demo.people import DEMO_DOMAIN, People
from members.models import User

# (who: 0 is the member login, 1.. the others), minutes before now, text.
Line = tuple[int, int, str]

WITH_PARTNER: list[Line] = [
    (
        1,
        60 * 26,
        "¡Hola! Nos tocó café esta ronda 😊 ¿Te va bien el jueves a las 10 (hora de Madrid)?",
    ),
    (0, 60 * 25, "¡Hola! El jueves a las 10 perfecto. Para mí son las 3 en Bogotá, buen momento."),
    (1, 60 * 25 - 5, "Genial. Te paso el enlace de la mesa del café un rato antes."),
    (
        0,
        60 * 2,
        "Me encantó la charla. Te dejo el artículo que te comenté: https://example.com/remoto",
    ),
]
UNREAD: list[Line] = [
    (
        2,
        50,
        "¿Sigues con el proyecto de accesibilidad? Tengo un par de ideas para los formularios.",
    ),
    (2, 48, "Si te apetece, lo vemos en una sesión de foco esta semana."),
]
GROUP_TITLE = "Club de lectura remoto"
GROUP: list[Line] = [
    (3, 60 * 30, "Propuesta para diciembre: «Deep Work», de Cal Newport. ¿Os parece?"),
    (4, 60 * 29, "¡Me apunto! Lo tengo a medias."),
    (0, 60 * 28, "Yo también. ¿Quedamos el último viernes del mes para comentarlo?"),
]


def _say(conversation: Conversation, people: list[User], lines: list[Line], now: datetime) -> None:
    for position, (who, minutes, text) in enumerate(lines):
        client_id = uuid.uuid5(
            uuid.NAMESPACE_URL, f"https://{DEMO_DOMAIN}/conversation/{conversation.pk}/{position}"
        )
        message, created = message_post(
            conversation=conversation, author=people[who], text=text, client_id=client_id
        )
        if created:
            at = now - timedelta(minutes=minutes)
            Message.objects.filter(pk=message.pk).update(created_at=at)
            Conversation.objects.filter(pk=conversation.pk).update(last_message_at=at)


def conversations_make(*, people: People, now: datetime) -> None:
    who = people.members[:5]
    if len(who) < 5:
        return
    try:
        _say(direct_conversation_start(starter=who[1], other=who[0]), who, WITH_PARTNER, now)
        _say(direct_conversation_start(starter=who[2], other=who[0]), who, UNREAD, now)
        group = Conversation.objects.filter(title=GROUP_TITLE, participants__user=who[0]).first()
        if group is None:
            group = group_create(creator=who[3], members=[who[0], who[4]], title=GROUP_TITLE)
        _say(group, who, GROUP, now)
    except ConversationRefused:
        return  # someone trying the demo blocked one of them, or closed their messages
