"""Operator settings, from the environment (the Helm chart sets them from its values)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Settings:
    """The operator's settings (TENANTRY_* environment variables)."""

    ledger: str = ".tenantry/state.db"  # a SQLite file, or postgresql://… for several replicas
    drivers: str = "render"  # render | devices
    render_dir: str = "rendered"
    today: date | None = None  # fixed date (tests); None: the real date, read per reconcile
    parallel: int = 4
    resync_seconds: float = 300.0  # the timer: reconcile even when nothing changed
    trusted: tuple[str, ...] = ()  # users exempt from P1 (the GitOps agent; CI checked P1)
    webhook_port: int = 0  # 0: no admission server
    webhook_host: str = "127.0.0.1"  # the name the apiserver calls (managed config only)
    webhook_addr: str = "0.0.0.0"
    webhook_tls_dir: str = ""  # tls.crt/tls.key (Helm Secret) or cert.pem/key.pem
    webhook_managed: str = ""  # name of a ValidatingWebhookConfiguration kopf keeps itself
    metrics_port: int = 0  # 0: no Prometheus endpoint
    # all: reconcile and serve the webhook; reconciler: no webhook; webhook: only the webhook
    # (stateless: no ledger, so the chart runs it as its own Deployment of several replicas)
    role: str = "all"
    peering_lifetime: int = 60  # seconds a silent replica counts as alive (kopf peering)
    apply_wait_s: float = 60.0  # waiting for another apply of the ledger; then retry (busy)
    drift_seconds: float = 300.0  # the drift check's timer (issue 15); 0: no drift check
    # repair drift: the check puts the last apply's intent back, and every reconcile converges
    # every device; off, a change made by hand stays (reported as Drifted) until repaired
    repair_drift: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = dict(os.environ if env is None else env)

        def get(name: str, default: str) -> str:
            value = e.get(f"TENANTRY_{name}", "")
            return value if value != "" else default

        today = get("TODAY", "")
        return cls(
            ledger=get("LEDGER", cls.ledger),
            drivers=get("DRIVERS", cls.drivers),
            render_dir=get("RENDER_DIR", cls.render_dir),
            today=date.fromisoformat(today) if today else None,
            parallel=int(get("PARALLEL", str(cls.parallel))),
            resync_seconds=float(get("RESYNC_SECONDS", str(cls.resync_seconds))),
            trusted=tuple(u.strip() for u in get("WEBHOOK_TRUSTED", "").split(",") if u.strip()),
            webhook_port=int(get("WEBHOOK_PORT", "0")),
            webhook_host=get("WEBHOOK_HOST", cls.webhook_host),
            webhook_addr=get("WEBHOOK_ADDR", cls.webhook_addr),
            webhook_tls_dir=get("WEBHOOK_TLS_DIR", ""),
            webhook_managed=get("WEBHOOK_MANAGED", ""),
            metrics_port=int(get("METRICS_PORT", "0")),
            role=get("ROLE", cls.role),
            peering_lifetime=int(get("PEERING_LIFETIME", str(cls.peering_lifetime))),
            apply_wait_s=float(get("APPLY_WAIT", str(cls.apply_wait_s))),
            drift_seconds=float(get("DRIFT_SECONDS", str(cls.drift_seconds))),
            repair_drift=get("REPAIR_DRIFT", "false").strip().lower() in ("1", "true", "yes"),
        )

    @property
    def reconciles(self) -> bool:
        return self.role != "webhook"

    @property
    def serves_webhook(self) -> bool:
        return bool(self.webhook_port) and self.role != "reconciler"

    def day(self) -> date:
        return self.today or date.today()
