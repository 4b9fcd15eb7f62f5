#!/usr/bin/env bash
# Install the Debian packages the test suite and the benchmarks need, and only those missing.
# Safe to run again: with everything present it does nothing and prints nothing.
set -euo pipefail

# One line per package: "<debian package> <command it provides>". A package counts as present
# when dpkg has it installed or its command is found (on PATH, in /usr/sbin, or among
# PostgreSQL's versioned binaries). Add a line here when the suite needs a new server or tool.
PACKAGES=(
  "nginx nginx"
  "wrk wrk"
  "hey hey"
  "redis-server redis-server"
  "postgresql pg_ctl"
  "chromium chromium"
  "prometheus prometheus"
)

say() { echo "install-debian-deps: $*"; }

has_command() {
  command -v "$1" >/dev/null 2>&1 && return 0
  local f
  for f in /usr/sbin/"$1" /sbin/"$1" /usr/lib/postgresql/*/bin/"$1"; do
    [ -x "$f" ] && return 0
  done
  return 1
}

has_package() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for entry in "${PACKAGES[@]}"; do
  read -r pkg cmd <<<"$entry"
  if ! has_package "$pkg" && ! has_command "$cmd"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

cannot() {
  echo "install-debian-deps: missing Debian packages: ${missing[*]}; $1 (as root: apt-get install ${missing[*]})" >&2
  exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
  cannot "apt-get not found, so they cannot be installed here"
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || cannot "not root and no sudo"
  SUDO=(sudo)
fi

say "installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get update -q >"$log" 2>&1 \
  || ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
       apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
  tail -n 20 "$log" >&2
  cannot "apt-get failed (its last lines are above)"
fi

# Debian starts servers as system services when it installs them; the suite runs its own
# throwaway servers on free ports, so stop the ones just installed.
for pkg in "${missing[@]}"; do
  if [ -x "/etc/init.d/$pkg" ]; then
    "${SUDO[@]}" service "$pkg" stop >/dev/null 2>&1 || true
  fi
done

still=()
for entry in "${PACKAGES[@]}"; do
  read -r pkg cmd <<<"$entry"
  has_command "$cmd" || still+=("$pkg ($cmd)")
done
if [ ${#still[@]} -gt 0 ]; then
  echo "install-debian-deps: installed, but still not found: ${still[*]}" >&2
  exit 1
fi
say "done"
