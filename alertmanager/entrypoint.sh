#!/bin/sh
# Starts Alertmanager with the Telegram chat id from the environment: Alertmanager's configuration has
# no variables, so alertmanager.yml carries __TELEGRAM_CHAT_ID__ and this script writes a copy with the
# id in it. Every argument goes to Alertmanager. A missing or non-numeric id stops here with exit 78.
set -eu

config_in="${ALERTMANAGER_CONFIG:-/etc/alertmanager/alertmanager.yml}"
config_out="${ALERTMANAGER_RENDERED_CONFIG:-/tmp/alertmanager.yml}"
binary="${ALERTMANAGER_BIN:-/bin/alertmanager}"
chat_id="${TELEGRAM_CHAT_ID:-}"

if ! printf '%s' "$chat_id" | grep -Eq '^-?[0-9]+$'; then
  echo "alertmanager: TELEGRAM_CHAT_ID must be the numeric id of the Telegram chat for alerts (got '$chat_id'); see README: Alerts" >&2
  exit 78
fi
if [ ! -r "$config_in" ]; then
  echo "alertmanager: cannot read $config_in" >&2
  exit 78
fi

sed "s/__TELEGRAM_CHAT_ID__/$chat_id/" "$config_in" >"$config_out"
exec "$binary" --config.file="$config_out" "$@"
