# syntax=docker/dockerfile:1.7
# One image for every role: ingest worker, translate worker, beat, and the CLI.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# Languages whose <lang>->en argos package is installed at build time. Packages come from
# the build context's models/ directory when present, otherwise from the argos index.
ARG ARGOS_LANGS="zh ko"
# Languages that may be missing (a warning, not a failed build), e.g. for offline builds.
ARG ARGOS_OPTIONAL=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    NEWSINGEST_CONFIG_DIR=/app/config \
    NEWSINGEST_DATA_DIR=/data \
    NEWSINGEST_PACKAGES_DIR=/opt/argos-packages

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Debian bases have no python3; the official python image has one. Use a venv on both.
# hadolint ignore=DL3008
RUN if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/venv \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin newsingest

WORKDIR /app
COPY pyproject.toml README.md ./
COPY scripts ./scripts

# torch stays out of the image: argostranslate is installed without its dependencies because
# we never import argostranslate.translate (stanza -> torch); see docs/choices.md.
RUN --mount=type=secret,id=cabundle,required=false \
    if [ -s /run/secrets/cabundle ]; then export PIP_CERT=/run/secrets/cabundle; fi; \
    scripts/runtime-requirements pyproject.toml > /tmp/requirements.txt \
    && pip install --no-compile -r /tmp/requirements.txt \
    && pip install --no-compile --no-deps "argostranslate==1.11.0" "packaging>=23"

COPY config ./config
COPY service ./service
COPY workers ./workers
RUN pip install --no-compile --no-deps . && newsingest --help >/dev/null

# models* matches the optional models/ directory; pyproject.toml keeps the COPY valid without it.
COPY pyproject.toml models* /tmp/build-models/
RUN --mount=type=secret,id=cabundle,required=false \
    if [ -s /run/secrets/cabundle ]; then export SSL_CERT_FILE=/run/secrets/cabundle; fi; \
    ARGOS_OPTIONAL="${ARGOS_OPTIONAL}" scripts/install-argos-packages /tmp/build-models ${ARGOS_LANGS} \
    && rm -rf /tmp/build-models \
    && mkdir -p /data && chown -R newsingest /data

USER newsingest
VOLUME ["/data"]
ENTRYPOINT ["newsingest"]
CMD ["run"]
