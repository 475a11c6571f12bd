"""The optional extras (pyproject.toml) and the one line that names a missing one, instead of
a ModuleNotFoundError traceback."""

from __future__ import annotations

# top-level module → the extra that installs it
EXTRAS = {
    "kopf": "operator",
    "kubernetes": "operator",
    "prometheus_client": "operator",
    "psycopg": "postgres",
    "scrapli": "devices",
}


def missing_extra(exc: ModuleNotFoundError, what: str) -> str | None:
    """One line for a module of an extra that is not installed; None for any other module."""
    module = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(module)
    if extra is None:
        return None
    return f"{what} needs the [{extra}] extra: pip install 'tenantry[{extra}]' (no module {module})"
