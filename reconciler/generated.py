"""Files generated from the models and checked in (JSON Schemas, CRDs): write the ones that
changed, or list the stale ones so CI fails until someone regenerates them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def write(directory: Path, files: Mapping[str, str]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = directory / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


def stale(directory: Path, files: Mapping[str, str]) -> list[str]:
    return [
        name
        for name, text in files.items()
        if not (directory / name).exists() or (directory / name).read_text() != text
    ]
