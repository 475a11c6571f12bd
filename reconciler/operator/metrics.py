"""Prometheus series of the operator: reconcile durations, failures, pool utilization."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram, start_http_server

if TYPE_CHECKING:
    from reconciler.operator.drift import DriftCheck
    from reconciler.operator.reconcile import Outcome

RECONCILE_SECONDS = Histogram(
    "tenantry_reconcile_duration_seconds",
    "Time of one reconciliation of the whole desired state (rules, plan, apply, statuses).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
RECONCILE_FAILURES = Counter(
    "tenantry_reconcile_failures_total",
    "Reconciliations that did not apply cleanly, by reason.",
    ["reason"],  # invalid | ledger | device | blocked
)
RECONCILES = Counter("tenantry_reconciles_total", "Reconciliations run.")
POOL_USED = Gauge("tenantry_pool_used", "Values held in a site's pool.", ["site", "pool"])
POOL_SIZE = Gauge("tenantry_pool_size", "Values a site's pool can give.", ["site", "pool"])
POOL_UTILIZATION = Gauge(
    "tenantry_pool_utilization_ratio", "Used / size of a site's pool (0..1).", ["site", "pool"]
)
ADMISSION_DENIALS = Counter(
    "tenantry_admission_denied_total", "Objects the admission webhook refused, by kind.", ["kind"]
)

DRIFT_RESOURCES = Gauge(
    "tenantry_drift_resources",
    "Managed resources a device runs otherwise than the last apply left them (drift check).",
    ["site", "device"],
)
DRIFT_UNREADABLE = Gauge(
    "tenantry_drift_unreadable", "1 while the drift check cannot read the device.",
    ["site", "device"],
)
DRIFT_REPAIRS = Counter(
    "tenantry_drift_repairs_total", "Drifted resources the drift check repaired.",
    ["site", "device"],
)
DRIFT_SECONDS = Histogram(
    "tenantry_drift_check_duration_seconds",
    "Time of one drift check (every device read once, and the repairs).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


def observe_drift(check: DriftCheck, final: bool = False) -> None:
    """The drift per device as it is now (after the repairs: `final`)."""
    sites: dict[str, str] = {}
    for device in check.report.devices:
        sites[device.device] = device.site
        DRIFT_RESOURCES.labels(device.site, device.device).set(len(check.left(device)))
        DRIFT_UNREADABLE.labels(device.site, device.device).set(1 if device.error else 0)
    if final:
        for name, *_ in check.repaired:
            DRIFT_REPAIRS.labels(sites.get(name, ""), name).inc()
        DRIFT_SECONDS.observe(check.seconds)


def observe(outcome: Outcome) -> None:
    RECONCILES.inc()
    RECONCILE_SECONDS.observe(outcome.seconds)
    if outcome.invalid:
        RECONCILE_FAILURES.labels("invalid").inc()
    elif outcome.unplaced:
        RECONCILE_FAILURES.labels("blocked").inc()
    if outcome.failed_sites:
        RECONCILE_FAILURES.labels("device").inc()
    elif outcome.temporary:
        RECONCILE_FAILURES.labels("ledger").inc()
    for use in outcome.pools:
        POOL_USED.labels(use.site, use.pool).set(use.used)
        POOL_SIZE.labels(use.site, use.pool).set(use.size)
        POOL_UTILIZATION.labels(use.site, use.pool).set(use.ratio)


def serve(port: int, addr: str = "0.0.0.0") -> None:
    """Serve /metrics on `port` from a daemon thread."""
    start_http_server(port, addr=addr)
