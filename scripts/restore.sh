#!/usr/bin/env bash
# make restore FILE=<backup>: puts a backup back into the compose stack. FILE is a name from
# `make backup-list` (in the backups volume) or the path of a backup directory on this host (one copied
# back from the standby). Checks the backup first; then stops the stack, starts Postgres alone, restores
# the database (dropped and recreated) and the state directories, and starts the stack again, which
# reconciles with the broker before it trades.
set -euo pipefail
cd "$(dirname "$0")/.."

backup="${1:-}"
if [ -z "$backup" ]; then
  echo "usage: make restore FILE=<a backup name from make backup-list, or the path of a backup>" >&2
  exit 2
fi

cli=(node services/backup/src/cli.js)
mount=()
if [[ "$backup" == */* ]]; then
  if [ ! -f "$backup/manifest.json" ]; then
    echo "restore: $backup is not a backup (it has no manifest.json)" >&2
    exit 2
  fi
  path="$(cd "$backup" && pwd)"
  mount=(--volume "$path:/restore/$(basename "$path"):ro")
  backup="/restore/$(basename "$path")"
fi

backup_cli() { docker compose run --rm --no-deps -T "${mount[@]}" backup "${cli[@]}" "$@"; }

echo "restore: checking $backup"
backup_cli check "$backup"
echo "restore: stopping the stack"
docker compose stop
echo "restore: starting Postgres alone"
docker compose up --detach --wait postgres
echo "restore: restoring $backup"
if ! backup_cli restore --replace "$backup"; then
  echo "restore: failed; the stack stays stopped so nothing trades on a half-restored database" >&2
  exit 1
fi
echo "restore: starting the stack"
docker compose up --detach
echo "restore: done; execution reconciles with the broker before it trades (make status)"
