#!/bin/sh
# The certbot service (compose profile `letsencrypt`): gets a Let's Encrypt certificate for PROXY_DOMAIN
# through the proxy's HTTP-01 webroot, then renews it whenever it has less than 30 days left, checking
# twice a day. The proxy picks up a new certificate within TLS_CHECK_SECONDS (6 h).
set -eu
: "${PROXY_DOMAIN:?set PROXY_DOMAIN to a DNS name that points at this host (or leave the letsencrypt profile off)}"
: "${ACME_EMAIL:?set ACME_EMAIL, the address Lets Encrypt warns before a certificate would expire}"

trap 'exit 0' TERM INT
while :; do
  certbot certonly --webroot --webroot-path /var/www/acme --domain "$PROXY_DOMAIN" --email "$ACME_EMAIL" \
    --agree-tos --non-interactive --no-eff-email --keep-until-expiring --key-type ecdsa ||
    echo "certbot: no certificate for $PROXY_DOMAIN this time; trying again in 12 hours"
  sleep 43200 &
  wait $!
done
