#!/usr/bin/env bash
# The dashboard tests' browser (issue 17), called by setup.sh. Idempotent.
#   - Debian's chromium and two fonts (apt; without fonts Chromium draws no text); the tests
#     drive /usr/bin/chromium through Playwright (a pip package of the [test] extra) with
#     executable_path: nothing is downloaded at run time, no `playwright install`
#   - axe-core and html-validate from npm into .axe/ (git-ignored); the tests inject
#     axe.min.js into each page and check every page's markup with html-validate
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
AXE_PREFIX=${AXE_PREFIX:-$ROOT/.axe}
AXE_SPEC=${AXE_SPEC:-axe-core@4.14.1}
HTML_VALIDATE_SPEC=${HTML_VALIDATE_SPEC:-html-validate@10.17.0}
APT_PKGS=(chromium fonts-dejavu-core fonts-liberation)

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing ${missing[*]}: apt-get install them (the dashboard browser tests will skip, or fail with CI=true)" >&2
    exit 0
  fi
fi
if [ ! -f "$AXE_PREFIX/node_modules/axe-core/axe.min.js" ] ||
   [ ! -x "$AXE_PREFIX/node_modules/.bin/html-validate" ]; then
  mkdir -p "$AXE_PREFIX"
  npm install --prefix "$AXE_PREFIX" --no-audit --no-fund --loglevel=error \
    "$AXE_SPEC" "$HTML_VALIDATE_SPEC" >/dev/null
fi
chromium --version 2>/dev/null | head -1
