#!/bin/sh
# Chooses the certificate the proxy serves and installs it where nginx reads it (NGINX_TLS_DIR):
#
# - PROXY_DOMAIN set and Let's Encrypt's certificate for it present and valid (certbot, the `letsencrypt`
#   compose profile, writes it under LETSENCRYPT_DIR): that one.
# - Otherwise a certificate from ibstack's internal CA, for a host without a domain (or until Let's
#   Encrypt has answered): the CA is made once (10 years, EC P-256, kept in TLS_STATE_DIR/ca) and signs a
#   90-day server certificate for PROXY_DOMAIN and PROXY_HOSTNAMES (names and IP addresses), renewed when
#   it has less than 30 days left or the names change. Import TLS_STATE_DIR/ca/ca.crt into your browser
#   (`make proxy-ca` prints it) to trust it.
#
# Prints "installed …" when nginx must reload, "unchanged …" when not. POSIX sh: it runs in the proxy
# image (busybox) and in the test (Debian's dash) alike.
set -eu

TLS_STATE_DIR="${TLS_STATE_DIR:-/var/lib/ibstack-tls}"
NGINX_TLS_DIR="${NGINX_TLS_DIR:-/etc/nginx/tls}"
LETSENCRYPT_DIR="${LETSENCRYPT_DIR:-/etc/letsencrypt}"
PROXY_DOMAIN="${PROXY_DOMAIN:-}"
PROXY_HOSTNAMES="${PROXY_HOSTNAMES:-localhost,127.0.0.1}"
RENEW_SECONDS=$((30 * 86400))

umask 077
ca_dir="$TLS_STATE_DIR/ca"
internal_dir="$TLS_STATE_DIR/internal"
mkdir -p "$ca_dir" "$internal_dir" "$NGINX_TLS_DIR"

# "DNS:a,IP:1.2.3.4" from the configured names, the domain first.
subject_alt_names() {
  printf '%s\n' "$PROXY_DOMAIN,$PROXY_HOSTNAMES" | tr ',' '\n' | sed 's/^ *//; s/ *$//' | awk 'NF && !seen[$0]++' |
    while read -r name; do
      case "$name" in
        *[!0-9.]* | '') case "$name" in *:*) echo "IP:$name" ;; *) echo "DNS:$name" ;; esac ;;
        *) echo "IP:$name" ;;
      esac
    done | tr '\n' , | sed 's/,$//'
}

valid_for() { openssl x509 -noout -checkend "$2" -in "$1" >/dev/null 2>&1; }

make_ca() {
  [ -s "$ca_dir/ca.key" ] && [ -s "$ca_dir/ca.crt" ] && valid_for "$ca_dir/ca.crt" "$RENEW_SECONDS" && return 0
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -days 3650 \
    -keyout "$ca_dir/ca.key" -out "$ca_dir/ca.crt" -subj "/O=ibstack/CN=ibstack internal CA $(hostname)" \
    -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -addext 'subjectKeyIdentifier=hash' 2>/dev/null
  chmod 644 "$ca_dir/ca.crt"
  rm -f "$internal_dir/cert.pem" # a new CA means a new server certificate
}

# A server certificate from the internal CA, unless the one there is still good for these names.
make_internal() {
  names="$(subject_alt_names)"
  if [ -s "$internal_dir/cert.pem" ] && [ -s "$internal_dir/key.pem" ] &&
    [ "$(cat "$internal_dir/names" 2>/dev/null)" = "$names" ] && valid_for "$internal_dir/cert.pem" "$RENEW_SECONDS"; then
    return 0
  fi
  first="$(printf '%s' "$names" | cut -d, -f1 | cut -d: -f2-)"
  extensions="$internal_dir/extensions.cnf"
  printf '%s\n' "subjectAltName=$names" 'basicConstraints=critical,CA:FALSE' \
    'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' \
    'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' >"$extensions"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 \
    -keyout "$internal_dir/key.new" -out "$internal_dir/request.csr" -subj "/O=ibstack/CN=$first" 2>/dev/null
  openssl x509 -req -sha256 -days 90 -in "$internal_dir/request.csr" -CA "$ca_dir/ca.crt" -CAkey "$ca_dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$extensions" -out "$internal_dir/cert.new" 2>/dev/null
  mv -f "$internal_dir/key.new" "$internal_dir/key.pem"
  mv -f "$internal_dir/cert.new" "$internal_dir/cert.pem"
  printf '%s' "$names" >"$internal_dir/names"
  rm -f "$internal_dir/request.csr" "$extensions"
}

letsencrypt="$LETSENCRYPT_DIR/live/$PROXY_DOMAIN"
if [ -n "$PROXY_DOMAIN" ] && [ -s "$letsencrypt/fullchain.pem" ] && [ -s "$letsencrypt/privkey.pem" ] &&
  valid_for "$letsencrypt/fullchain.pem" 0; then
  source="Let's Encrypt"
  cat "$letsencrypt/fullchain.pem" >"$NGINX_TLS_DIR/fullchain.next"
  cat "$letsencrypt/privkey.pem" >"$NGINX_TLS_DIR/privkey.next"
else
  source='internal CA'
  make_ca
  make_internal
  cat "$internal_dir/cert.pem" "$ca_dir/ca.crt" >"$NGINX_TLS_DIR/fullchain.next"
  cat "$internal_dir/key.pem" >"$NGINX_TLS_DIR/privkey.next"
fi

until="$(openssl x509 -noout -enddate -in "$NGINX_TLS_DIR/fullchain.next" | cut -d= -f2)"
if cmp -s "$NGINX_TLS_DIR/fullchain.next" "$NGINX_TLS_DIR/fullchain.pem" &&
  cmp -s "$NGINX_TLS_DIR/privkey.next" "$NGINX_TLS_DIR/privkey.pem"; then
  rm -f "$NGINX_TLS_DIR/fullchain.next" "$NGINX_TLS_DIR/privkey.next"
  echo "unchanged: $source certificate, valid until $until"
else
  mv -f "$NGINX_TLS_DIR/privkey.next" "$NGINX_TLS_DIR/privkey.pem"
  mv -f "$NGINX_TLS_DIR/fullchain.next" "$NGINX_TLS_DIR/fullchain.pem"
  echo "installed: $source certificate, valid until $until"
fi
