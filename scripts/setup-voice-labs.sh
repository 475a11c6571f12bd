#!/bin/sh
# Install the real telephony and Wi-Fi components the voice lab tests drive
# (Kamailio + SIPp, FreeRADIUS + radclient + eapol_test, sqlite3) on Debian.
#
# Idempotent; run as root. The tests start their OWN Kamailio and FreeRADIUS on
# 127.0.0.1 random ports, so the system services the packages enable are
# stopped and disabled here: they would only hold 5060/1812 and waste memory.
set -eu

if [ "$(id -u)" != 0 ]; then
    echo "setup-voice-labs: run as root" >&2
    exit 1
fi

PKGS="kamailio kamailio-sqlite-modules sip-tester freeradius freeradius-utils sqlite3 eapoltest openssl curl"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq -o DPkg::Lock::Timeout=600 $missing
fi

# The packages start their services on install (where systemd / policy-rc.d allow it).
for svc in kamailio freeradius; do
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
    else
        if command -v service >/dev/null 2>&1; then
            service "$svc" stop >/dev/null 2>&1 || true
        fi
        if command -v update-rc.d >/dev/null 2>&1; then
            update-rc.d "$svc" disable >/dev/null 2>&1 || true
        fi
    fi
done

for bin in kamailio sipp freeradius radclient eapol_test sqlite3; do
    command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || {
        echo "setup-voice-labs: $bin still missing" >&2; exit 1; }
done
echo "setup-voice-labs: ok ($(kamailio -v 2>/dev/null | head -1 | cut -d' ' -f1-3); $(freeradius -v 2>/dev/null | head -1 | sed 's/,.*//'))"
