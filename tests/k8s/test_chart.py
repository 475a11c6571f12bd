"""The Helm chart: `helm lint` passes, `helm template` renders manifests that validate against
the Kubernetes schemas (kubernetes-validate) and install cleanly into the API emulator."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from . import helm
from .conftest import Cluster

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


def test_helm_lint_passes() -> None:
    for values in (None, HA):
        report = helm.lint(values=values)
        assert report["errors"] == [], report
        assert not [m for m in report["messages"] if m["severity"] >= 2], report


@pytest.mark.parametrize("values", [None, HA], ids=["default", "replicas-postgres"])
def test_rendered_manifests_validate(values: dict[str, Any] | None) -> None:
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
        "ValidatingWebhookConfiguration",
        "CustomResourceDefinition",
    } <= kinds
    for doc in docs:
        if doc["kind"] == "ClusterKopfPeering":
            continue  # kopf's own resource: no schema in kubernetes-validate
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert "TENANTRY_WEBHOOK_PORT" in env and "TENANTRY_METRICS_PORT" in env
    if values is HA:
        assert "--peering=tenantry" in container["args"]
        assert env["TENANTRY_LEDGER"]["valueFrom"]["secretKeyRef"]["key"] == "url"
        assert any(d["kind"] == "ClusterKopfPeering" for d in docs)
    else:
        assert "--standalone" in container["args"]


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
    secret = next(d for d in docs if d["kind"] == "Secret" and d["type"] == "kubernetes.io/tls")
    assert hooks["webhooks"][0]["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]


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
    out = cluster.kubectl("get", "deploy,svc,sa,secret", "-n", "tenantry").stdout
    assert "tenantry-webhook-tls" in out
