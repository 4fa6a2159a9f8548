"""The site's settings plus one route: a Django hello-world view, served by the same
uvicorn process and middleware as the site, the yardstick of the HTTP bench."""

from coworking.settings import *  # noqa: F403

ROOT_URLCONF = "bench.yardstick_urls"
