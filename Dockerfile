# Earmark's image: a builder stage compiles durable_rules (PyPI ships it only as source);
# the runtime stage is slim, has no compiler, and runs as a non-root user.
#
# BASE_IMAGE is the official Python 3.11 slim image by default. Any Debian bookworm
# image works too (its python3 is 3.11): the container test builds on a local one.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
# Python itself comes from the base when it has one (the official image), else from Debian.
# DL3008: package versions are those of the base image's Debian release, which BASE_IMAGE
# pins. SC2086: $packages is a list of names and must split into words.
# hadolint ignore=DL3008,SC2086
RUN apt-get update \
 && packages="gcc libc6-dev" \
 && if ! command -v python3 >/dev/null; then packages="$packages python3 python3-venv python3-dev"; fi \
 && apt-get install -y --no-install-recommends $packages \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
# A build behind an intercepting proxy passes its CA bundle as the secret "pip-cert"
# (podman build --secret id=pip-cert,src=...): a secret is never written to a layer.
# CPPFLAGS=-O2: durable_rules' setup.py overwrites CFLAGS and would build unoptimised.
RUN --mount=type=secret,id=pip-cert \
    if [ -s /run/secrets/pip-cert ]; then export PIP_CERT=/run/secrets/pip-cert; fi \
 && python3 -m venv /opt/earmark \
 && CPPFLAGS=-O2 /opt/earmark/bin/pip install --no-cache-dir .

FROM ${BASE_IMAGE}
# DL3008: as above, versions come with the base image's Debian release.
# hadolint ignore=DL3008
RUN if ! command -v python3 >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*; \
    fi \
 && groupadd --system --gid 10001 earmark \
 && useradd --system --uid 10001 --gid earmark --no-create-home --shell /usr/sbin/nologin earmark
COPY --from=builder /opt/earmark /opt/earmark
# The bundled pack; mount a volume or ConfigMap over /app/rules to replace it (it reloads live).
COPY rules/audio /app/rules
ENV PATH=/opt/earmark/bin:$PATH \
    EARMARK_ADDRESS=0.0.0.0:50051 \
    EARMARK_METRICS_ADDRESS=0.0.0.0:9464 \
    EARMARK_HEALTH_ADDRESS=0.0.0.0:50052 \
    EARMARK_RULES=/app/rules \
    EARMARK_LOG_FORMAT=json \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
EXPOSE 50051 9464 50052
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["earmark", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["earmark", "serve"]
