from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView, TemplateView

from core import catalogue
from core import views as core_views
from coworking import public, views, webapp
from members.views import accounts

# The admin logs in through allauth's login, which is rate limited per address.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    # The installable app (coworking/webapp.py): at the root, so the worker's scope is the site.
    path("manifest.webmanifest", webapp.manifest, name="webapp-manifest"),
    path("service-worker.js", webapp.service_worker, name="service-worker"),
    path("offline/", webapp.offline, name="offline"),
    path("robots.txt", public.robots_txt, name="robots-txt"),
    path(".well-known/security.txt", public.security_txt, name="security-txt"),
    path(
        ".well-known/change-password",
        RedirectView.as_view(pattern_name="account_change_password"),
    ),
    path("favicon.ico", public.root_icon, {"name": "icon-192.png"}),
    path("apple-touch-icon.png", public.root_icon, {"name": "apple-touch-icon.png"}),
    path("apple-touch-icon-precomposed.png", public.root_icon, {"name": "apple-touch-icon.png"}),
    path(
        "guidelines/",
        TemplateView.as_view(template_name="pages/guidelines.html"),
        name="guidelines",
    ),
    path("privacy/", TemplateView.as_view(template_name="pages/privacy.html"), name="privacy"),
    # Before Django's own: the switch is saved to a signed-in member's account too.
    path("i18n/setlang/", views.language_set, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", catalogue.javascript_catalog, name="javascript-catalog"),
    # Before allauth's own, at its address: a link opened again says it was used.
    path("accounts/confirm-email/<str:key>/", accounts.EmailConfirmView.as_view()),
    path("accounts/", include("allauth.urls")),
    # Emails sent before the preferences moved to the notifications app link here.
    path(
        "members/me/settings/",
        RedirectView.as_view(pattern_name="notifications:settings", permanent=True),
    ),
    path("members/", include("members.urls")),
    path("pairs/", include("matching.urls")),
    path("rooms/", include("rooms.urls")),
    path("stage/", include("stage.urls")),
    path("focus/", include("focus.urls")),
    path("events/", include("events.urls")),
    path("newsletter/", include("newsletter.urls")),
    path("notifications/", include("notifications.urls")),
    path("messages/", include("conversations.urls")),
    path("staff/", include("dashboard.urls")),
    path("", include("moderation.urls")),
    path("admin/", admin.site.urls),
]

if settings.SERVE_MEDIA:
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns += [
        re_path(
            rf"^{media_prefix}(?P<path>.*)$",
            core_views.media_serve,
            {"document_root": settings.MEDIA_ROOT},
        ),
    ]
