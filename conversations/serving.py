"""How a shared file leaves the server, whoever may fetch it: the conversation's members
(conversations.views.attachment) or staff handling its report (moderation)."""

from django.http import FileResponse

from conversations.models import Attachment


def attachment_response(shared: Attachment, *, thumbnail: bool = False) -> FileResponse:
    """Pictures (re-encoded by us) show inline; any other file is only ever a download of
    opaque bytes, which no browser runs or renders."""
    picture = shared.kind == Attachment.Kind.IMAGE
    field = shared.thumbnail if picture and thumbnail else shared.file
    response = FileResponse(
        field.open("rb"),
        as_attachment=not picture,
        filename=shared.name,
        content_type="image/webp" if picture else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
