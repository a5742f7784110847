#!/usr/bin/env bash
# A stand-in for `docker` in the tests of scripts/deploy.sh (our machines have no Docker engine). It
# records every call with the IBSTACK_VERSION it saw, and answers from files in $FAKE_DOCKER_DIR:
#   running          services `compose ps --services --status running` lists (postgres after an `up`)
#   up               the version the last `compose up` started
#   unhealthy        versions whose containers stay unhealthy
#   gate-fails       versions whose health gate fails
#   backup-fails     present: the backup fails
#   restore-fails    present: the restore fails (check-fails: its check)
#   build-fails      present: the build fails
#   config.json      what `compose config --format json` prints
set -euo pipefail
dir="${FAKE_DOCKER_DIR:?}"
printf 'version=%s %s\n' "${IBSTACK_VERSION:-}" "$*" >>"$dir/calls"
if [ "${1:-}" != compose ]; then
  echo "stand-in docker: only 'docker compose' is expected" >&2
  exit 2
fi
shift
version="${IBSTACK_VERSION:-$(sed -n 's/^IBSTACK_VERSION=//p' .env 2>/dev/null || true)}"
listed() { grep -qx "$1" "$dir/$2" 2>/dev/null; }

case "$1" in
  ps)
    if [[ " $* " == *" --services "* ]]; then
      cat "$dir/running" 2>/dev/null || true
    else
      health=healthy
      if listed "$(cat "$dir/up" 2>/dev/null || true)" unhealthy; then health=unhealthy; fi
      printf 'postgres running healthy 0\nmigrate exited  0\nnats running  0\nexecution running %s 0\n' "$health"
    fi
    ;;
  run)
    if [[ " $* " == *" services/backup/src/cli.js backup "* ]]; then
      if [ -e "$dir/backup-fails" ]; then
        echo "backup: database dump: pg_dump exited 1" >&2
        exit 1
      fi
      echo "ibstack-20261203T150000.000Z-deploy (1.0 MB, 0.4 s)"
    elif [[ " $* " == *" services/backup/src/cli.js check "* ]]; then
      if [ -e "$dir/check-fails" ]; then
        echo "backup: check: database.dump does not match its manifest (damaged, altered or missing)" >&2
        exit 1
      fi
      echo "${*: -1}: complete, every file matches its manifest"
    elif [[ " $* " == *" services/backup/src/cli.js restore "* ]]; then
      if [ -e "$dir/restore-fails" ]; then
        echo "backup: database restore: pg_restore exited 1" >&2
        exit 1
      fi
      echo "restored ${*: -1} into database ibstack and gateway-sim"
    elif [[ " $* " == *" packages/stack/src/cli/health-gate.js "* ]]; then
      if listed "$version" gate-fails; then
        echo "health gate failed after 5 s: execution not ready (/readyz 503)"
        exit 1
      fi
      echo "health gate passed in 3 s: execution ready; reconciled clean"
    fi
    ;;
  build)
    if [ -e "$dir/build-fails" ]; then
      echo "failed to build execution" >&2
      exit 1
    fi
    ;;
  up)
    printf '%s\n' "$version" >"$dir/up"
    echo postgres >"$dir/running"
    ;;
  stop) : >"$dir/running" ;;
  config) cat "$dir/config.json" ;;
  pull) ;;
  *)
    echo "stand-in docker: unexpected 'docker compose $1'" >&2
    exit 2
    ;;
esac
