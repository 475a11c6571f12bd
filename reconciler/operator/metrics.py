"""Prometheus series of the operator: reconcile durations, failures, pool utilization."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram, start_http_server

if TYPE_CHECKING:
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
