#!/usr/bin/env bash
# Install what the lab tests (tests/labs/) need on Debian bookworm, as root. Idempotent.
#
#   scripts/setup-labs.sh              # every component
#   scripts/setup-labs.sh network      # only the named sections
#
# One function per component, so further sections (kamailio, freeradius, postgres, ...) can be
# appended: define setup_<name>, add <name> to ALL_COMPONENTS. Python packages go into the venv
# at ${VENV:-.venv} (relative to the project root); system packages come from apt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PIP="$VENV/bin/pip"
export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0

log() { printf '== %s\n' "$*"; }

# apt_install PKG...: install only the packages that are missing; apt-get update at most once
apt_install() {
  local need=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
  [ ${#need[@]} -eq 0 ] && { log "apt: already installed: $*"; return 0; }
  if [ "$APT_UPDATED" = 0 ]; then apt-get -o DPkg::Lock::Timeout=600 update -qq; APT_UPDATED=1; fi
  log "apt: installing ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}"
}

require_venv() {
  [ -x "$VENV/bin/python" ] || { echo "no venv at $VENV (python3 -m venv $VENV; pip install -e '.[test]')" >&2; exit 1; }
}

# ------------------------------------------------------------------ network (switches, router)
# Cisco IOS-style switch simulator (fake-switches), Open vSwitch userspace bridge with a
# private sshd, FRR zebra+staticd. The packages' own services are never used: the test
# fixtures start private daemons on 127.0.0.1 / in their own network namespaces.
setup_network() {
  apt_install openvswitch-switch frr openssh-server openssh-client iproute2 iputils-ping
  require_venv
  # fake-switches 1.5.0 pins Twisted<17 in its metadata but runs on today's Twisted: install it
  # without its pins, then the four packages it really imports.
  if ! "$VENV/bin/python" -c "import fake_switches" 2>/dev/null; then
    "$PIP" install -q --no-deps "fake-switches==1.5.0"
  fi
  "$PIP" install -q "twisted[conch]==26.10.0" "tftpy==0.8.7" "netaddr==1.3.0" "lxml==6.1.3" \
    "scrapli==2026.10.14"
  "$VENV/bin/python" -c "import fake_switches, scrapli, twisted; print('network venv ok')"
}

# ------------------------------------------------------------------ postgres (shared ledger)
# The tests start a throwaway cluster as the `postgres` user in a temp directory; the Debian
# `main` cluster is never used.
setup_postgres() {
  apt_install postgresql
}

ALL_COMPONENTS="network postgres"

main() {
  [ "$(id -u)" = 0 ] || { echo "run as root (apt-get, network namespaces)" >&2; exit 1; }
  local c
  for c in ${*:-$ALL_COMPONENTS}; do
    declare -F "setup_$c" >/dev/null || { echo "unknown component: $c (known: $ALL_COMPONENTS)" >&2; exit 2; }
    log "setup $c"
    "setup_$c"
  done
}

main "$@"
