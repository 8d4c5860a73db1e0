# syntax=docker/dockerfile:1.7
# One image for the whole workspace: every service, its worker and its migrations.
#   docker build -t pdz:$(git rev-parse --short HEAD) .
#   docker run pdz:TAG api plans        # uvicorn pdz_plans.main:app on :8000 (GET /status, /metrics)
#   docker run pdz:TAG worker plans     # python -m pdz_plans.worker (outbox relay + consumers)
#   docker run pdz:TAG migrate plans    # alembic -c services/plans/alembic.ini upgrade head
# The service may also come from PDZ_SERVICE (build argument SERVICE sets its default).
# Only runtime dependencies are installed (uv sync --no-default-groups: no dev/devstack/deploy).
# Runs as uid 10001, writes nothing outside /tmp (works with readOnlyRootFilesystem).

# Base images are pinned by tag (pin digests too if your registry policy requires it);
# keep python at the version of requires-python and uv at the version that wrote uv.lock.

# ---------------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# 1) third-party dependencies only: this layer changes only when uv.lock does
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/pyproject.toml
COPY services/plans/pyproject.toml services/plans/pyproject.toml
COPY services/indicators/pyproject.toml services/indicators/pyproject.toml
COPY services/casework/pyproject.toml services/casework/pyproject.toml
COPY services/notifications/pyproject.toml services/notifications/pyproject.toml
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-default-groups --no-install-workspace --no-editable

# 2) the workspace packages themselves, installed as wheels (not editable: /src is not shipped)
COPY shared shared
COPY services services
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-default-groups --no-editable \
 && for d in services/*/; do \
        mkdir -p "/app/${d}" && cp -r "${d}alembic.ini" "${d}migrations" "/app/${d}"; \
    done \
 && find /app -name '__pycache__' -path '*/migrations/*' -prune -exec rm -rf {} +

# ---------------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime
ARG SERVICE=""
LABEL org.opencontainers.image.title="pdz-platform" \
      org.opencontainers.image.description="Piano di Zona platform: plans, indicators, casework, notifications" \
      org.opencontainers.image.source="https://example.invalid/pdz-platform"
RUN groupadd --system --gid 10001 pdz \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin pdz
COPY --from=build /app /app
COPY --chmod=0555 deploy/docker/entrypoint.sh /usr/local/bin/pdz-entrypoint
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    PDZ_SERVICE=${SERVICE}
WORKDIR /app
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/pdz-entrypoint"]
CMD ["api"]
