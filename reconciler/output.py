"""Findings for people and machines: human, json, junit, sarif, github annotations."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `tenantry --version` and --help import this module: keep it light
    from reconciler.findings import Finding

FORMATS = ("human", "json", "junit", "sarif", "github")


def render(findings: Sequence[Finding], fmt: str, checked: int = 0) -> str:
    return {
        "human": _human,
        "json": _json,
        "junit": _junit,
        "sarif": _sarif,
        "github": _github,
    }[fmt](findings, checked)


def _human(findings: Sequence[Finding], checked: int) -> str:
    lines = [f.text() for f in findings]
    errors = sum(f.is_error for f in findings)
    warnings = len(findings) - errors
    lines.append(f"{checked} documents checked: {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)


def _as_dict(f: Finding) -> dict[str, object]:
    return {
        "rule": f.rule,
        "severity": str(f.severity),
        "file": f.file,
        "line": f.line,
        "column": f.column,
        "path": ".".join(str(p) for p in f.path),
        "message": f.message,
        "hint": f.hint,
    }


def _json(findings: Sequence[Finding], checked: int) -> str:
    return json.dumps({"documents": checked, "findings": [_as_dict(f) for f in findings]}, indent=2)


def _junit(findings: Sequence[Finding], checked: int) -> str:
    from xml.sax.saxutils import escape, quoteattr

    errors = [f for f in findings if f.is_error]
    cases = []
    for f in errors:
        name = quoteattr(f"{f.file}:{f.line} [{f.rule}]")
        cases.append(
            f'    <testcase classname="tenantry.{f.rule}" name={name}>\n'
            f"      <failure message={quoteattr(f.message)}>{escape(f.text())}</failure>\n"
            "    </testcase>"
        )
    if not errors:
        cases.append('    <testcase classname="tenantry" name="validate"/>')
    body = "\n".join(cases)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites><testsuite name="tenantry validate" tests="{max(len(errors), 1)}" '
        f'failures="{len(errors)}">\n{body}\n</testsuite></testsuites>'
    )


def _sarif(findings: Sequence[Finding], checked: int) -> str:
    rules = sorted({f.rule for f in findings})
    doc = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tenantry",
                        "rules": [
                            {"id": r, "shortDescription": {"text": _describe(r)}} for r in rules
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": f.rule,
                        "level": "error" if f.is_error else "warning",
                        "message": {"text": f.message + (f" (hint: {f.hint})" if f.hint else "")},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": f.file},
                                    "region": {
                                        "startLine": max(f.line, 1),
                                        "startColumn": max(f.column, 1),
                                    },
                                }
                            }
                        ],
                    }
                    for f in findings
                ],
            }
        ],
    }
    return json.dumps(doc, indent=2)


def _describe(rule: str) -> str:
    from reconciler.rules import RULES  # loaded already: the rules ran before any report

    fn = RULES.get(rule)
    doc = (fn.__doc__ or "").strip().splitlines() if fn else []
    return doc[0] if doc else rule


def _github(findings: Sequence[Finding], checked: int) -> str:
    def esc(value: str) -> str:
        return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    lines = []
    for f in findings:
        level = "error" if f.is_error else "warning"
        file = os.path.normpath(f.file) if f.file else ""  # "./a.yaml" → "a.yaml"
        props = f"file={esc(file)},line={f.line},col={f.column},title=tenantry {f.rule}"
        message = f.message + (f" (hint: {f.hint})" if f.hint else "")
        lines.append(f"::{level} {props}::{esc(message)}")
    return "\n".join(lines)


def table(rows: Sequence[Mapping[str, object]], fmt: str) -> str:
    """Report rows as an aligned text table, JSON or CSV."""
    if fmt == "json":
        return json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows], indent=2)
    if not rows:
        return "" if fmt == "csv" else "(nothing to report)"
    headers = list(rows[0])
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows([[_plain(r[h]) for h in headers] for r in rows])
        return buffer.getvalue().rstrip("\n")
    cells = [[str(_plain(r[h])) for h in headers] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
