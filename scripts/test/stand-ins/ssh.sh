#!/usr/bin/env bash
# A stand-in for `ssh` in the test of .github/workflows/deploy.yml: records its arguments and the mode of
# the key file it was given, and runs nothing remote.
set -euo pipefail
key=''
previous=''
for argument in "$@"; do
  if [ "$previous" = -i ]; then key="$argument"; fi
  previous="$argument"
done
{
  printf 'args:'
  printf ' %q' "$@"
  printf '\nkey-mode: %s\n' "$(stat -c %a "$key" 2>/dev/null || echo missing)"
} >>"${FAKE_SSH_LOG:?}"
