import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")

# Build the Django application before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from core.origins import SameOriginValidator  # noqa: E402
from core.scheduler import Scheduler, StartsScheduler  # noqa: E402
from core.socket_auth import SocketAuthMiddleware  # noqa: E402
from coworking.celery import app as celery_app  # noqa: E402
from coworking.routing import websocket_urlpatterns  # noqa: E402

# Without Redis the channel layer, the cache and the schedule live in the process: a second
# one (uvicorn starts WEB_CONCURRENCY of them) would be a second site, whose members never
# hear the first's, running the schedule a second time.
if settings.EMBEDDED_SCHEDULER and int(os.environ.get("WEB_CONCURRENCY") or 1) > 1:
    raise ImproperlyConfigured(
        "WEB_CONCURRENCY is above 1 without REDIS_URL: several web processes share their "
        "sockets, cache and schedule through Redis. Set REDIS_URL, or run one process."
    )

# New objects between young collections in a web process (see the end of this module).
GC_YOUNG_THRESHOLD = 20_000

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(SocketAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

# The embedded default has no beat: the web server runs the schedule itself. Only servers
# import this module (runserver in its serving process, not in the autoreloader's watcher),
# so management commands and workers never start it; tests run with Redis, where it is off.
if settings.EMBEDDED_SCHEDULER:
    application = StartsScheduler(
        application,
        scheduler=Scheduler(app=celery_app, schedule=settings.CELERY_BEAT_SCHEDULE),
    )

# What was loaded at start (Django, the apps, the URL map: most of the heap) lives as long as
# the process: take it out of the collector's reach. Full collections walked all of it and
# held the event loop: in the flood benchmark one chat message in 150 reached everyone 130 ms
# late, in quiet and flood alike; with this, none (docs/benchmarks.md, "one flooding member").
gc.freeze()
# What the sockets make after start-up is collected less often than CPython's default
# (700 new objects): a crowd's messages make short-lived objects by the thousand, and those
# a young collection caught alive were promoted and made full collections frequent; each
# walked every socket's objects and held the event loop 300–760 ms at 2,500 sockets a
# process (a `gc.callbacks` logger during bench_rooms_scale). At 20,000 they die by
# reference counting first: the same run then logged no full collection over 20 ms, ramp
# and chat included, and its p95 fell from 199 to 110 ms (docs/benchmarks.md, "Room
# sockets: 5,000 members").
gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
