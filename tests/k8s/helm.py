"""`helm lint` and `helm template` through helm-python-sdk (Helm as a library; no helm CLI).

    python -m tests.k8s.helm RELEASE CHART [-n NAMESPACE] [--include-crds] [--set k=v ...]
prints the rendered manifests like `helm template`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

CHART = Path(__file__).parents[2] / "charts" / "tenantry"


def deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def lint(chart: Path = CHART, values: dict[str, Any] | None = None) -> dict[str, Any]:
    import helm_python

    return helm_python.lint(str(chart), values, strict=True)  # type: ignore[no-any-return]


def template(
    release: str = "tenantry",
    chart: Path = CHART,
    namespace: str = "tenantry",
    values: dict[str, Any] | None = None,
    include_crds: bool = False,
) -> str:
    from helm_python.chart import Chart

    docs = []
    with Chart.load(str(chart)) as loaded:
        if include_crds:
            for crd in loaded.crds:
                docs.append(f"# Source: {crd['filename']}\n{crd['data'].strip()}\n")
        rendered = loaded.render(values or None, name=release, namespace=namespace, is_install=True)
        for path in sorted(rendered):
            text = rendered[path].strip()
            if not text or path.endswith(".txt") or path.split("/")[-1].startswith("_"):
                continue
            docs.append(f"# Source: {path}\n{text}\n")
    return "".join(f"---\n{d}" for d in docs)


def notes(
    release: str = "tenantry", namespace: str = "tenantry", values: dict[str, Any] | None = None
) -> str:
    """The rendered NOTES.txt, as `helm install` prints it."""
    from helm_python.chart import Chart

    with Chart.load(str(CHART)) as loaded:
        rendered = loaded.render(values or None, name=release, namespace=namespace, is_install=True)
    return next(text for path, text in rendered.items() if path.endswith("NOTES.txt"))


def main() -> int:
    import helm_python

    parser = argparse.ArgumentParser()
    parser.add_argument("release")
    parser.add_argument("chart", type=Path)
    parser.add_argument("-n", "--namespace", default="default")
    parser.add_argument("--include-crds", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    values: dict[str, Any] = {}
    for expr in args.set:
        values = deep_merge(values, helm_python.parse_set_string(expr))
    sys.stdout.write(template(args.release, args.chart, args.namespace, values, args.include_crds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
