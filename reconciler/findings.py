"""Findings: what validation reports, pointing at the exact line of the pull request."""

# Annotations are objects (no `from __future__ import annotations`): `reconciler.refs` says why.
from datetime import date
from enum import StrEnum
from typing import NamedTuple

from reconciler.refs import Source  # (not the models: they are not needed to report a finding)

Path = tuple[str | int, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Finding(NamedTuple):
    """One problem. `source` + `path` say where; `locate` turns them into file:line:col.
    (A NamedTuple: defined in a seventh of the time a frozen dataclass takes, which every
    command's start-up pays.)"""

    rule: str
    severity: Severity
    message: str
    source: Source | None = None
    path: Path = ()
    hint: str = ""
    file: str = ""
    line: int = 0
    column: int = 0
    # The future date of the timeline on which this finding first holds (S10); None: today.
    on: date | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def at(self, file: str, line: int, column: int) -> "Finding":
        # every field, in order: half the time `_replace` takes, once per finding located
        return Finding(
            self.rule, self.severity, self.message, self.source, self.path, self.hint,
            file, line, column, self.on,
        )  # fmt: skip

    def dated(self, day: date) -> "Finding":
        return self._replace(on=day)

    @property
    def when(self) -> str:
        """The date suffix of a finding of a later date of the timeline (" on 2027-01-01")."""
        return f" on {self.on.isoformat()}" if self.on is not None else ""

    @property
    def dated_message(self) -> str:
        """The message as machines get it: prefixed with its date when it has one."""
        return f"on {self.on.isoformat()}: {self.message}" if self.on is not None else self.message

    def text(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: " if self.file else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}{self.severity}[{self.rule}]{self.when}: {self.message}{hint}"


def error(rule: str, source: Source | None, path: Path, message: str, hint: str = "") -> Finding:
    return Finding(rule, Severity.ERROR, message, source, path, hint)


def warning(rule: str, source: Source | None, path: Path, message: str, hint: str = "") -> Finding:
    return Finding(rule, Severity.WARNING, message, source, path, hint)


def sort_key(f: Finding) -> tuple[str, int, int, str, str, str]:
    return (f.file, f.line, f.column, f.rule, f.on.isoformat() if f.on else "", f.message)
