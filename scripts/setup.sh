#!/usr/bin/env bash
# Everything the tests need on a fresh Debian machine, as root. Idempotent.
#   - a virtualenv at .venv with tenantry and its test extras
#   - the lab components: Cisco simulator, Open vSwitch, FRR, PostgreSQL (setup-labs.sh),
#     Kamailio, SIPp, FreeRADIUS (setup-voice-labs.sh)
#   - the dashboard tests' headless Chromium and axe-core (setup-browser.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV=${VENV:-$ROOT/.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
"$VENV/bin/pip" install -q -e ".[test]"
# An editable install leaves the project's modules uncompiled, as pip would not for a regular
# one, and with PYTHONDONTWRITEBYTECODE (set on many CI images) Python never caches them:
# every command would compile them again (60 ms of `tenantry validate`). Compile them once.
"$VENV/bin/python" -m compileall -q reconciler drivers >/dev/null
VENV="$VENV" bash scripts/setup-k8s.sh
bash scripts/setup-browser.sh
bash scripts/setup-validators.sh
if [ "$(id -u)" = 0 ]; then
  VENV="$VENV" bash scripts/setup-labs.sh
  VENV="$VENV" bash scripts/setup-voice-labs.sh
else
  echo "not root: skipping the lab packages (the lab tests will skip, or fail with CI=true)" >&2
fi
