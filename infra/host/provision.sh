#!/usr/bin/env bash
# Provisions a fresh Debian 12 or Ubuntu 22.04/24.04 VPS to run ibstack: a non-root `ibstack` user in the
# docker group that owns the deployment, SSH by key only (no root login, no passwords), UFW denying
# everything incoming except SSH, HTTP/HTTPS and WireGuard, fail2ban for sshd, unattended security
# upgrades, time sync (IB rejects clients whose clock is off), a capped journal, kernel network hardening,
# and Docker Engine with the compose plugin and bounded container logs.
#
# Idempotent: every step compares what is there with what should be there and changes only the
# difference, so a second run reports "0 changes". --dry-run prints every change (file diffs included)
# and makes none. Run it as root: `sudo infra/host/provision.sh --ssh-key ~/.ssh/id_ed25519.pub`.
set -euo pipefail

readonly MANAGED_BY='# Managed by ibstack infra/host/provision.sh; a re-run overwrites local edits.'
readonly DOCKER_KEY_FINGERPRINT='9DC858229FC7DD38854AE2D88D81803C0EBFCD88'
readonly ALL_STEPS='packages user ssh sysctl journald upgrades time fail2ban firewall docker'

DRY_RUN=false
ROOT=''
SSH_KEY_FILE=''
SSH_PORT=22
WIREGUARD_PORT=51820
DEPLOY_USER=ibstack
SKIP=' '
CHANGES=0

usage() {
  cat <<'EOF'
Usage: provision.sh [options]

  --dry-run             print every change it would make (with file diffs) and change nothing
  --ssh-key FILE        public key(s) allowed to log in as the deploy user
                        (default: root's ~/.ssh/authorized_keys, where VPS providers put your key)
  --ssh-port N          the port sshd listens on, opened in the firewall and watched by fail2ban (22)
  --wireguard-port N    the UDP port of the WireGuard link to the standby host (51820)
  --user NAME           the deploy user (ibstack)
  --skip STEP           leave a step out (repeatable): packages user ssh sysctl journald upgrades time
                        fail2ban firewall docker
  --root DIR            provision the system installed at DIR (a chroot: tests, images). Files, users
                        and Debian packages change there; services are not started or reloaded, the
                        firewall is configured but not enabled, and nothing touches the running kernel.
  -h, --help            this text
EOF
}

fail() {
  echo "provision: $*" >&2
  exit 1
}

# Exit 78 (EX_CONFIG), as the services do, for a bad option or a setting that would lock the operator out.
config_error() {
  echo "provision: $*" >&2
  exit 78
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --ssh-key) SSH_KEY_FILE="${2:?--ssh-key needs a file}"; shift ;;
    --ssh-port) SSH_PORT="${2:?--ssh-port needs a number}"; shift ;;
    --wireguard-port) WIREGUARD_PORT="${2:?--wireguard-port needs a number}"; shift ;;
    --user) DEPLOY_USER="${2:?--user needs a name}"; shift ;;
    --skip)
      case " $ALL_STEPS " in
        *" ${2:-} "*) SKIP="$SKIP$2 " ;;
        *) config_error "--skip: unknown step '${2:-}' (steps: $ALL_STEPS)" ;;
      esac
      shift
      ;;
    --root) ROOT="$(cd "${2:?--root needs a directory}" && pwd)"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; config_error "unknown option: $1" ;;
  esac
  shift
done

is_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
is_port "$SSH_PORT" || config_error "--ssh-port must be a port number, not '$SSH_PORT'"
is_port "$WIREGUARD_PORT" || config_error "--wireguard-port must be a port number, not '$WIREGUARD_PORT'"
[[ "$DEPLOY_USER" =~ ^[a-z_][a-z0-9_-]{0,30}$ ]] || config_error "--user must be a valid user name, not '$DEPLOY_USER'"
[ "$DEPLOY_USER" != root ] || config_error "--user must not be root"
[ -z "$SSH_KEY_FILE" ] || [ -r "$SSH_KEY_FILE" ] || config_error "--ssh-key: cannot read '$SSH_KEY_FILE'"
[ "$(id -u)" -eq 0 ] || fail "run as root (sudo $0 …)"

# --- helpers ---------------------------------------------------------------------------------------

step() { printf '\n== %s\n' "$1"; }
skipped() { case "$SKIP" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# Records one change; the caller applies it only when this returns 0 (not a dry run).
change() {
  CHANGES=$((CHANGES + 1))
  if $DRY_RUN; then
    echo "  would change: $*"
    return 1
  fi
  echo "  change: $*"
}

ok() { echo "  ok: $*"; }

# A command run on the provisioned system: in the chroot with --root, else here.
on_target() {
  if [ -n "$ROOT" ]; then chroot "$ROOT" "$@"; else "$@"; fi
}

# An action on the running system (a service, the live firewall). Never counted as a change: it follows
# from a change already counted, or only makes the running state match what is configured.
live() {
  if [ -n "$ROOT" ]; then
    echo "  not run (--root): $*"
  elif $DRY_RUN; then
    echo "  would run: $*"
  else
    echo "  run: $*"
    "$@"
  fi
}

# ufw on the provisioned system. With --root it runs in a network namespace of its own (and a private
# /proc): besides editing its rule files, ufw probes netfilter by adding and deleting a test chain, which
# must not happen in this machine's firewall.
target_ufw() {
  if [ -n "$ROOT" ]; then
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare --net --mount --fork chroot "$ROOT" sh -c 'mount -t proc proc /proc && exec ufw "$@"' ufw "$@"
  else
    ufw "$@"
  fi
}

has_systemd() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }

# Enables and starts a unit unless it already is; with --root only says so.
ensure_running() {
  local unit="$1"
  if has_systemd && systemctl is-enabled --quiet "$unit" 2>/dev/null && systemctl is-active --quiet "$unit"; then
    ok "$unit enabled and running"
  else
    live systemctl enable --now "$unit"
  fi
}

# ensure_file PATH MODE OWNER:GROUP [CHECK...] < content — writes the file when its content, mode or owner
# differ. CHECK (a command run on the target after writing) must accept the new file, or the old one is
# put back and provisioning stops: a broken sshd or sudoers file must never be left behind.
# Returns 0 when it changed (or would change) the file, so callers can reload what reads it.
ensure_file() {
  local path="$1" mode="$2" owner="$3" target="$ROOT$1" wanted
  shift 3
  wanted="$(mktemp)"
  cat >"$wanted"
  if [ -f "$target" ] && cmp -s "$wanted" "$target"; then
    local actual
    actual="$(on_target stat -c '%a %U:%G' "$path")"
    rm -f "$wanted"
    if [ "$actual" = "$mode $owner" ]; then
      ok "$path"
      return 1
    fi
    if change "$path: mode/owner $actual -> $mode $owner"; then
      on_target chmod "$mode" "$path"
      on_target chown "$owner" "$path"
    fi
    return 0
  fi
  if [ -f "$target" ]; then
    if $DRY_RUN; then diff -u --label "$path (now)" --label "$path (wanted)" "$target" "$wanted" | sed 's/^/    /' || true; fi
    change "$path: rewrite ($mode $owner)" || { rm -f "$wanted"; return 0; }
    cp -p "$target" "$target.provision-old"
  else
    if $DRY_RUN; then sed 's/^/    + /' "$wanted"; fi
    change "$path: create ($mode $owner)" || { rm -f "$wanted"; return 0; }
  fi
  mkdir -p "$(dirname "$target")"
  # Written beside the target and renamed, so a reader never sees half a file.
  install -m "$mode" "$wanted" "$target.provision-tmp"
  on_target chown "$owner" "$path.provision-tmp"
  mv -f "$target.provision-tmp" "$target"
  rm -f "$wanted"
  if [ $# -gt 0 ] && ! on_target "$@" >/dev/null; then
    if [ -f "$target.provision-old" ]; then mv -f "$target.provision-old" "$target"; else rm -f "$target"; fi
    fail "$path: rejected by '$*'; the previous file is back in place"
  fi
  rm -f "$target.provision-old"
  return 0
}

ensure_dir() {
  local path="$1" mode="$2" owner="$3"
  if [ -d "$ROOT$path" ] && [ "$(on_target stat -c '%a %U:%G' "$path")" = "$mode $owner" ]; then
    return 0
  fi
  if change "$path/: directory ($mode $owner)"; then
    mkdir -p "$ROOT$path"
    on_target chmod "$mode" "$path"
    on_target chown "$owner" "$path"
  fi
}

package_installed() {
  # shellcheck disable=SC2016 # ${Status} is dpkg-query's field, not a shell variable
  on_target dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

APT_UPDATED=false
ensure_packages() {
  local missing=() package
  for package in "$@"; do package_installed "$package" || missing+=("$package"); done
  if [ "${#missing[@]}" -eq 0 ]; then
    ok "installed: $*"
    return 0
  fi
  change "install packages: ${missing[*]}" || return 0
  if ! $APT_UPDATED; then
    on_target env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=true
  fi
  on_target env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
}

os_field() {
  # /etc/os-release is shell syntax; read one field without sourcing it into this script.
  sed -n "s/^$1=//p" "$ROOT/etc/os-release" | tr -d '"'
}

# --- what the host should look like ----------------------------------------------------------------

DISTRO="$(os_field ID)"
CODENAME="$(os_field VERSION_CODENAME)"
case "$DISTRO" in
  debian | ubuntu) ;;
  *) fail "unsupported distribution '$DISTRO' (Debian 12 or Ubuntu 22.04+ expected)" ;;
esac
HOME_DIR="/home/$DEPLOY_USER"

# The keys that will let the operator in once password and root logins are off.
SSH_KEYS="$(mktemp)"
trap 'rm -f "$SSH_KEYS"' EXIT
if [ -n "$SSH_KEY_FILE" ]; then
  grep -E '^(ssh-|ecdsa-|sk-)' "$SSH_KEY_FILE" >"$SSH_KEYS" || true
  [ -s "$SSH_KEYS" ] || config_error "--ssh-key: no public key in '$SSH_KEY_FILE'"
elif [ -f "$ROOT/root/.ssh/authorized_keys" ]; then
  grep -E '^(ssh-|ecdsa-|sk-)' "$ROOT/root/.ssh/authorized_keys" >"$SSH_KEYS" || true
fi
if [ ! -s "$SSH_KEYS" ] && ! grep -qsE '^(ssh-|ecdsa-|sk-)' "$ROOT$HOME_DIR/.ssh/authorized_keys"; then
  config_error "no SSH public key for $DEPLOY_USER: pass --ssh-key FILE. Refusing to turn off password and root logins, which would lock you out."
fi

echo "provisioning $DISTRO $CODENAME${ROOT:+ at $ROOT}$($DRY_RUN && echo ' (dry run: nothing is changed)')"

if ! skipped packages; then
  step 'packages'
  # git, jq and make: scripts/deploy.sh and the Makefile run on the host.
  base=(sudo openssh-server ca-certificates curl gpg git jq make)
  skipped firewall || base+=(ufw)
  skipped fail2ban || base+=(fail2ban python3-systemd)
  skipped upgrades || base+=(unattended-upgrades)
  skipped time || base+=(chrony)
  ensure_packages "${base[@]}"
fi

if ! skipped user; then
  step "user $DEPLOY_USER"
  # A locked password: no password login anywhere, not only over SSH.
  if ! on_target getent passwd "$DEPLOY_USER" >/dev/null; then
    if change "create user $DEPLOY_USER (home $HOME_DIR, password locked: SSH key only)"; then
      on_target useradd --create-home --home-dir "$HOME_DIR" --shell /bin/bash --user-group "$DEPLOY_USER"
      on_target usermod --lock "$DEPLOY_USER"
    fi
  elif [ "$(on_target passwd -S "$DEPLOY_USER" | awk '{print $2}')" = L ]; then
    ok "user $DEPLOY_USER exists, password locked"
  elif change "lock the password of $DEPLOY_USER"; then
    on_target usermod --lock "$DEPLOY_USER"
  fi
  # Docker's package creates the group too; creating it first lets the user join before Docker is there.
  for group in docker sudo; do
    if ! on_target getent group "$group" >/dev/null; then
      change "create group $group" && on_target groupadd --system "$group"
    fi
    if on_target id -nG "$DEPLOY_USER" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
      ok "$DEPLOY_USER in group $group"
    elif change "add $DEPLOY_USER to group $group"; then
      on_target usermod -aG "$group" "$DEPLOY_USER"
    fi
  done
  # Membership of the docker group is root-equivalent already, so a sudo password would protect nothing.
  ensure_file "/etc/sudoers.d/$DEPLOY_USER" 440 root:root visudo -cqf "/etc/sudoers.d/$DEPLOY_USER" <<EOF || true
$MANAGED_BY
$DEPLOY_USER ALL=(ALL) NOPASSWD:ALL
EOF
  ensure_dir "$HOME_DIR/.ssh" 700 "$DEPLOY_USER:$DEPLOY_USER"
  # Keys are added, never removed: a key the operator added by hand stays.
  authorized="$ROOT$HOME_DIR/.ssh/authorized_keys"
  while IFS= read -r key; do
    if grep -qsxF "$key" "$authorized"; then
      ok "key ${key:0:40}… present"
    elif change "authorize key ${key:0:40}… for $DEPLOY_USER"; then
      printf '%s\n' "$key" >>"$authorized"
      on_target chmod 600 "$HOME_DIR/.ssh/authorized_keys"
      on_target chown "$DEPLOY_USER:$DEPLOY_USER" "$HOME_DIR/.ssh/authorized_keys"
    fi
  done <"$SSH_KEYS"
  if [ -f "$authorized" ] && [ "$(on_target stat -c '%a %U' "$HOME_DIR/.ssh/authorized_keys")" != "600 $DEPLOY_USER" ]; then
    if change "$HOME_DIR/.ssh/authorized_keys: mode 600, owner $DEPLOY_USER"; then
      on_target chmod 600 "$HOME_DIR/.ssh/authorized_keys"
      on_target chown "$DEPLOY_USER:$DEPLOY_USER" "$HOME_DIR/.ssh/authorized_keys"
    fi
  fi
  ensure_dir /opt/ibstack 750 "$DEPLOY_USER:$DEPLOY_USER"
fi

if ! skipped ssh; then
  step 'ssh'
  # sshd keeps the first value it reads and includes sshd_config.d/*.conf in name order, so a "00-" file
  # wins over the main file and over cloud-init's 50-cloud-init.conf (which may turn passwords back on).
  # sshd -t needs its privilege separation directory, which only exists while sshd runs.
  $DRY_RUN || on_target mkdir -p /run/sshd
  if ensure_file /etc/ssh/sshd_config.d/00-ibstack.conf 644 root:root sshd -t <<EOF; then
$MANAGED_BY
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
PubkeyAuthentication yes
AuthenticationMethods publickey
MaxAuthTries 3
LoginGraceTime 30
X11Forwarding no
AllowAgentForwarding no
ClientAliveInterval 300
ClientAliveCountMax 2
EOF
    live systemctl reload ssh
  fi
fi

if ! skipped sysctl; then
  step 'kernel network settings'
  # ip_forward stays as it is: Docker needs it. rp_filter is loose (2), which WireGuard and Docker's
  # bridges tolerate, rather than strict.
  if ensure_file /etc/sysctl.d/60-ibstack.conf 644 root:root <<EOF; then
$MANAGED_BY
net.ipv4.tcp_syncookies = 1
net.ipv4.conf.all.rp_filter = 2
net.ipv4.conf.default.rp_filter = 2
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.default.accept_redirects = 0
net.ipv6.conf.all.accept_redirects = 0
net.ipv6.conf.default.accept_redirects = 0
net.ipv4.conf.all.secure_redirects = 0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.conf.all.accept_source_route = 0
net.ipv4.conf.default.accept_source_route = 0
net.ipv6.conf.all.accept_source_route = 0
net.ipv4.conf.all.log_martians = 1
net.ipv4.icmp_echo_ignore_broadcasts = 1
net.ipv4.icmp_ignore_bogus_error_responses = 1
kernel.kptr_restrict = 2
kernel.dmesg_restrict = 1
fs.protected_hardlinks = 1
fs.protected_symlinks = 1
fs.suid_dumpable = 0
EOF
    live sysctl --system --quiet
  fi
fi

if ! skipped journald; then
  step 'journal size'
  if ensure_file /etc/systemd/journald.conf.d/60-ibstack.conf 644 root:root <<EOF; then
$MANAGED_BY
# The system journal may not fill the disk the stack writes its database and backups to.
[Journal]
SystemMaxUse=1G
SystemKeepFree=2G
MaxRetentionSec=1month
EOF
    live systemctl restart systemd-journald
  fi
fi

if ! skipped upgrades; then
  step 'unattended security upgrades'
  ensure_file /etc/apt/apt.conf.d/20auto-upgrades 644 root:root <<EOF || true
$MANAGED_BY
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
APT::Periodic::AutocleanInterval "7";
EOF
  # Security updates only: Debian's default also takes point-release updates (Ubuntu's is security
  # only already). No automatic reboot: a trading host reboots when its operator decides.
  origins=''
  if [ "$DISTRO" = debian ]; then
    # shellcheck disable=SC2016 # ${distro_codename} is unattended-upgrades' variable
    origins='#clear Unattended-Upgrade::Origins-Pattern;
Unattended-Upgrade::Origins-Pattern {
  "origin=Debian,codename=${distro_codename},label=Debian-Security";
  "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";
};
'
  fi
  ensure_file /etc/apt/apt.conf.d/52ibstack-unattended-upgrades 644 root:root <<EOF || true
$MANAGED_BY
${origins}Unattended-Upgrade::Automatic-Reboot "false";
Unattended-Upgrade::Remove-Unused-Dependencies "true";
Unattended-Upgrade::MinimalSteps "true";
EOF
  ensure_running unattended-upgrades
fi

if ! skipped time; then
  step 'time sync'
  # chrony steps a clock that is far off at start and then slews; IB refuses clients whose clock is off.
  ensure_running chrony
fi

if ! skipped fail2ban; then
  step 'fail2ban'
  # Debian 12 and Ubuntu log sshd to the journal (Debian 12 has no /var/log/auth.log without rsyslog),
  # so the jail reads the journal. Bans go through UFW, so `ufw status` shows them.
  if ensure_file /etc/fail2ban/jail.d/ibstack.local 644 root:root fail2ban-client --test <<EOF; then
$MANAGED_BY
[DEFAULT]
banaction = ufw
backend = systemd

[sshd]
enabled = true
port = $SSH_PORT
backend = systemd
maxretry = 5
findtime = 10m
bantime = 1h
bantime.increment = true
bantime.maxtime = 1w
EOF
    live systemctl restart fail2ban
  fi
  ensure_running fail2ban
fi

if ! skipped firewall; then
  step 'firewall (ufw)'
  if [ -n "$ROOT" ] && grep -qs '^ENABLED=yes' "$ROOT/etc/ufw/ufw.conf"; then
    fail "ufw is enabled in $ROOT; with --root it is only configured, never enabled"
  fi
  defaults="$ROOT/etc/default/ufw"
  for rule in 'INPUT DROP incoming deny' 'OUTPUT ACCEPT outgoing allow' 'FORWARD DROP routed deny'; do
    read -r chain policy direction verb <<<"$rule"
    if grep -qsx "DEFAULT_${chain}_POLICY=\"$policy\"" "$defaults"; then
      ok "default $verb $direction"
    elif change "ufw default $verb $direction"; then
      target_ufw default "$verb" "$direction" >/dev/null
    fi
  done
  added="$(target_ufw show added 2>/dev/null || true)"
  for rule in "$SSH_PORT/tcp" 80/tcp 443/tcp "$WIREGUARD_PORT/udp"; do
    if grep -qx "ufw allow $rule" <<<"$added"; then
      ok "allow $rule"
    elif change "ufw allow $rule"; then
      target_ufw allow "$rule" >/dev/null
    fi
  done
  # SSH is allowed above before the firewall goes up, so enabling it cannot cut this session.
  if has_systemd && ufw status | grep -q '^Status: active'; then
    ok 'ufw active'
  else
    live ufw --force enable
  fi
fi

if ! skipped docker; then
  step 'docker engine and compose plugin'
  # Default log limits for every container, so no container log grows without bound even if a compose
  # service forgets its own; live-restore keeps containers running while the daemon is upgraded.
  if ensure_file /etc/docker/daemon.json 644 root:root <<'EOF'; then
{
  "log-driver": "json-file",
  "log-opts": { "max-size": "10m", "max-file": "5" },
  "live-restore": true
}
EOF
    if package_installed docker-ce; then live systemctl restart docker; fi
  fi
  ensure_dir /etc/apt/keyrings 755 root:root
  keyring=/etc/apt/keyrings/docker.asc
  if [ -s "$ROOT$keyring" ]; then
    ok "$keyring"
  elif change "download Docker's apt key to $keyring (fingerprint $DOCKER_KEY_FINGERPRINT)"; then
    on_target curl -fsSL "https://download.docker.com/linux/$DISTRO/gpg" -o "$keyring.tmp"
    on_target gpg --show-keys --with-colons "$keyring.tmp" | grep -q "^fpr:::::::::$DOCKER_KEY_FINGERPRINT:" ||
      fail "Docker's apt key does not have the expected fingerprint $DOCKER_KEY_FINGERPRINT"
    on_target chmod 644 "$keyring.tmp"
    mv -f "$ROOT$keyring.tmp" "$ROOT$keyring"
  fi
  architecture="$(on_target dpkg --print-architecture)"
  if ensure_file /etc/apt/sources.list.d/docker.sources 644 root:root <<EOF; then
Types: deb
URIs: https://download.docker.com/linux/$DISTRO
Suites: $CODENAME
Components: stable
Architectures: $architecture
Signed-By: $keyring
EOF
    APT_UPDATED=false
  fi
  ensure_packages docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin
  ensure_running docker
fi

printf '\n%s\n' "$CHANGES change$([ "$CHANGES" -eq 1 ] || echo s)$($DRY_RUN && echo ' (dry run: none made)')"
