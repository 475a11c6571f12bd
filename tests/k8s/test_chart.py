"""The Helm chart: `helm lint` passes, `helm template` renders manifests that validate against
the Kubernetes schemas (kubernetes-validate) and install cleanly into the API emulator."""

from __future__ import annotations

import base64
import subprocess
from typing import Any

import pytest
import yaml

from . import helm
from .conftest import Cluster, need

K8S_VERSION = "1.30"
HA = {
    "replicaCount": 2,
    "peering": {"enabled": True},
    "ledger": {"url": "postgresql://tenantry:secret@postgres:5432/tenantry"},
    "drivers": "devices",
    "credentials": {"env": {"TENANTRY_CRED_DEFAULT_USERNAME": "netops"}},
}


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


NO_WEBHOOK = {"webhook": {"enabled": False}}
CERT_MANAGER = {"webhook": {"certManager": {"enabled": True}}}
VALUES = {
    "default": None,
    "replicas-postgres": HA,
    "no-webhook": NO_WEBHOOK,
    "cert-manager": CERT_MANAGER,
}
FOREIGN = {"ClusterKopfPeering", "Certificate", "Issuer"}  # kopf's, cert-manager's: no schema


@pytest.mark.parametrize("values", VALUES.values(), ids=VALUES.keys())
def test_helm_lint_strict_passes(values: dict[str, Any] | None) -> None:
    report = helm.lint(values=values)
    assert report["errors"] == [], report
    assert not [m for m in report["messages"] if m["severity"] >= 2], report


@pytest.mark.parametrize("values", VALUES.values(), ids=VALUES.keys())
def test_rendered_manifests_validate(values: dict[str, Any] | None) -> None:
    """`helm template` then `kubernetes-validate --strict` on every manifest."""
    import kubernetes_validate

    docs = documents(helm.template(values=values, include_crds=True))
    kinds = {d["kind"] for d in docs}
    assert {
        "Deployment",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Service",
        "Secret",
        "CustomResourceDefinition",
        "Pod",
    } <= kinds
    assert ("ValidatingWebhookConfiguration" in kinds) == (values is not NO_WEBHOOK)
    for doc in docs:
        if doc["kind"] not in FOREIGN:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    operator = deployment(docs, "operator")
    container = operator["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["TENANTRY_ROLE"]["value"] == "reconciler" and "TENANTRY_METRICS_PORT" in env
    assert (env["TENANTRY_DRIFT_SECONDS"]["value"], env["TENANTRY_REPAIR_DRIFT"]["value"]) == (
        "300", "false")  # the drift check (issue 15), reporting only
    assert container["readinessProbe"] and container["livenessProbe"]
    if values is HA:
        assert "--peering=tenantry" in container["args"]
        assert env["TENANTRY_LEDGER"]["valueFrom"]["secretKeyRef"]["key"] == "url"
        assert any(d["kind"] == "ClusterKopfPeering" for d in docs)
        assert operator["spec"]["strategy"]["type"] == "RollingUpdate"
    else:
        assert "--standalone" in container["args"]
        assert operator["spec"]["strategy"]["type"] == "Recreate"  # one SQLite file


def deployment(docs: list[dict[str, Any]], component: str) -> dict[str, Any]:
    return next(
        d
        for d in docs
        if d["kind"] == "Deployment"
        and d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == component
    )


def test_webhook_has_two_ready_replicas_a_budget_and_rolls_one_at_a_time() -> None:
    docs = documents(helm.template())
    hook = deployment(docs, "webhook")
    assert hook["spec"]["replicas"] >= 2
    assert hook["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    container = hook["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["tcpSocket"]["port"] == "webhook"
    assert {e["name"]: e.get("value") for e in container["env"]}["TENANTRY_ROLE"] == "webhook"
    budget = next(d for d in docs if d["kind"] == "PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"] == hook["spec"]["selector"]
    service = next(
        d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "tenantry-webhook"
    )
    assert service["spec"]["selector"] == hook["spec"]["selector"]["matchLabels"]
    with pytest.raises(Exception, match="at least 2 with failurePolicy Fail"):
        helm.template(values={"webhook": {"replicaCount": 1}})
    helm.template(values={"webhook": {"replicaCount": 1, "failurePolicy": "Ignore"}})


def test_values_schema_refuses_a_wrong_value() -> None:
    with pytest.raises(Exception, match="replicaCount"):
        helm.template(values={"replicaCount": "two"})
    with pytest.raises(Exception, match="drivers"):
        helm.template(values={"drivers": "ssh"})
    with pytest.raises(Exception, match="url"):
        helm.template(values={"ledger": {"url": "mysql://x"}})


def test_cert_manager_issues_the_certificate_and_injects_the_ca() -> None:
    docs = documents(helm.template(values=CERT_MANAGER))
    certificate = next(d for d in docs if d["kind"] == "Certificate")
    assert certificate["spec"]["secretName"] == "tenantry-webhook-tls"
    assert "tenantry-webhook.tenantry.svc" in certificate["spec"]["dnsNames"]
    assert certificate["spec"]["issuerRef"]["kind"] == "Issuer"
    hooks = next(d for d in docs if d["kind"] == "ValidatingWebhookConfiguration")
    annotation = hooks["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
    assert annotation == "tenantry/tenantry-webhook"
    assert all("caBundle" not in w["clientConfig"] for w in hooks["webhooks"])
    assert not [d for d in docs if d["kind"] == "Secret" and d["type"] == "kubernetes.io/tls"]
    own = {
        "webhook": {
            "certManager": {
                "enabled": True,
                "issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer"},
            }
        }
    }
    docs = documents(helm.template(values=own))
    assert not [d for d in docs if d["kind"] == "Issuer"]
    issuer = next(d for d in docs if d["kind"] == "Certificate")["spec"]["issuerRef"]
    assert issuer == {"name": "corp-ca", "kind": "ClusterIssuer"}


def test_helm_test_hook_checks_the_webhook_over_tls_and_the_metrics() -> None:
    docs = documents(helm.template())
    pod = next(d for d in docs if d["kind"] == "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = pod["spec"]["containers"][0]["args"][0]
    assert "server_hostname=host" in script and "tenantry-webhook.tenantry.svc" in script
    assert "/metrics" in script
    compile(script, "helm-test", "exec")  # the rendered check is valid Python
    no_hook = documents(helm.template(values=NO_WEBHOOK))
    script = next(d for d in no_hook if d["kind"] == "Pod")["spec"]["containers"][0]["args"][0]
    assert "ssl" not in script.split("\n", 1)[1] and "/metrics" in script
    compile(script, "helm-test", "exec")


def test_notes_say_how_to_check_and_that_crds_are_not_upgraded() -> None:
    notes = helm.notes()
    assert "helm test tenantry" in notes
    assert "kubectl wait --for=condition=Ready occupier/" in notes
    assert "Helm never upgrades the CRDs" in notes


def test_webhook_certificate_is_signed_for_the_service() -> None:
    docs = documents(helm.template())
    hooks = next(d for d in docs if d["kind"] == "ValidatingWebhookConfiguration")
    paths = sorted(w["clientConfig"]["service"]["path"] for w in hooks["webhooks"])
    assert paths == [
        "/admit-contracts",
        "/admit-occupiers",
        "/admit-servicedefinitions",
        "/admit-services",
        "/admit-sites",
    ]
    assert {w["clientConfig"]["service"]["name"] for w in hooks["webhooks"]} == {"tenantry-webhook"}
    secret = next(d for d in docs if d["kind"] == "Secret" and d["type"] == "kubernetes.io/tls")
    assert secret["metadata"]["name"] == "tenantry-webhook-tls"
    assert hooks["webhooks"][0]["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]
    names = subprocess.run(
        [need("openssl"), "x509", "-noout", "-ext", "subjectAltName"],
        input=base64.b64decode(secret["data"]["tls.crt"]).decode(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "DNS:tenantry-webhook.tenantry.svc" in names, names


def test_least_privilege_rbac() -> None:
    docs = documents(helm.template())
    role = next(d for d in docs if d["kind"] == "ClusterRole")
    verbs = {v for rule in role["rules"] for v in rule["verbs"]}
    assert not verbs & {"*", "delete", "deletecollection", "update", "escalate", "bind"}
    for rule in role["rules"]:
        assert "*" not in rule["resources"] and "*" not in rule["apiGroups"]
        if "create" in rule["verbs"]:
            assert rule["resources"] == ["events"]


def test_several_replicas_need_peering_and_postgres() -> None:
    with pytest.raises(Exception, match="peering"):
        helm.template(values={"replicaCount": 2})
    with pytest.raises(Exception, match="postgresql"):
        helm.template(values={"replicaCount": 2, "peering": {"enabled": True}})


def test_helm_template_installs_into_the_emulator(cluster: Cluster) -> None:
    # (`kubectl create namespace` sends protobuf, which the emulator does not speak)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tenantry"}}
    cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(namespace))
    rendered = helm.template(values=HA, include_crds=True)
    crds = "".join(
        f"---\n{yaml.safe_dump(d)}"
        for d in documents(rendered)
        if d["kind"] == "CustomResourceDefinition"
    )
    cluster.kubectl("apply", "-f", "-", stdin=crds)
    cluster.kubectl("wait", "--for", "condition=established", "--timeout=20s", "crd", "--all")
    done = cluster.kubectl("apply", "-f", "-", stdin=rendered)
    for what in (
        "deployment.apps/tenantry created",
        "validatingwebhookconfiguration",
        "clusterrole.rbac.authorization.k8s.io/tenantry created",
        "clusterkopfpeering.kopf.dev/tenantry created",
    ):
        assert what in done.stdout, done.stdout
    assert "Warning" not in done.stderr, done.stderr
    out = cluster.kubectl("get", "deploy,svc,sa,secret,pdb", "-n", "tenantry").stdout
    assert "tenantry-webhook-tls" in out and "deployment.apps/tenantry-webhook" in out
