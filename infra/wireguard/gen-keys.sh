#!/bin/sh
# Generates the WireGuard keys of the three failover peers (primary, standby, witness) and a preshared
# key per pair, and renders each peer's wg-quick config from templates/ into <out dir>/<peer>/wg-ibstack.conf.
# Copy each peer's file to that host as /etc/wireguard/wg-ibstack.conf (mode 600) and run
# `systemctl enable --now wg-quick@wg-ibstack`. Keys are never printed; the files are mode 600.
#
#   gen-keys.sh <out dir> <primary public address> <standby public address> <witness public address>
#
# Run it on a trusted machine (the operator's), then delete <out dir> once the files are on the hosts.
set -eu
usage() {
  echo "usage: gen-keys.sh <out dir> <primary address> <standby address> <witness address>" >&2
  exit 64
}
[ $# -eq 4 ] || usage
out=$1
here=$(cd "$(dirname "$0")" && pwd)
command -v wg >/dev/null || { echo "gen-keys.sh: needs wg (apt install wireguard-tools)" >&2; exit 69; }
for address in "$2" "$3" "$4"; do
  case $address in
    '' | *[!A-Za-z0-9.:-]*) echo "gen-keys.sh: '$address' is not a host name or address" >&2; exit 64 ;;
  esac
done
if [ -e "$out/keys" ]; then
  echo "gen-keys.sh: $out/keys exists; refusing to replace keys that may be in use" >&2
  exit 1
fi
umask 077
mkdir -p "$out/keys"
for peer in primary standby witness; do
  wg genkey >"$out/keys/$peer.key"
  wg pubkey <"$out/keys/$peer.key" >"$out/keys/$peer.pub"
done
for pair in primary_standby primary_witness standby_witness; do
  wg genpsk >"$out/keys/$pair.psk"
done

# A sed script with the keys lives only in a mode-600 file, never on a command line.
script="$out/keys/render.sed"
{
  for peer in primary standby witness; do
    upper=$(echo "$peer" | tr '[:lower:]' '[:upper:]')
    echo "s|@${upper}_PRIVATE_KEY@|$(cat "$out/keys/$peer.key")|"
    echo "s|@${upper}_PUBLIC_KEY@|$(cat "$out/keys/$peer.pub")|"
  done
  for pair in primary_standby primary_witness standby_witness; do
    upper=$(echo "$pair" | tr '[:lower:]' '[:upper:]')
    echo "s|@${upper}_PSK@|$(cat "$out/keys/$pair.psk")|"
  done
  echo "s|@PRIMARY_ENDPOINT@|$2|"
  echo "s|@STANDBY_ENDPOINT@|$3|"
  echo "s|@WITNESS_ENDPOINT@|$4|"
} >"$script"
for peer in primary standby witness; do
  mkdir -p "$out/$peer"
  sed -f "$script" "$here/templates/$peer.conf.template" >"$out/$peer/wg-ibstack.conf"
done
rm -f "$script"
echo "gen-keys.sh: $out/primary, $out/standby and $out/witness each hold wg-ibstack.conf (mode 600)"
