#!/usr/bin/env bash
# `make secrets`: writes the secret files docker-compose.yml mounts, mode 600, never overwriting one that
# already holds a value (re-running it is safe). Engine secrets get strong random values; the IB
# credentials are asked for (hidden input on a terminal; one line each from stdin otherwise). An IB answer
# left empty writes an empty file: the simulated stack does not need it, and the IBGA gateway refuses to
# start, naming the file, until it is filled.
#
#   docker/make-secrets.sh [secrets-dir]        (default: secrets/ next to docker-compose.yml)
set -euo pipefail

dir="${1:-$(cd "$(dirname "$0")/.." && pwd)/secrets}"
# The uid our images run as (the Node image's `node` user): it must be able to read the engine secrets,
# because compose bind-mounts the files with their host owner and mode.
readonly SERVICE_UID=1000
readonly ALERTMANAGER_UID=65534 # prom/alertmanager runs as nobody
readonly GRAFANA_UID=472        # grafana/grafana-oss runs as grafana
umask 077
mkdir -p "$dir"

has_value() { [ -s "$1" ] && [ -n "$(tr -d '[:space:]' <"$1")" ]; }

random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

write_secret() { # file value
  printf '%s\n' "$2" >"$1.tmp"
  chmod 600 "$1.tmp"
  mv "$1.tmp" "$1"
}

# ask VARIABLE PROMPT HIDDEN: one answer, from the terminal when there is one.
ask() {
  local answer=''
  if [ -t 0 ]; then
    if [ "$3" = hidden ]; then
      read -r -s -p "$2: " answer || true
      printf '\n' >&2
    else
      read -r -p "$2: " answer || true
    fi
  else
    read -r answer || true
  fi
  printf -v "$1" '%s' "$answer"
}

engine=()
if ! has_value "$dir/postgres_password"; then
  password="$(random_hex)"
  write_secret "$dir/postgres_password" "$password"
  write_secret "$dir/database_url" "postgres://ibstack:$password@postgres:5432/ibstack"
  echo "wrote postgres_password and database_url (random, 256 bits)"
elif ! has_value "$dir/database_url"; then
  write_secret "$dir/database_url" "postgres://ibstack:$(tr -d '[:space:]' <"$dir/postgres_password")@postgres:5432/ibstack"
  echo "wrote database_url from the existing postgres_password"
else
  echo "kept postgres_password and database_url"
fi
engine+=("$dir/postgres_password" "$dir/database_url")

# dashboard-api's key for signing its access tokens (HS256). A new key logs every dashboard user out.
if has_value "$dir/jwt_secret"; then
  echo "kept jwt_secret"
else
  write_secret "$dir/jwt_secret" "$(random_hex)"
  echo "wrote jwt_secret (random, 256 bits)"
fi
engine+=("$dir/jwt_secret")

for entry in \
  "ib_username|IBKR username (a dedicated API user is best)|shown" \
  "ib_password|IBKR password|hidden" \
  "ib_totp_key|TOTP secret, base32 (\"none\" if the login needs no TOTP)|hidden"; do
  IFS='|' read -r name prompt visibility <<<"$entry"
  file="$dir/$name"
  if has_value "$file"; then
    echo "kept $name"
    continue
  fi
  ask value "$prompt" "$visibility"
  write_secret "$file" "$value"
  if [ -n "$value" ]; then
    echo "wrote $name"
  else
    echo "left $name empty: fill it before running the gateway with --profile ibga"
  fi
done

# The Telegram bot's token (services/notifier, compose profile `telegram`): read by the notifier (uid
# $SERVICE_UID), so it goes with the engine secrets. Empty means no bot.
file="$dir/telegram_bot_token"
if has_value "$file"; then
  echo "kept telegram_bot_token"
else
  ask value "Telegram bot token from BotFather (empty: no Telegram bot)" hidden
  write_secret "$file" "$value"
  if [ -n "$value" ]; then
    echo "wrote telegram_bot_token"
  else
    echo "left telegram_bot_token empty: fill it before COMPOSE_PROFILES=telegram (README: Telegram)"
  fi
fi
engine+=("$file")

# Alertmanager's copy of a bot token (compose profile `telegram`): the notifier's bot by default, copied
# again while the copy is empty; write another bot's token here to send alerts through that one. Its own
# file because Alertmanager runs as another uid than our services.
file="$dir/alertmanager_telegram_bot_token"
if has_value "$file"; then
  echo "kept alertmanager_telegram_bot_token"
elif has_value "$dir/telegram_bot_token"; then
  write_secret "$file" "$(tr -d '[:space:]' <"$dir/telegram_bot_token")"
  echo "wrote alertmanager_telegram_bot_token (the same bot as telegram_bot_token)"
else
  write_secret "$file" ""
  echo "left alertmanager_telegram_bot_token empty: alerts need a bot token (README: Alerts and dashboards)"
fi

# Grafana's admin password (user `admin`): random; change it in Grafana or here before the first start.
file="$dir/grafana_admin_password"
if has_value "$file"; then
  echo "kept grafana_admin_password"
else
  write_secret "$file" "$(random_hex)"
  echo "wrote grafana_admin_password (random, 256 bits; log in to Grafana as admin with it)"
fi

chmod 700 "$dir"
chmod 600 "$dir"/postgres_password "$dir"/database_url "$dir"/jwt_secret "$dir"/ib_username "$dir"/ib_password "$dir"/ib_totp_key \
  "$dir"/telegram_bot_token "$dir"/alertmanager_telegram_bot_token "$dir"/grafana_admin_password
# Compose bind-mounts each file with its host owner and mode 600, so each belongs to the uid that reads it:
# our services (and the Postgres exporter) run as 1000, the upstream Alertmanager image as 65534 (nobody)
# and Grafana's as 472.
if [ "$(id -u)" = 0 ]; then
  chown "$SERVICE_UID:$SERVICE_UID" "${engine[@]}"
  chown "$ALERTMANAGER_UID:$ALERTMANAGER_UID" "$dir/alertmanager_telegram_bot_token"
  chown "$GRAFANA_UID:0" "$dir/grafana_admin_password"
else
  echo "note: each container reads its secret files as its own uid; unless these already own them, run:" >&2
  [ "$(id -u)" != "$SERVICE_UID" ] && echo "  sudo chown $SERVICE_UID ${engine[*]}" >&2
  echo "  sudo chown $ALERTMANAGER_UID $dir/alertmanager_telegram_bot_token" >&2
  echo "  sudo chown $GRAFANA_UID $dir/grafana_admin_password" >&2
fi
