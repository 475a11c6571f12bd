"""`tenantry init`: a new desired-state repo that passes `tenantry validate` at once, with the
JSON Schemas for editors, CI for GitHub and GitLab, and a pre-commit configuration."""

from __future__ import annotations

from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from reconciler import schemas

# template name → name in the new repo (package data cannot hold dot-files portably)
RENAMES = {
    "gitignore": ".gitignore",
    "gitlab-ci.yml": ".gitlab-ci.yml",
    "pre-commit-config.yaml": ".pre-commit-config.yaml",
    "github": ".github",
    "gitlab": ".gitlab",
}


class InitError(Exception):
    pass


def _version() -> str:
    try:
        return version("tenantry")
    except PackageNotFoundError:
        return "0.1.0"


def init(target: Path, force: bool = False) -> list[Path]:
    """Write the scaffold into `target` (created; must be empty unless `force`)."""
    if target.exists() and not target.is_dir():
        raise InitError(f"{target} is not a directory")
    if target.exists() and any(p.name != ".git" for p in target.iterdir()) and not force:
        raise InitError(f"{target} is not empty (use --force to write into it anyway)")
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    source = resources.files("reconciler").joinpath("templates", "init")
    for item, relative in _walk(source, ()):
        parts = [RENAMES.get(p, p) for p in relative]
        path = target.joinpath(*parts)
        if path.exists() and not force:
            raise InitError(f"{path} exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(item.read_text(encoding="utf-8").replace("@TENANTRY_VERSION@", _version()))
        written.append(path)
    written += schemas.write(target / "schemas")
    return sorted(written)


def _walk(node: resources.abc.Traversable, prefix: tuple[str, ...]):  # type: ignore[no-untyped-def]
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            yield from _walk(child, (*prefix, child.name))
        else:
            yield child, (*prefix, child.name)
