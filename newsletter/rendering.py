"""Markdown to safe HTML for issues: staff write it, but it ends up in inboxes and on a
public page, so whatever the Markdown lets through (raw HTML included) is sanitised."""

import markdown as markdown_lib
import nh3

EXTENSIONS = ["extra", "sane_lists"]


def markdown_to_html(text: str) -> str:
    html = markdown_lib.markdown(text, extensions=EXTENSIONS, output_format="html")
    return nh3.clean(html, link_rel="noopener noreferrer")
