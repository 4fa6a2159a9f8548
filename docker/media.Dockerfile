# syntax=docker/dockerfile:1
#
# The media servers, from Debian's own packages: Janus (the stage's SFU, docs/stage.md) and
# coturn (TURN for calls, docs/calls.md). One image, two services in docker-compose.yml.
FROM debian:bookworm-slim

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        janus coturn curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# Janus's plugins live under /usr/lib/<multiarch triplet>/janus (x86_64-linux-gnu,
# aarch64-linux-gnu, ...): the configuration the site writes names this fixed link instead
# (stage/janus.py, LIBRARY_DIR). The build fails unless exactly one such folder exists.
RUN set -e; dir="$(echo /usr/lib/*/janus)"; test -d "$dir/plugins"; ln -s "$dir" /usr/lib/janus

# Neither needs root: Janus's and coturn's ports are above 1024.
RUN groupadd --system --gid 10002 media \
    && useradd --system --uid 10002 --gid media --no-create-home media
USER media
