#!/usr/bin/env bash
# scripts/deploy.sh <commit>: deploys a commit of ibstack on this host, from the git clone this script is
# in (/opt/ibstack, owned by the deploy user; .github/workflows/deploy.yml runs it over SSH on every push
# to main).
#
#   1. a backup, taken by the running version, before anything changes (a failed backup stops the deploy)
#   2. the commit checked out; upstream images pulled (pinned tags), ours built and tagged with the commit
#   3. docker compose up -d, with IBSTACK_VERSION=<commit> also written to .env, so later `docker compose`
#      and `make` commands use the deployed images
#   4. the health gate: every container running (and healthy where it has a health check), every service
#      of ours ready on /readyz, and a clean reconciliation with the broker since step 3, within
#      DEPLOY_GATE_SECONDS (180)
#   5. if the gate fails: the previous commit and its images back up, and the gate run for them too.
#      The database is not restored: the new version's migrations only add, and the backup of step 1
#      (named in the log) is there for `make restore` if a release says otherwise.
#
# One line per run is appended to .deploy/deployments.log (time, from, to, result, backup, seconds, why).
# Exit codes: 0 deployed (or already there), 1 failed or rolled back, 2 bad usage, 75 another deploy runs.
# It handles no secrets: the stack's live in secrets/ on this host, the CI's SSH key never reaches it.
set -euo pipefail

main() {
  local commit="${1:-}"
  if [ -z "$commit" ] || [ $# -ne 1 ]; then
    echo "usage: scripts/deploy.sh <commit>" >&2
    return 2
  fi
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  STATE="${IBSTACK_DEPLOY_STATE:-$ROOT/.deploy}"
  GATE_SECONDS="${DEPLOY_GATE_SECONDS:-180}"
  REMOTE="${DEPLOY_REMOTE:-origin}"
  cd "$ROOT"
  mkdir -p "$STATE"

  exec 9>"$STATE/deploy.lock"
  if ! flock --nonblock 9; then
    echo "deploy: another deploy is running (lock $STATE/deploy.lock)" >&2
    return 75
  fi

  STARTED="$(date +%s)"
  FROM_COMMIT="$(cat "$STATE/current" 2>/dev/null || true)"
  FROM="${FROM_COMMIT:0:12}"
  TO="$commit"
  BACKUP=''

  say "fetching $REMOTE"
  if ! git fetch --quiet "$REMOTE"; then
    record failed "git fetch from $REMOTE failed; nothing changed"
    return 1
  fi
  local to_commit
  if ! to_commit="$(git rev-parse --quiet --verify "$commit^{commit}")"; then
    record failed "unknown commit $commit; nothing changed"
    return 1
  fi
  TO="${to_commit:0:12}"
  if [ "$to_commit" = "$FROM_COMMIT" ]; then
    record unchanged "$TO is deployed already"
    return 0
  fi

  # 1. Backup by the running version, if there is a running database.
  if compose_as "$FROM" ps --status running --services 2>/dev/null | grep -qx postgres; then
    say "backing up with the running version ${FROM:-(not deployed by this script)}"
    local output
    if ! output="$(compose_as "$FROM" run --rm --no-deps -T backup node services/backup/src/cli.js backup --reason deploy)"; then
      record failed "the backup before the deploy failed; nothing changed"
      return 1
    fi
    BACKUP="${output%% *}"
    say "backup $BACKUP"
  else
    say "no database running: nothing to back up (first deploy)"
  fi

  # 2. Code and images of the new version; the running version is untouched until they are there.
  say "checking out $TO"
  if ! git checkout --quiet --detach --force "$to_commit"; then
    record failed "git checkout of $TO failed; the running version was not touched"
    return 1
  fi
  say "pulling upstream images, building ours as $TO"
  if ! compose_as "$TO" pull --quiet --ignore-buildable || ! compose_as "$TO" build --quiet; then
    [ -z "$FROM_COMMIT" ] || git checkout --quiet --detach --force "$FROM_COMMIT"
    record failed "pulling or building $TO failed; the running version was not touched"
    return 1
  fi

  # 3. Up.
  local since
  since="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  write_version "$TO"
  say "starting $TO"
  if compose_as "$TO" up --detach --remove-orphans && health_gate "$TO" "$since"; then
    printf '%s\n' "$to_commit" >"$STATE/current"
    record success "health gate passed"
    return 0
  fi
  local why="$GATE_REASON"

  # 5. Roll back.
  if [ -z "$FROM_COMMIT" ]; then
    record failed "$why; no earlier deployed version to roll back to"
    return 1
  fi
  say "rolling back to $FROM"
  git checkout --quiet --detach --force "$FROM_COMMIT"
  write_version "$FROM"
  since="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  if compose_as "$FROM" up --detach --remove-orphans && health_gate "$FROM" "$since"; then
    record rolled-back "$why; $FROM is back and healthy"
  else
    record rolled-back-unhealthy "$why; $FROM is back but not healthy: $GATE_REASON"
  fi
  return 1
}

say() { printf '%s deploy: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

# record RESULT WHY: the deployment log line, in the log file and on stdout.
record() {
  local line
  line="time=$(date -u +%Y-%m-%dT%H:%M:%SZ) from=${FROM:-none} to=${TO} result=$1 backup=${BACKUP:-none} seconds=$(($(date +%s) - STARTED)) why=\"${2//\"/\'}\""
  printf '%s\n' "$line" >>"$STATE/deployments.log"
  printf '%s\n' "$line"
}

# docker compose with our images at VERSION (empty: whatever .env or the compose file's default says).
compose_as() {
  local version="$1"
  shift
  if [ -n "$version" ]; then
    IBSTACK_VERSION="$version" docker compose "$@"
  else
    docker compose "$@"
  fi
}

# Keeps IBSTACK_VERSION in .env, so `docker compose …` by hand uses the deployed images.
write_version() {
  local env_file="$ROOT/.env"
  touch "$env_file"
  if grep -q '^IBSTACK_VERSION=' "$env_file"; then
    sed -i "s/^IBSTACK_VERSION=.*/IBSTACK_VERSION=$1/" "$env_file"
  else
    printf 'IBSTACK_VERSION=%s\n' "$1" >>"$env_file"
  fi
}

# health_gate VERSION SINCE: sets GATE_REASON when it fails.
health_gate() {
  local version="$1" since="$2" deadline=$(($(date +%s) + GATE_SECONDS)) waiting
  GATE_REASON=''
  # Containers first: every one running (one-shots exited 0), healthy where it has a health check.
  while :; do
    waiting="$(compose_as "$version" ps --all --format '{{.Service}} {{.State}} {{.Health}} {{.ExitCode}}' |
      awk '$2 == "exited" && $NF == "0" { next }
           $2 != "running" { printf "%s %s; ", $1, $2; next }
           NF == 4 && $3 != "healthy" { printf "%s %s; ", $1, $3 }')"
    [ -n "$waiting" ] || break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      GATE_REASON="health gate: containers not healthy after ${GATE_SECONDS} s: ${waiting%; }"
      say "$GATE_REASON"
      return 1
    fi
    sleep 3
  done
  # Then readiness and reconciliation, from inside the compose network: every long-running service of
  # ours (it has an HTTP_PORT) on /readyz, and execution's reconciliation since the start.
  local targets=() target
  while IFS= read -r target; do
    targets+=(--service "$target")
  done < <(compose_as "$version" config --format json | jq -r '
    .services | to_entries[]
    | select(.value.environment.HTTP_PORT != null and (.value.restart // "") != "no")
    | "\(.key)=http://\(.key):\(.value.environment.HTTP_PORT)"')
  local remaining=$((deadline - $(date +%s))) output
  [ "$remaining" -gt 10 ] || remaining=10
  if output="$(compose_as "$version" run --rm --no-deps -T migrate \
    node packages/stack/src/cli/health-gate.js --since "$since" --timeout "$remaining" "${targets[@]}")"; then
    say "$output"
    return 0
  fi
  GATE_REASON="${output:-health gate could not run}"
  say "$GATE_REASON"
  return 1
}

# The whole script is read before main runs: checking out another commit rewrites this file.
main "$@"
exit $?
