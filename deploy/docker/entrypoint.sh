#!/bin/sh
# Container entrypoint: pdz-entrypoint <api|worker|migrate|pdz> [service] [extra args...]
# The service is the second argument or $PDZ_SERVICE (plans, indicators, casework, notifications).
set -eu

mode="${1:-api}"
[ "$#" -gt 0 ] && shift
case "$mode" in
  pdz) exec pdz "$@" ;;                     # the operator CLI, e.g. events replay --from-dlq T.dlq
  api | worker | migrate) ;;
  *) echo "usage: pdz-entrypoint <api|worker|migrate|pdz> [service] [args...]" >&2; exit 64 ;;
esac

service="${PDZ_SERVICE:-}"
if [ "$#" -gt 0 ] && [ -d "/app/services/$1" ]; then service="$1"; shift; fi
if [ -z "$service" ] || [ ! -f "/app/services/$service/alembic.ini" ]; then
  echo "pdz-entrypoint: unknown service '${service}'; one of: $(ls /app/services | tr '\n' ' ')" >&2
  exit 64
fi

case "$mode" in
  api)     exec uvicorn "pdz_${service}.main:app" --host 0.0.0.0 --port "${PDZ_HTTP_PORT:-8000}" "$@" ;;
  worker)  exec python -m "pdz_${service}.worker" "$@" ;;
  migrate) exec alembic -c "/app/services/${service}/alembic.ini" upgrade head "$@" ;;
esac
