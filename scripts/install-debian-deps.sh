#!/usr/bin/env bash
# Install the Debian packages the test suite and benchmarks need, only those missing.
set -euo pipefail

# command:package pairs; later issues add postgresql, redis-server, chromium here.
NEEDED=(
  "nginx:nginx"
  "wrk:wrk"
  "hey:hey"
  "redis-server:redis-server"
  "pg_ctl:postgresql"
)

missing=()
for pair in "${NEEDED[@]}"; do
  cmd=${pair%%:*}; pkg=${pair##*:}
  if [ "$cmd" = "pg_ctl" ]; then
    if command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then continue; fi
  elif command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ]; then
    continue
  fi
  missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-debian-deps: missing ${missing[*]} and not root (install them with apt-get)" >&2
    exit 1
  fi
fi
echo "install-debian-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts these as system services on install; the suite runs its own on free ports.
for svc in nginx redis-server postgresql; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
