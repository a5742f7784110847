#!/usr/bin/env bash
# Entry point of the `gateway` container (IBGA, compose profile `ibga`).
#
# IBGA reads its credentials from the environment only. This wrapper reads them from the docker secrets
# under /run/secrets into the environment of the IBGA process alone (nothing in the compose file, the
# image or `docker inspect` holds them), checks the settings that must agree, optionally copies IBGA's
# log to a file on a volume (for the gateway supervisor), then replaces itself with IBGA's manager running
# as IBGA's own user. Any problem stops the container with exit code 78 and a message naming the file or
# setting, before anything is started.
set -euo pipefail

readonly EX_CONFIG=78
SECRETS_DIR="${IBSTACK_SECRETS_DIR:-/run/secrets}"
IBGA_MANAGER="${IBGA_MANAGER:-/opt/ibga/manager.sh}"
IBGA_USER="${IBGA_USER-ibg}"
LOG_FILE="${IBGA_LOG_FILE:-}"
LOG_MAX_BYTES="${IBGA_LOG_MAX_BYTES:-10485760}"

fail() {
  printf 'gateway: %s\n' "$1" >&2
  exit "$EX_CONFIG"
}

# read_secret VARIABLE FILE: exports VARIABLE with the file's contents (trailing newlines removed).
read_secret() {
  local variable="$1" file="$SECRETS_DIR/$2" value
  [ -e "$file" ] || fail "secret file $file is missing (write secrets/$2 on the host: make secrets)"
  [ -r "$file" ] || fail "secret file $file is not readable by uid $(id -u)"
  value="$(cat "$file")"
  value="${value%$'\r'}"
  [ -n "${value//[[:space:]]/}" ] || fail "secret file $file is empty (write secrets/$2 on the host: make secrets)"
  export "$variable=$value"
}

read_secret IB_USERNAME ib_username
read_secret IB_PASSWORD ib_password
read_secret TOTP_KEY ib_totp_key
# "none": the account logs in without a TOTP (paper logins, or push approval on IBKR Mobile).
if [ "$TOTP_KEY" = none ]; then
  unset TOTP_KEY
elif command -v oathtool >/dev/null 2>&1 && ! oathtool --totp --base32 "$TOTP_KEY" >/dev/null 2>&1; then
  fail "secret file $SECRETS_DIR/ib_totp_key is not a base32 TOTP secret (check it with: make totp)"
fi

# The login type must say what TRADING_MODE says: a paper login under live mode (or the reverse) would
# trade an account the operator did not mean.
mode="${TRADING_MODE:-paper}"
case "$mode" in
  paper) expected_login="Paper Trading" ;;
  live) expected_login="Live Trading" ;;
  *) fail "TRADING_MODE must be paper or live (got \"$mode\")" ;;
esac
case "${IB_LOGINTYPE:-}" in
  "Paper Trading" | "Live Trading") ;;
  *) fail "IB_LOGINTYPE must be exactly \"Paper Trading\" or \"Live Trading\", as IBGA reads it (got \"${IB_LOGINTYPE:-}\")" ;;
esac
[ "$IB_LOGINTYPE" = "$expected_login" ] ||
  fail "IB_LOGINTYPE \"$IB_LOGINTYPE\" disagrees with TRADING_MODE=$mode (use \"$expected_login\", or change TRADING_MODE)"
case "${IB_LOGINTAB:-}" in
  "IB API" | "FIX CTCI") ;;
  *) fail "IB_LOGINTAB must be \"IB API\" (got \"${IB_LOGINTAB:-}\")" ;;
esac
[ -n "${IB_TIMEZONE:-}" ] || fail "IB_TIMEZONE is required (for example \"America/New York\")"
# The gateway reports execution times in IB_TIMEZONE (IBGA writes it with spaces, and links /etc/localtime
# with underscores); execution reads them in GATEWAY_TIME_ZONE. Two different zones would book every fill
# hours off, so they must name the same zone.
gateway_zone="${IB_TIMEZONE// /_}"
[ "${GATEWAY_TIME_ZONE:-}" = "$gateway_zone" ] ||
  fail "IB_TIMEZONE \"$IB_TIMEZONE\" disagrees with GATEWAY_TIME_ZONE=${GATEWAY_TIME_ZONE:-<unset>} (execution reads the gateway's times in GATEWAY_TIME_ZONE: set GATEWAY_TIME_ZONE=$gateway_zone in .env)"
[ -n "${IB_LOGOFF:-}" ] || fail "IB_LOGOFF is required (the daily auto-restart time, for example \"11:55 PM\")"
[ -x "$IBGA_MANAGER" ] || fail "IBGA's manager $IBGA_MANAGER is missing: is this the IBGA image?"

if [ -n "$LOG_FILE" ]; then
  mkdir -p "$(dirname "$LOG_FILE")"
  touch "$LOG_FILE"
  chmod 644 "$LOG_FILE"
  # Keeps the copy under LOG_MAX_BYTES: the previous part goes to .1, and tee keeps appending (O_APPEND)
  # to the emptied file. The supervisor notices the shrink and reads on from the start.
  # It ends with IBGA: this shell's pid ($$) becomes IBGA's manager at the exec below.
  (
    while kill -0 "$$" 2>/dev/null && sleep 30; do
      size="$(stat -c %s "$LOG_FILE" 2>/dev/null || echo 0)"
      if [ "$size" -gt "$LOG_MAX_BYTES" ]; then
        cp "$LOG_FILE" "$LOG_FILE.1" && : >"$LOG_FILE"
      fi
    done
  ) </dev/null >/dev/null 2>&1 &
  # IBGA's output goes to the container log as before, and to the file.
  exec > >(tee -a "$LOG_FILE") 2>&1
fi

printf 'gateway: starting IBGA (%s, %s) as %s\n' "$IB_LOGINTYPE" "$IB_LOGINTAB" "${IBGA_USER:-$(id -un)}"
if [ "$(id -u)" = 0 ] && [ -n "$IBGA_USER" ]; then
  IFS=: read -r _ _ uid gid _ home _ < <(getent passwd "$IBGA_USER") || fail "user $IBGA_USER does not exist in this image"
  exec setpriv --reuid="$uid" --regid="$gid" --init-groups \
    env HOME="$home" USER="$IBGA_USER" LOGNAME="$IBGA_USER" "$IBGA_MANAGER"
fi
exec "$IBGA_MANAGER"
