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
- one in-memory index per kind: the cluster's objects, for the reconciler and the webhook;
- a validating admission webhook per kind (ids `admit-<plural>`, served at `/admit-<plural>`).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import kopf
import kubernetes

from reconciler.crds import GROUP, NAMES, VERSION
from reconciler.model.repo import Ref
from reconciler.operator import admission, engine, metrics, reconcile
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
    settings.posting.level = logging.WARNING  # our own events say what changed; not every log
    if SETTINGS.webhook_port:
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


def reconcile_for(body: Body, indices: dict[str, Any], releasing: bool = False) -> None:
    outcome = ENGINE.reconcile(lambda: objects(indices))
    reconcile.publish(outcome, write_status, post_event)
    verdict = outcome.verdict(ref_of(body))
    if releasing and outcome.blocked:  # nothing was applied, so nothing was released
        verdict = reconcile.Verdict(retry=True, message=outcome.blocked_message(), delay=30)
    if verdict.permanent:
        raise kopf.PermanentError(verdict.message)
    if verdict.retry:
        raise kopf.TemporaryError(verdict.message, delay=verdict.delay)


def index(body: kopf.Body, **_: Any) -> dict[str, Any]:
    return {body.metadata.name: plain(body)}


def changed(body: kopf.Body, **kwargs: Any) -> None:
    reconcile_for(body, kwargs)


def deleted(body: kopf.Body, **kwargs: Any) -> None:
    reconcile_for(body, kwargs, releasing=True)


def resync(body: kopf.Body, **kwargs: Any) -> None:
    reconcile_for(body, kwargs)


def admit(body: kopf.Body, operation: str, userinfo: dict[str, Any], **kwargs: Any) -> None:
    actor = admission.actor_of(userinfo, SETTINGS.trusted)
    found = admission.denials(plain(body), operation, objects(kwargs), SETTINGS.day(), actor)
    if found:
        metrics.ADMISSION_DENIALS.labels(body.get("kind", "")).inc()
        raise kopf.AdmissionError(admission.message(found), code=422)


for _kind, _plural in PLURALS.items():
    kopf.index(GROUP, VERSION, _plural, id=f"idx_{_plural}")(index)
    kopf.on.resume(GROUP, VERSION, _plural, id="reconcile")(changed)
    kopf.on.create(GROUP, VERSION, _plural, id="reconcile")(changed)
    kopf.on.update(GROUP, VERSION, _plural, id="reconcile", field="spec")(changed)
    kopf.on.delete(GROUP, VERSION, _plural, id="release")(deleted)
    kopf.on.validate(
        GROUP, VERSION, _plural, id=f"admit-{_plural}", operations=["CREATE", "UPDATE"]
    )(admit)  # type: ignore[arg-type]
    if _kind == "Site":
        kopf.timer(
            GROUP,
            VERSION,
            _plural,
            id="resync",
            interval=SETTINGS.resync_seconds,
            initial_delay=SETTINGS.resync_seconds,
        )(resync)
