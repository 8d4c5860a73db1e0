#!/bin/sh
# Container entrypoint: pdz-entrypoint <mode> [service] [extra args...]
#   api              uvicorn pdz_<svc>.main:app on :8000
#   worker           python -m pdz_<svc>.worker (outbox relay + consumers)
#   migrate          alembic upgrade head (the migration Job)
#   wait-migrations  waits until the database is at alembic head (init container of the pods, so
#                    that a new release never serves before its migration Job has finished)
#   pdz              the operator CLI (pdz events replay ..., pdz events republish ...)
# The service is the second argument or $PDZ_SERVICE (plans, indicators, casework, notifications).
set -eu
app="${PDZ_APP_DIR:-/app}"  # where the image keeps services/<svc>/{alembic.ini,migrations}

mode="${1:-api}"
[ "$#" -gt 0 ] && shift
case "$mode" in
  pdz) exec pdz "$@" ;;                     # the operator CLI, e.g. events replay --from-dlq T.dlq
  api | worker | migrate | wait-migrations) ;;
  *) echo "usage: pdz-entrypoint <api|worker|migrate|wait-migrations|pdz> [service] [args...]" >&2; exit 64 ;;
esac

service="${PDZ_SERVICE:-}"
# a first argument that is not an option names the service
if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then service="$1"; shift; fi
if [ -z "$service" ] || [ ! -f "$app/services/$service/alembic.ini" ]; then
  echo "pdz-entrypoint: unknown service '${service}'; one of: $(ls "$app/services" | tr '\n' ' ')" >&2
  exit 64
fi

case "$mode" in
  api)     exec uvicorn "pdz_${service}.main:app" --http pdz_shared.serving:HttpProtocol --host 0.0.0.0 --port "${PDZ_HTTP_PORT:-8000}" "$@" ;;
  worker)  exec python -m "pdz_${service}.worker" "$@" ;;
  migrate) exec alembic -c "$app/services/${service}/alembic.ini" upgrade head "$@" ;;
  wait-migrations)
    deadline=$(( $(date +%s) + ${PDZ_MIGRATION_WAIT_SECONDS:-900} ))
    while :; do
      # `alembic current` prints "<rev> (head)" once every head of this image is applied
      if alembic -c "$app/services/${service}/alembic.ini" current 2>/tmp/alembic-current.err \
          | grep -q '(head)'; then
        echo "pdz-entrypoint: ${service} schema is at head"; exit 0
      fi
      if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "pdz-entrypoint: ${service} schema not at head after ${PDZ_MIGRATION_WAIT_SECONDS:-900}s" >&2
        cat /tmp/alembic-current.err >&2; exit 1
      fi
      sleep 5
    done ;;
esac
