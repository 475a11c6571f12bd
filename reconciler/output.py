"""Findings for people and machines: human, json, junit, sarif, github annotations."""

from __future__ import annotations

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
        "on": f.on.isoformat() if f.on is not None else None,
    }


def _json(findings: Sequence[Finding], checked: int) -> str:
    import json  # (in each writer: the human format, the usual one, needs none)

    return json.dumps({"documents": checked, "findings": [_as_dict(f) for f in findings]}, indent=2)


def _junit(findings: Sequence[Finding], checked: int) -> str:
    """JUnit as the Jenkins junit-10 XSD defines it: errors are failures, warnings skipped
    test cases with the text in system-out (GitLab lists both)."""
    from xml.sax.saxutils import escape, quoteattr

    cases = []
    for f in findings:
        name = quoteattr(f"{f.file}:{f.line} [{f.rule}]")
        tag = "failure" if f.is_error else "skipped"
        cases.append(
            f'    <testcase classname="tenantry.{f.rule}" name={name}>\n'
            f'      <{tag} type="{f.severity}" message={quoteattr(f.dated_message)}>'
            f"{escape(f.text())}</{tag}>\n"
            f"      <system-out>{escape(f.text())}</system-out>\n"
            "    </testcase>"
        )
    if not findings:
        cases.append('    <testcase classname="tenantry" name="validate"/>')
    errors = sum(f.is_error for f in findings)
    totals = f'tests="{max(len(findings), 1)}" failures="{errors}" errors="0"'
    skipped = f'skipped="{len(findings) - errors}"'
    body = "\n".join(cases)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="tenantry" {totals}>\n'
        f'  <testsuite name="tenantry validate" {totals} {skipped}>\n{body}\n  </testsuite>\n'
        "</testsuites>"
    )


def _uri(file: str) -> str:
    """A finding's file as a SARIF artifact URI: relative to the working directory (the
    repository root in CI), forward slashes, percent-encoded."""
    from urllib.parse import quote

    relative = os.path.relpath(file) if os.path.isabs(file) else os.path.normpath(file)
    return quote(relative.replace(os.sep, "/"), safe="/")


def _sarif(findings: Sequence[Finding], checked: int) -> str:
    from pathlib import Path

    from reconciler.rules.texts import RULE_TEXT, rule_name, rule_text

    ids = list(dict.fromkeys([*RULE_TEXT, *sorted({f.rule for f in findings})]))
    homepage = _homepage()
    index = {rule: i for i, rule in enumerate(ids)}
    rules = [
        {
            "id": rule,
            "name": rule_name(rule),
            "shortDescription": {"text": rule_text(rule)},
            "fullDescription": {"text": rule_text(rule)},
            "help": {"text": rule_text(rule), "markdown": f"**{rule}**: {rule_text(rule)}"},
            "helpUri": f"{homepage}#rules",
        }
        for rule in ids
    ]
    results = []
    for f in findings:
        result: dict[str, object] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": "error" if f.is_error else "warning",
            "message": {"text": f.dated_message + (f" (hint: {f.hint})" if f.hint else "")},
        }
        if f.on is not None:  # a later date of the timeline (S10)
            result["properties"] = {"on": f.on.isoformat()}
        if f.file:
            region = {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)}
            location = {"uri": _uri(f.file), "uriBaseId": "%SRCROOT%"}
            result["locations"] = [
                {"physicalLocation": {"artifactLocation": location, "region": region}}
            ]
        results.append(result)
    root = Path.cwd().as_uri() + "/"
    doc = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tenantry",
                        "version": _version(),
                        "semanticVersion": _version(),
                        "informationUri": homepage,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root}},
                "results": results,
            }
        ],
    }
    import json

    return json.dumps(doc, indent=2, ensure_ascii=False)


HOMEPAGE = "https://tenantry.dev"  # pyproject.toml's [project.urls] Homepage, when not installed


def _homepage() -> str:
    """The project's Homepage as its package metadata has it ([project.urls] in
    pyproject.toml): where a code-scanning user who clicks the tool's name lands."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls: list[str] = metadata("tenantry").get_all("Project-URL") or []
    except PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "homepage" and url.strip():
            return url.strip()
    return HOMEPAGE


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tenantry")
    except PackageNotFoundError:
        return "0.0.0"


def _escape_data(value: str) -> str:
    """A workflow command's message, escaped as @actions/core escapes it."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    """A workflow command's property value, escaped as @actions/core escapes it."""
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _github(findings: Sequence[Finding], checked: int) -> str:
    """Workflow commands `::error title=…,file=…,line=…,col=…::message`, properties in the
    order and with the escaping of @actions/core; the file relative to the working
    directory (the workspace)."""
    lines = []
    for f in findings:
        level = "error" if f.is_error else "warning"
        props = [("title", f"tenantry {f.rule}")]
        if f.file:
            file = os.path.relpath(f.file) if os.path.isabs(f.file) else os.path.normpath(f.file)
            props += [("file", file), ("line", str(f.line)), ("col", str(f.column))]
        text = ",".join(f"{key}={_escape_property(value)}" for key, value in props)
        message = f.dated_message + (f" (hint: {f.hint})" if f.hint else "")
        lines.append(f"::{level} {text}::{_escape_data(message)}")
    return "\n".join(lines)


def table(rows: Sequence[Mapping[str, object]], fmt: str) -> str:
    """Report rows as an aligned text table, JSON or CSV."""
    if fmt == "json":
        import json

        return json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows], indent=2)
    if not rows:
        return "" if fmt == "csv" else "(nothing to report)"
    headers = list(rows[0])
    if fmt == "csv":
        import csv
        import io

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
