#!/bin/sh
# Firewall rules between the failover peers (UFW, as infra/host/provision.sh sets up): from outside only
# WireGuard (51820/udp) — besides what provision.sh already allows (SSH, HTTP/HTTPS) — and over the
# WireGuard interface only the cluster's own ports from the peers' addresses:
#   4222 NATS clients, 6222 NATS routes, 8222 NATS monitoring (Prometheus), 5432 Postgres replication
#   and the peer's agent, 9090 Prometheus (cross-scraping), 9100 node exporter, 9407 failover agent.
# The witness needs only 51820/udp, 4222, 6222 and 8222. Idempotent (ufw skips existing rules).
#
#   firewall.sh <primary|standby|witness>
set -eu
[ $# -eq 1 ] || { echo "usage: firewall.sh <primary|standby|witness>" >&2; exit 64; }
case $1 in
  primary | standby) ports='4222 6222 8222 5432 9090 9100 9407' ;;
  witness) ports='4222 6222 8222' ;;
  *) echo "firewall.sh: the peer is primary, standby or witness, not '$1'" >&2; exit 64 ;;
esac
interface=${WIREGUARD_INTERFACE:-wg-ibstack}
network=${WIREGUARD_NETWORK:-10.77.0.0/24}
ufw allow 51820/udp comment 'wireguard (failover peers)'
for port in $ports; do
  ufw allow in on "$interface" from "$network" to any port "$port" proto tcp comment "failover peers: $port"
done
# Containers publish the cluster ports on the WireGuard address only (docker-compose.yml, profile
# standby), so Docker's own rules, which bypass UFW, open nothing on the public interface.
ufw status verbose
