"""Files and pictures in a conversation: a picture is re-encoded and shown to the members
only; any other file is only ever a download; the corpus of bad uploads (too large, empty,
a pixel bomb, a polyglot, an SVG with a script, a text file calling itself a PNG) is refused
or neutralised with a clear message, and nothing is lost from the form."""

import io
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from conversations import services
from conversations.live import message_data
from conversations.models import Attachment, Conversation, Message, Participant
from conversations.services import (
    direct_conversation_start,
    group_create,
    group_leave,
    message_delete,
    message_post,
)
from conversations.tasks import orphans_delete, unread_tell_tick
from members.privacy import account_delete, account_export
from tests.test_conversations import member, signed_in
from tests.test_members_profile import image_bytes, mpo_bytes, sideways_jpeg, too_many_pixels_png

pytestmark = pytest.mark.django_db

SVG = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(document.cookie)</script></svg>"


def share(client: Client, conversation: Conversation, upload: Any, text: str = "") -> Any:
    return client.post(
        conversation.get_absolute_url(),
        {"text": text, "client_id": str(uuid.uuid4()), "attachment": upload},
    )


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_a_picture_is_re_encoded_and_only_the_conversation_sees_it() -> None:
    ana, beto, eve = member("Ana Arias"), member("Beto Blanco"), member("Eve Extraña")
    conversation = direct_conversation_start(starter=ana, other=beto)
    anas, betos = signed_in(ana), signed_in(beto)
    # A JPEG with a page glued to its end: a polyglot.
    polyglot = image_bytes("JPEG", (2400, 1200)) + b"<html><script>alert(1)</script></html>"

    sent = share(anas, conversation, SimpleUploadedFile("vista.jpg", polyglot), "Mi mesa")
    assert sent.status_code == 302
    shared = Attachment.objects.get()
    assert (shared.kind, shared.name) == ("image", "vista.webp")
    url = f"/messages/{conversation.pk}/{shared.message_id}/file/"
    page = betos.get(conversation.get_absolute_url()).content.decode()
    assert f'src="{url}?thumbnail=1"' in page and 'alt="Picture: vista.webp"' in page

    served = betos.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]
    picture = body(served)
    assert b"<script" not in picture
    assert Image.open(io.BytesIO(picture)).size == (1600, 800)
    assert Image.open(io.BytesIO(body(betos.get(f"{url}?thumbnail=1")))).size == (320, 160)
    assert signed_in(eve).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to log in
    assert "private-media" not in page and "/media/" not in page


def test_a_large_picture_is_shown_upright_and_what_was_transparent_on_white() -> None:
    """Both are made smaller before anything else is done to them: the sideways photo is
    turned after it has been scaled, the transparent one flattened a strip at a time."""
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    photo = io.BytesIO(sideways_jpeg((3600, 2400), top=600))
    logo = Image.new("RGBA", (3400, 1700), (0, 0, 0, 0))
    logo.paste((20, 40, 160, 255), (1200, 400, 2200, 1300))
    drawing = io.BytesIO()
    logo.save(drawing, format="PNG")
    anas, betos = signed_in(ana), signed_in(beto)

    for name, data in (("retrato.jpg", photo), ("logo.png", drawing)):
        sent = share(anas, conversation, SimpleUploadedFile(name, data.getvalue()))
        assert sent.status_code == 302

    served = {}
    for shared in Attachment.objects.all():
        url = f"/messages/{conversation.pk}/{shared.message_id}/file/"
        served[shared.name] = Image.open(io.BytesIO(body(betos.get(url)))).convert("RGB")
    portrait, flat = served["retrato.webp"], served["logo.webp"]
    assert (portrait.size, flat.size) == ((1067, 1600), (1600, 800))
    red, _green, blue = portrait.getpixel((533, 20))  # type: ignore[misc]
    assert red > 200 and blue < 60
    corner, middle = flat.getpixel((5, 5)), flat.getpixel((800, 400))
    assert isinstance(corner, tuple) and isinstance(middle, tuple)
    assert min(corner) > 240 and middle[2] > 120 and middle[0] < 60


def test_a_camera_jpeg_with_a_second_image_is_shown_as_the_picture_it_is() -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)

    sent = share(signed_in(ana), conversation, SimpleUploadedFile("DSC01234.JPG", mpo_bytes()))

    assert sent.status_code == 302
    shared = Attachment.objects.get()
    assert (shared.kind, shared.name) == ("image", "DSC01234.webp")
    served = signed_in(beto).get(f"/messages/{conversation.pk}/{shared.message_id}/file/")
    with Image.open(io.BytesIO(body(served))) as picture:
        assert picture.size == (800, 600)  # the first image, not the second
        red, _green, blue = picture.convert("RGB").getpixel((400, 300))  # type: ignore[misc]
    assert red > 180 and blue < 60


@pytest.mark.parametrize(
    ("content", "name", "stored_as"),
    [
        (SVG, "dibujo.svg", "dibujo.svg"),
        (b"not a picture at all", "foto.png", "foto.png"),
        (image_bytes("GIF"), "anim.gif", "anim.gif"),
        (b"%PDF-1.4 notes", "../../etc/notas del día.pdf", "notas_del_día.pdf"),
    ],
)
def test_any_other_file_is_kept_as_it_came_and_only_ever_downloaded(
    content: bytes, name: str, stored_as: str
) -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)

    anas = signed_in(ana)
    assert share(anas, conversation, SimpleUploadedFile(name, content)).status_code == 302
    told = anas.get(conversation.get_absolute_url()).content.decode()
    promised_a_picture = not name.endswith(".pdf")
    assert ("is not a picture this site shows" in told) == promised_a_picture
    shared = Attachment.objects.get()
    assert (shared.kind, shared.name) == ("file", stored_as)
    assert not str(shared.file.name).endswith((".svg", ".png", ".pdf"))
    served = signed_in(beto).get(f"/messages/{conversation.pk}/{shared.message_id}/file/")
    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"].startswith("attachment;")
    assert served["X-Content-Type-Options"] == "nosniff"
    assert body(served) == content


@pytest.mark.parametrize(
    ("name", "stored_as"),
    [("🎉", "file"), ("«»", "file"), ("!!!", "file"), ("🎉 🎉.pdf", "file.pdf")],
)
def test_a_file_whose_name_keeps_no_letter_or_digit_is_shared_named_file(
    name: str, stored_as: str
) -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)

    sent = share(signed_in(ana), conversation, SimpleUploadedFile(name, b"hola"), "Mira esto")

    assert sent.status_code == 302
    shared = Attachment.objects.get()
    assert (shared.kind, shared.name, shared.message.text) == ("file", stored_as, "Mira esto")
    served = signed_in(beto).get(f"/messages/{conversation.pk}/{shared.message_id}/file/")
    assert f'filename="{stored_as}"' in served["Content-Disposition"]


def test_a_scan_of_more_pixels_than_a_picture_may_have_goes_as_a_file() -> None:
    """A format the site does not show is not decoded as a picture, however many pixels it
    says it has: a plan scanned in black and white, 9000 × 9000, in a few KB."""
    scan = io.BytesIO()
    Image.new("1", (9000, 9000), 1).save(scan, format="TIFF", compression="group4")
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)

    anas = signed_in(ana)
    sent = share(anas, conversation, SimpleUploadedFile("plano.tif", scan.getvalue()), "El plano")

    assert sent.status_code == 302
    shared = Attachment.objects.get()
    assert (shared.kind, shared.name, shared.message.text) == ("file", "plano.tif", "El plano")
    told = anas.get(conversation.get_absolute_url()).content.decode()
    assert "is not a picture this site shows" in told
    served = signed_in(beto).get(f"/messages/{conversation.pk}/{shared.message_id}/file/")
    assert body(served) == scan.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"x" * (10 * 2**20 + 1), "grande.bin", "The file is too large: the limit is 10 MB."),
        (b"", "vacio.txt", "The submitted file is empty."),
        (too_many_pixels_png(), "bomba.png", "too many pixels"),
    ],
)
def test_bad_uploads_are_refused_with_a_reason_and_the_text_stays(
    content: bytes, name: str, message: str
) -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)

    refused = share(signed_in(ana), conversation, SimpleUploadedFile(name, content), "Mira esto")

    assert refused.status_code == 400
    page = refused.content.decode()
    assert message in page and "Mira esto" in page
    assert not Message.objects.exists() and not Attachment.objects.exists()


def test_deleting_a_message_deletes_its_file(django_capture_on_commit_callbacks: Any) -> None:
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    share(signed_in(ana), conversation, SimpleUploadedFile("notas.txt", b"hola"))
    shared = Attachment.objects.get()
    storage, name = shared.file.storage, str(shared.file.name)
    assert storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        message_delete(message=shared.message, by=ana)

    assert not storage.exists(name) and not Attachment.objects.exists()
    url = f"/messages/{conversation.pk}/{shared.message_id}/file/"
    assert signed_in(beto).get(url).status_code == 404


def test_a_conversation_nobody_is_left_in_goes_with_its_files(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the deletion commits, its messages a batch at a time (a conversation of years
    is not one giant delete in the member's request)."""
    monkeypatch.setattr(services, "ORPHAN_BATCH", 2)
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    with_beto = direct_conversation_start(starter=ana, other=beto)
    for n in range(4):
        message_post(conversation=with_beto, author=beto, text=f"¿{n}?", client_id=uuid.uuid4())
    share(signed_in(ana), with_beto, SimpleUploadedFile("notas.txt", b"hola"), "Mis notas")
    with_carla = direct_conversation_start(starter=ana, other=carla)
    message_post(conversation=with_carla, author=ana, text="Hola", client_id=uuid.uuid4())
    shared = Attachment.objects.get()
    storage, name = shared.file.storage, str(shared.file.name)

    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=ana)
    # Beto still reads his: it stays, file and all.
    assert storage.exists(name) and Conversation.objects.filter(pk=with_beto.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=beto)

    assert not storage.exists(name)
    assert not Conversation.objects.filter(pk=with_beto.pk).exists()
    assert not Message.objects.filter(conversation_id=with_beto.pk).exists()
    assert not Attachment.objects.exists()
    assert Conversation.objects.filter(pk=with_carla.pk).exists()


def test_the_task_takes_only_the_conversations_it_is_given_and_each_once() -> None:
    """A group its members all left stays (a trio's coffee link would otherwise open it
    again around those who left)."""
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    emptied = direct_conversation_start(starter=ana, other=beto)
    message_post(conversation=emptied, author=ana, text="Hola", client_id=uuid.uuid4())
    left = direct_conversation_start(starter=ana, other=carla)
    Participant.objects.filter(conversation__in=[emptied, left]).delete()

    assert orphans_delete([emptied.pk]) == 1
    assert orphans_delete([emptied.pk]) == 0  # a second run finds nothing
    assert list(Conversation.objects.all()) == [left]


def test_the_export_holds_files_by_name_and_what_was_written_in_a_group_left_since() -> None:
    ana, beto, carla = member("Ana Arias"), member("Beto Blanco"), member("Carla Cruz")
    pottery = group_create(creator=ana, members=[beto, carla], title="Cerámica")
    share(signed_in(ana), pottery, SimpleUploadedFile("notas.txt", b"hola"), "Mis notas")
    group_leave(conversation=pottery, user=ana)
    with_beto = direct_conversation_start(starter=ana, other=beto)
    message_post(conversation=with_beto, author=ana, text="¿Sigues?", client_id=uuid.uuid4())

    exported = {entry["conversation"]: entry for entry in account_export(user=ana)["conversations"]}

    left = exported[pottery.pk]
    assert (left["name"], left["joined_at"]) == ("Cerámica", None)
    [written] = left["messages_written"]
    assert written["text"] == "Mis notas"
    assert written["file"] == {"name": "notas.txt", "kind": "file", "size": 4}
    assert exported[with_beto.pk]["joined_at"] is not None
    assert [m["text"] for m in exported[with_beto.pk]["messages_written"]] == ["¿Sigues?"]


def test_a_picture_sent_without_words_says_so_in_the_email_the_list_and_a_reply(
    smtp: Any,
) -> None:
    """Sent alone, it was "Ana Arias: " and nothing more in the email, no last message in
    the list, an author with nothing after it above a reply."""
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        upload = SimpleUploadedFile("plano.png", image_bytes("PNG", (300, 200)))
        assert share(signed_in(ana), conversation, upload).status_code == 302
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        unread_tell_tick()

    email = smtp.wait_for(beto.email)
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert "Ana Arias: 📎 Picture: plano.webp" in text
    assert "📎 Picture: plano.webp" in email.get_body(preferencelist=("html",)).get_content()
    betos = signed_in(beto)
    assert "📎 plano.webp" in betos.get("/messages/").content.decode()
    picture = Message.objects.get(conversation=conversation)
    message_post(
        conversation=conversation,
        author=beto,
        text="¡Qué bonito!",
        client_id=uuid.uuid4(),
        reply_to=picture.pk,
    )
    page = betos.get(conversation.get_absolute_url()).content.decode()
    assert re.search(r'class="quote-author">Ana Arias</span>\s*📎 plano.webp', page)
    # Live, as the sockets show a reply.
    reply = Message.objects.select_related("reply_to__author").get(text="¡Qué bonito!")
    assert message_data(reply)["reply_to"]["text"] == "📎 plano.webp"
    # However many replies quote files, the page reads them in the same queries.
    with CaptureQueriesContext(connection) as one:
        betos.get(conversation.get_absolute_url())
    for n in range(3):
        message_post(
            conversation=conversation,
            author=beto,
            text=f"Otra {n}",
            client_id=uuid.uuid4(),
            reply_to=picture.pk,
        )
    with CaptureQueriesContext(connection) as four:
        betos.get(conversation.get_absolute_url())
    assert len(four) == len(one)


def test_what_a_deleted_member_wrote_in_a_group_everyone_left_goes_with_its_files(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The group stays (its coffee link must not open it again around them), but nobody can
    read it: what the deleted member wrote there stayed on disk for good."""
    zoe, beto, carla = member("Zoë Vallquintana"), member("Beto Blanco"), member("Carla Cruz")
    group = group_create(creator=zoe, members=[beto, carla], title="Cerámica")
    share(signed_in(zoe), group, SimpleUploadedFile("cv-zoe.pdf", b"%PDF-1.4"), "Mi CV")
    share(signed_in(beto), group, SimpleUploadedFile("notas.pdf", b"%PDF-1.4"), "Mis notas")
    files = {shared.name: str(shared.file.name) for shared in Attachment.objects.all()}
    storage = Attachment._meta.get_field("file").storage
    for user in (beto, carla, zoe):
        group_leave(conversation=group, user=user)

    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=zoe)

    assert not storage.exists(files["cv-zoe.pdf"])
    assert list(Message.objects.values_list("text", flat=True)) == ["Mis notas"]
    assert storage.exists(files["notas.pdf"])
    assert Conversation.objects.filter(pk=group.pk).exists()


def test_a_conversation_the_deleted_member_was_last_in_goes_after_the_deletion(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Whole, a batch at a time, by the task: not in the member's request."""
    ana, beto = member("Ana Arias"), member("Beto Blanco")
    conversation = direct_conversation_start(starter=ana, other=beto)
    message_post(conversation=conversation, author=ana, text="¿Seguimos?", client_id=uuid.uuid4())
    account_delete(user=beto)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        account_delete(user=ana)
        assert Message.objects.filter(conversation=conversation).count() == 1
    for callback in queued:
        callback()
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
