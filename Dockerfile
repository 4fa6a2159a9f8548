# syntax=docker/dockerfile:1
#
# One image for every process of the site: the ASGI server (the default command), the Celery
# worker and beat, and one-off management commands. docker-compose.yml shows how they fit.

# --- build: resolve the locked dependencies and collect static files -------------------------
FROM python:3.12-slim AS build

ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

# Use the image's own Python (never download one), put the environment where the runtime stage
# expects it, and compile bytecode now because the runtime user cannot write next to the code.
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

WORKDIR /app

# Dependencies first, so that a change to the code alone reuses this layer.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

COPY . .

# Settings refuse to start with DEBUG off and no SECRET_KEY. This key exists only for this
# command: nothing is signed at build time and the runtime stage does not keep it.
RUN SECRET_KEY=collectstatic-only-not-a-secret DEBUG=0 \
    /app/.venv/bin/python manage.py collectstatic --noinput

# --- runtime: the code, the environment and the collected static files, run as a normal user --
FROM python:3.12-slim AS runtime

# DEBUG off whoever runs the image (Compose, an orchestrator, a bare `docker run`): without a
# SECRET_KEY the site then refuses to start, rather than serving tracebacks and signing
# sessions with the embedded default's published key. Development is `make run`.
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DEBUG=0

# A fixed numeric id so that orchestrators can verify "not root" and volumes keep one owner.
RUN groupadd --system --gid 10001 coworking \
    && useradd --system --uid 10001 --gid coworking --create-home coworking

WORKDIR /app
# Code and static files stay owned by root: the site only reads them.
COPY --from=build /app /app
# Uploads are the only thing the site writes (and, once, Janus's configuration: the
# janus-config service). A named volume mounted here starts with this directory's owner, so
# the site can write to it without running as root.
RUN mkdir -p /app/media /app/private-media /janus-config \
    && chown coworking:coworking /app/media /app/private-media /janus-config

USER 10001:10001

# uvicorn takes the client's address and scheme from X-Forwarded-For and X-Forwarded-Proto only
# on connections from these addresses: the TLS proxy's. Never "*": any client could then name
# its own address and slip past the per-address login limits. Inside the container 127.0.0.1 is
# the container itself, so this trusts nobody; docker-compose.yml trusts its own network, where
# the proxy's connections arrive (docs/deploy.md).
ENV FORWARDED_ALLOW_IPS=127.0.0.1

EXPOSE 8000

# /healthz answers 503 when the database, the cache or the channel layer is down, and urlopen
# raises on anything but 2xx. The Host header is taken from ALLOWED_HOSTS so that Django accepts
# the request whatever the deployment's host name is. Worker and beat containers override this.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; host = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.'); host = 'localhost' if host in ('', '*') else host; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}), timeout=8)"]

CMD ["uvicorn", "coworking.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--ws", "coworking.wsprotocol:WebSocketProtocol", "--ws-max-size", "65536", "--ws-per-message-deflate", "false", "--ws-ping-interval", "15", "--ws-ping-timeout", "20", "--lifespan", "off", "--no-server-header"]
