"""Markdown to safe HTML for issues: staff write it, but it ends up in inboxes and on a
public page, so whatever the Markdown lets through (raw HTML included) is sanitised."""

import re
from urllib.parse import urljoin, urlsplit

import markdown as markdown_lib
import nh3
from django.conf import settings

EXTENSIONS = ["extra", "sane_lists"]
URL_ATTRIBUTES = {"href", "src"}


def _absolute(element: str, attribute: str, value: str) -> str:
    """A link or image of the site written as `/events/` works on the site's pages, not in
    an inbox: it points at the site (SITE_URL). Anchors within the issue stay as they are."""
    if attribute not in URL_ATTRIBUTES or value.startswith("#") or urlsplit(value).scheme:
        return value
    return urljoin(settings.SITE_URL.rstrip("/") + "/", value)


# A Markdown link or image target that is the site's own path: `](/events/)`.
SITE_PATH_TARGET = re.compile(r"\]\((/[^\s)]*)")


def markdown_links_absolute(text: str) -> str:
    """The Markdown source as the email's plain-text part shows it, its site paths made
    absolute as the HTML part's are (a reader cannot follow `/events/` from an inbox)."""
    return SITE_PATH_TARGET.sub(lambda found: f"]({_absolute('a', 'href', found[1])}", text)


def markdown_to_html(text: str) -> str:
    html = markdown_lib.markdown(text, extensions=EXTENSIONS, output_format="html")
    return nh3.clean(html, link_rel="noopener noreferrer", attribute_filter=_absolute)
