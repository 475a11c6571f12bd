#!/usr/bin/env bash
# Install everything and run every check: ruff, mypy, import layers, the JSON Schemas, pytest
# (labs included).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
.venv/bin/ruff check reconciler drivers tests bench
.venv/bin/mypy reconciler drivers
.venv/bin/lint-imports --no-cache  # the layers in pyproject.toml [tool.importlinter]
.venv/bin/tenantry schemas --check
.venv/bin/pytest -q "$@"
