# syntax=docker/dockerfile:1.7
# One image definition for the four services, built from the repository root (the uv workspace and its lockfile):
#   docker build --build-arg SERVICE=campaign-api -t campaign-dispatch/campaign-api .
# SERVICE is the workspace member under services/ and the console script the image runs. `make images` builds all
# four, with docker when an engine answers and with buildah otherwise (tools/build_images.py).
# Bind-mount targets are absolute: buildah and podman reject relative ones. Behind a TLS-inspecting proxy, hand the
# build its CA bundle as the optional secret `ca` (--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt).
ARG SERVICE=""
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9
# owner of the installed code: root keeps it immutable for the app user; Tilt sets 10001:10001 so live_update
# can sync sources into a running container
ARG CODE_OWNER=0:0

FROM ${UV_IMAGE} AS uv

# ---- base: the Python runtime plus the uv binary, shared by the build stages --------------------------------
FROM ${PYTHON_IMAGE} AS build-base
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_CACHE_DIR=/var/cache/uv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11
WORKDIR /src

# ---- stubs: generate the template.v1 gRPC stubs exactly as `make proto` does --------------------------------
FROM build-base AS stubs
# grpcio-tools and mypy-protobuf come from the root dev group, pinned by uv.lock
RUN --mount=type=cache,target=/var/cache/uv \
    --mount=type=secret,id=ca,target=/run/secrets/ca \
    --mount=type=bind,source=uv.lock,target=/src/uv.lock \
    --mount=type=bind,source=pyproject.toml,target=/src/pyproject.toml \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
 && UV_PROJECT_ENVIRONMENT=/opt/protoc uv sync --frozen --no-install-workspace --only-group dev
COPY proto proto
RUN mkdir -p /out \
 && PATH=/opt/protoc/bin:$PATH find proto -name "*.proto" -exec python -m grpc_tools.protoc -Iproto \
      --python_out=/out --grpc_python_out=/out --mypy_out=/out --mypy_grpc_out=/out {} + \
 && touch /out/template/py.typed

# ---- builder: a virtualenv holding the service and its locked dependencies, nothing else --------------------
FROM build-base AS builder
ARG SERVICE
ENV UV_PROJECT_ENVIRONMENT=/app/.venv
# an unknown or missing SERVICE stops the build here, before anything is downloaded
COPY services/${SERVICE}/pyproject.toml /tmp/service-pyproject.toml
# third-party dependencies first: this layer is reused until uv.lock changes
RUN --mount=type=cache,target=/var/cache/uv \
    --mount=type=secret,id=ca,target=/run/secrets/ca \
    --mount=type=bind,source=uv.lock,target=/src/uv.lock \
    --mount=type=bind,source=pyproject.toml,target=/src/pyproject.toml \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
 && uv sync --frozen --no-dev --no-install-workspace --package "${SERVICE}"
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services/${SERVICE} services/${SERVICE}
COPY --from=stubs /out/template libs/template-proto/src/template
# --no-editable installs the workspace packages as wheels, so the final image needs no source tree
RUN --mount=type=cache,target=/var/cache/uv \
    --mount=type=secret,id=ca,target=/run/secrets/ca \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
 && uv sync --frozen --no-dev --no-editable --package "${SERVICE}"
# (campaign-api's SQL migrations ship inside its package, so its wheel carries them.) The dashboard, built on the
# host by `make web-build` (`make images` and `make up` run it), is served by campaign-api only
RUN --mount=type=bind,source=web,target=/src/web \
    mkdir -p /app/web \
 && if [ "${SERVICE}" = "campaign-api" ] && [ -f /src/web/dist/index.html ]; then cp -a /src/web/dist /app/web/dist; fi

# ---- kannel: the opt-in SMS gateway, not a service of this workspace (SERVICE unused) ------------------------
# Debian's kannel (bearerbox, smsbox) and kannel-extras (fakesmsc, the SMSC simulator); compose and the chart run
# one container per box from it, with the shared kannel.conf (charts/campaign-dispatch/files/kannel/). Built with
# `--target kannel`; the last stage below stays the default target.
FROM ${PYTHON_IMAGE} AS kannel
LABEL org.opencontainers.image.title="campaign-dispatch-kannel" \
      org.opencontainers.image.description="Kannel SMS gateway with its SMSC simulator, for Campaign Dispatch"
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends kannel kannel-extras \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/lib/kannel/test/fakesmsc /usr/local/bin/fakesmsc \
 && groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
USER 10001:10001
# bearerbox by default; smsbox and fakesmsc are the other containers' commands
CMD ["/usr/sbin/bearerbox", "-v", "1", "/etc/kannel/kannel.conf"]

# ---- runtime: slim Python, the virtualenv, a non-root user; no uv, no compilers, no sources -----------------
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
ARG CODE_OWNER
LABEL org.opencontainers.image.title="campaign-dispatch-${SERVICE}" \
      org.opencontainers.image.description="Campaign Dispatch ${SERVICE}"
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app \
 && mkdir /app \
 && ln -s "/app/.venv/bin/${SERVICE}" /app/entrypoint
COPY --from=builder --chown=${CODE_OWNER} /app/.venv /app/.venv
COPY --from=builder --chown=0:0 /app/web /app/web
ENV WEB_DIST_DIR=/app/web/dist \
    PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER 10001:10001
# the service's console script; campaign-api serves by default (`migrate` and `seed` are its other commands)
ENTRYPOINT ["/app/entrypoint"]
