"""What the site answers at addresses that machines ask for by name: crawlers' robots.txt,
the security contact (RFC 9116), the icons browsers and feed readers fetch from the root
whatever the page says, and password managers' change-password address (W3C)."""

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

# The pages a search engine may list: the landing page, the community's rules, the privacy
# notice and the newsletter's archive. Everything else is for members, or holds a token; a
# page added later stays out unless it is added here. Profiles made public are for visitors
# with the link, not for search engines (their pages say `noindex` too).
ROBOTS_TXT = """\
User-agent: *
Allow: /$
Allow: /guidelines/$
Allow: /privacy/$
Allow: /newsletter/
Disallow: /newsletter/confirm/
Disallow: /newsletter/unsubscribe/
Disallow: /newsletter/leave/
Allow: /static/
Disallow: /
"""

# Asked again by the RFC well before this: the file is written on each request.
SECURITY_TXT_VALID_FOR = timedelta(days=180)


@require_safe
@cache_control(max_age=86400, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    return HttpResponse(ROBOTS_TXT, content_type="text/plain; charset=utf-8")


@require_safe
@cache_control(max_age=86400, public=True)
def security_txt(request: HttpRequest) -> HttpResponse:
    expires = (timezone.now() + SECURITY_TXT_VALID_FOR).replace(microsecond=0)
    lines = [
        f"Contact: mailto:{settings.CONTACT_EMAIL}",
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "Preferred-Languages: es, en",
        f"Canonical: {settings.SITE_URL}/.well-known/security.txt",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_safe
@cache_control(max_age=3600, public=True)  # the file's name changes with a deploy
def root_icon(request: HttpRequest, name: str) -> HttpResponse:
    """`/favicon.ico` and `/apple-touch-icon.png`: to the static file (its name changes with
    its content, so the answer is a temporary redirect)."""
    return redirect(static(f"img/icons/{name}"))
