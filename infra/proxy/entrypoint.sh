#!/bin/sh
# The proxy container: install a certificate (tls.sh), start nginx, and every TLS_CHECK_SECONDS (6 h)
# pick up a renewed Let's Encrypt certificate or renew the internal one, reloading nginx when it changed.
set -eu

/usr/local/bin/ibstack-tls
nginx -t -q

(
  while sleep "${TLS_CHECK_SECONDS:-21600}"; do
    if /usr/local/bin/ibstack-tls | grep -q '^installed'; then
      nginx -s reload
    fi
  done
) &

exec nginx -g 'daemon off;'
