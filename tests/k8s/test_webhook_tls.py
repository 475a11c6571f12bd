"""The webhook as the chart installs it, over TLS end to end: `helm template` makes the CA and
the serving certificate, the rendered ValidatingWebhookConfiguration carries the CA bundle and
points at the webhook Service; the emulator calls it over HTTPS, verifying the certificate
against that bundle and the Service's DNS name (`tenantry-webhook.tenantry.svc`), as the API
server does. The webhook process (`TENANTRY_ROLE=webhook`, as the chart's webhook Deployment
runs it) serves the certificate the chart put in its Secret. With another CA in the bundle,
every write is refused."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from . import helm
from .conftest import Cluster, free_port, self_signed, start_operator, wait_for
from .test_operator_e2e import ADMIN, CRDS, apply_desired_state

NAMESPACE = "tenantry"
SECRET = "tenantry-webhook-tls"


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def installed(cluster: Cluster) -> tuple[Cluster, int]:
    """The chart rendered and applied (CRDs first); its webhook served by a real operator
    process in the webhook role with the certificate from the chart's Secret."""
    port = free_port()  # the emulator calls a Service's port on 127.0.0.1
    values = {"webhook": {"port": port, "servicePort": port}}
    rendered = helm.template(values=values, namespace=NAMESPACE)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(namespace))
    cluster.kubectl("apply", "-f", str(CRDS))
    cluster.kubectl("wait", "--for", "condition=established", "--timeout=20s", "crd", "--all")
    cluster.kubectl("apply", "-f", "-", stdin=rendered)
    secret = _secret(cluster)
    tls = cluster.root / "chart-tls"
    tls.mkdir()
    for key in ("tls.crt", "tls.key"):
        (tls / key).write_bytes(base64.b64decode(secret["data"][key]))
    start_operator(
        cluster,
        "webhook",
        webhook=False,
        extra={
            "TENANTRY_ROLE": "webhook",
            "TENANTRY_WEBHOOK_PORT": str(port),
            "TENANTRY_WEBHOOK_ADDR": "127.0.0.1",
            "TENANTRY_WEBHOOK_TLS_DIR": str(tls),
        },
    )
    wait_for("the webhook's HTTPS port", lambda: listening(port), 30)
    return cluster, port


def _secret(cluster: Cluster) -> dict[str, Any]:
    out = cluster.kubectl("get", "secret", SECRET, "-n", NAMESPACE, "-o", "json").stdout
    return json.loads(out)  # type: ignore[no-any-return]


def second_public_ip() -> str:
    return json.dumps(
        {
            "apiVersion": "tenantry.dev/v1alpha1",
            "kind": "Service",
            "metadata": {"name": "acme-lb-public-ip-2"},
            "spec": {"occupier": "acme", "site": "london-bridge", "definition": "public-ip"},
        }
    )


def test_the_emulator_calls_the_chart_webhook_over_verified_https(
    installed: tuple[Cluster, int],
) -> None:
    cluster, _ = installed
    hooks = cluster.get("validatingwebhookconfiguration", "tenantry")
    service = hooks["webhooks"][0]["clientConfig"]["service"]
    assert (service["name"], service["namespace"]) == ("tenantry-webhook", NAMESPACE)
    done = apply_desired_state(cluster)
    assert done.stdout.count("created") == 76, done.stdout
    # The webhook process has no indices (it does not reconcile): it read the cluster from
    # the API server to find acme's first public IP.
    refused = cluster.kubectl(
        "apply", "--as", ADMIN, "-f", "-", stdin=second_public_ip(), check=False
    )
    assert 'admission webhook "admit-services.tenantry.dev" denied the request' in refused.stderr
    assert "error[S5]: acme may have at most 1 public-ip at london-bridge" in refused.stderr
    log = (cluster.root / "webhook.log").read_text(errors="replace")
    assert "Handler 'reconcile'" not in log  # the webhook role never reconciles


def test_a_wrong_ca_bundle_is_refused(installed: tuple[Cluster, int], tmp_path: Path) -> None:
    cluster, _ = installed
    other = (self_signed(tmp_path / "other-ca") / "cert.pem").read_bytes()
    patch = [
        {
            "op": "replace",
            "path": f"/webhooks/{i}/clientConfig/caBundle",
            "value": base64.b64encode(other).decode(),
        }
        for i in range(5)
    ]
    cluster.kubectl(
        "patch",
        "validatingwebhookconfiguration",
        "tenantry",
        "--type=json",
        "-p",
        json.dumps(patch),
    )
    change = json.dumps({"spec": {"quantity": 2}})
    refused = cluster.kubectl(
        "patch",
        "services.tenantry.dev",
        "acme-lb-wifi-users",
        "--as",
        ADMIN,
        "--type",
        "merge",
        "-p",
        change,
        check=False,
    )
    assert refused.returncode != 0
    assert 'failed calling webhook "admit-services.tenantry.dev"' in refused.stderr
    assert (
        "CERTIFICATE_VERIFY_FAILED" in refused.stderr
        or "certificate verify failed" in refused.stderr
    )
    assert cluster.get("services.tenantry.dev", "acme-lb-wifi-users")["spec"].get("quantity") != 2
