import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")

# Build the Django application before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from core.origins import SameOriginValidator  # noqa: E402
from core.scheduler import Scheduler, StartsScheduler  # noqa: E402
from core.socket_auth import SocketAuthMiddleware  # noqa: E402
from coworking.celery import app as celery_app  # noqa: E402
from coworking.routing import websocket_urlpatterns  # noqa: E402

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
