"""The kopf handlers: a few lines each, calling the plain functions of `reconcile` and
`admission`. Importing this module registers them; `tenantry operator` runs kopf on it.

- every tenantry kind: create / update (spec) / resume / delete → one global reconcile, then
  the status of every object and the events (publish); the handled object's verdict tells
  kopf to go on, to retry later (TemporaryError: ledger busy, a device failed, another object
  blocks) or to stop (PermanentError: this object is invalid; it is stalled until changed);
- a finalizer on every object (kopf's, for the delete handler): an Occupier's allocations are
  released and its ports parked before it goes;
- a timer on Sites: the desired state is reconciled again every TENANTRY_RESYNC_SECONDS
  (dates move: scheduled services start, numbers leave cooling-off) — one timer per site is
  enough, because each reconcile covers everything;
- one in-memory index per kind: the cluster's objects, for the webhook, which must answer
  fast (a webhook-only process keeps none and lists the objects from the API server); a
  reconciliation lists them from the API server, under the ledger's apply lock (engine.py);
- a validating admission webhook per kind (ids `admit-<plural>`, served at `/admit-<plural>`);
- a second timer on Sites, the drift check (issue 15): every TENANTRY_DRIFT_SECONDS the
  devices are read against the last apply; Sites and Occupiers get the `Drifted` condition
  and events, and with TENANTRY_REPAIR_DRIFT=true the drift is repaired.
"""

from __future__ import annotations

import logging
import os
from typing import Any, cast

import kopf
import kubernetes

from reconciler.crds import GROUP, NAMES, VERSION
from reconciler.ledger import LedgerError
from reconciler.model.base import API_VERSION
from reconciler.model.repo import Ref
from reconciler.operator import admission, engine, metrics, reconcile
from reconciler.operator import drift as drift_check
from reconciler.operator.cluster import Body, plain, ref_of
from reconciler.operator.settings import Settings

SETTINGS = Settings.from_env()
ENGINE = engine.Engine(SETTINGS)
FINALIZER = "tenantry.dev/release"
PLURALS = {kind: plural for kind, (plural, _) in NAMES.items()}


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=GROUP)
    settings.batching.error_delays = [1, 2, 5, 10, 30, 60]
    settings.peering.lifetime = SETTINGS.peering_lifetime
    settings.posting.level = logging.WARNING  # our own events say what changed; not every log
    if SETTINGS.serves_webhook:
        certfile, pkeyfile = _certificate(SETTINGS.webhook_tls_dir)
        settings.admission.server = kopf.WebhookServer(
            addr=SETTINGS.webhook_addr,
            port=SETTINGS.webhook_port,
            host=SETTINGS.webhook_host,
            certfile=certfile,
            pkeyfile=pkeyfile,
        )
        if SETTINGS.webhook_managed:
            settings.admission.managed = SETTINGS.webhook_managed
    if SETTINGS.metrics_port:
        metrics.serve(SETTINGS.metrics_port)
    try:
        kubernetes.config.load_incluster_config()  # type: ignore[no-untyped-call]
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config()  # type: ignore[no-untyped-call]


def _certificate(directory: str) -> tuple[str | None, str | None]:
    for cert, key in (("tls.crt", "tls.key"), ("cert.pem", "key.pem")):
        if directory and os.path.exists(os.path.join(directory, cert)):
            return os.path.join(directory, cert), os.path.join(directory, key)
    return None, None  # kopf makes a self-signed one


def objects(indices: dict[str, Any]) -> list[Body]:
    return [
        body
        for plural in PLURALS.values()
        for store in indices[f"idx_{plural}"].values()
        for body in store
    ]


def live_objects() -> list[Body]:
    """The cluster's objects as the API server holds them now (a consistent list): what each
    reconciliation runs on, and what a webhook-only process (the chart's webhook Deployment,
    which keeps no indices) judges against."""
    api = kubernetes.client.CustomObjectsApi()
    out: list[Body] = []
    for kind, plural in PLURALS.items():
        listed = cast(dict[str, Any], api.list_cluster_custom_object(GROUP, VERSION, plural))
        out += [{"apiVersion": API_VERSION, "kind": kind, **o} for o in listed.get("items") or []]
    return out


def write_status(ref: Ref, status: dict[str, Any]) -> None:
    try:
        kubernetes.client.CustomObjectsApi().patch_cluster_custom_object_status(
            GROUP, VERSION, PLURALS[ref.kind], ref.name, {"status": status}
        )
    except kubernetes.client.ApiException as exc:
        if exc.status != 404:  # gone meanwhile: nothing to tell
            raise


def post_event(body: Body, type: str, reason: str, message: str) -> None:
    kopf.event(body, type=type, reason=reason, message=message[:1024])  # type: ignore[arg-type]


def publish(outcome: reconcile.Outcome) -> None:
    reconcile.publish(outcome, write_status, post_event)


def reconcile_for(body: Body, releasing: bool = False) -> None:
    # The run reads the cluster from the API server, not from the indices: a watch can lag,
    # and a run that misses an object another replica has served would release its values.
    outcome = ENGINE.reconcile(live_objects, publish)
    verdict = outcome.verdict(ref_of(body))
    if releasing and outcome.blocked:  # nothing was applied, so nothing was released
        verdict = reconcile.Verdict(retry=True, message=outcome.blocked_message(), delay=30)
    if verdict.permanent:
        raise kopf.PermanentError(verdict.message)
    if verdict.retry:
        raise kopf.TemporaryError(verdict.message, delay=verdict.delay)


def index(body: kopf.Body, **_: Any) -> dict[str, Any]:
    return {body.metadata.name: plain(body)}


def changed(body: kopf.Body, **_: Any) -> None:
    reconcile_for(body)


def deleted(body: kopf.Body, **_: Any) -> None:
    reconcile_for(body, releasing=True)


def resync(body: kopf.Body, **_: Any) -> None:
    reconcile_for(body)


def publish_drift(check: drift_check.DriftCheck, snap: Any) -> None:
    drift_check.publish(check, snap.bodies, reconcile.now(), write_status, post_event)


def check_drift(logger: logging.Logger | logging.LoggerAdapter[Any], **_: Any) -> None:
    try:
        ENGINE.check_drift(live_objects, publish_drift)
    except LedgerError as exc:  # busy, or down: the next tick tries again
        logger.warning("drift check not run: %s", exc)


def admit(body: kopf.Body, operation: str, userinfo: dict[str, Any], **kwargs: Any) -> None:
    actor = admission.actor_of(userinfo, SETTINGS.trusted)
    # A reconciling process judges against its indices (fresh: it watches, and the chart
    # never serves the webhook from a peering standby, whose watches are paused).
    cluster = objects(kwargs) if SETTINGS.reconciles else live_objects()
    found = admission.denials(plain(body), operation, cluster, SETTINGS.day(), actor)
    if found:
        metrics.ADMISSION_DENIALS.labels(body.get("kind", "")).inc()
        raise kopf.AdmissionError(admission.message(found), code=422)


for _kind, _plural in PLURALS.items():
    if SETTINGS.serves_webhook:  # without a server kopf would stop on the handlers
        kopf.on.validate(
            GROUP, VERSION, _plural, id=f"admit-{_plural}", operations=["CREATE", "UPDATE"]
        )(admit)  # type: ignore[arg-type]
    if not SETTINGS.reconciles:
        continue
    kopf.index(GROUP, VERSION, _plural, id=f"idx_{_plural}")(index)
    kopf.on.resume(GROUP, VERSION, _plural, id="reconcile")(changed)
    kopf.on.create(GROUP, VERSION, _plural, id="reconcile")(changed)
    kopf.on.update(GROUP, VERSION, _plural, id="reconcile", field="spec")(changed)
    kopf.on.delete(GROUP, VERSION, _plural, id="release")(deleted)
    if _kind == "Site":
        kopf.timer(
            GROUP,
            VERSION,
            _plural,
            id="resync",
            interval=SETTINGS.resync_seconds,
            initial_delay=SETTINGS.resync_seconds,
        )(resync)
    if _kind == "Site" and SETTINGS.drift_seconds > 0:
        kopf.timer(
            GROUP,
            VERSION,
            _plural,
            id="drift",
            interval=SETTINGS.drift_seconds,
            initial_delay=SETTINGS.drift_seconds,
        )(check_drift)
