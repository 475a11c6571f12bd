"""The application layer both shells use: one App opens the ledger, the drivers and the
credentials; the CLI's apply and report and the operator go through it."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.app import App
from reconciler.cli import main
from reconciler.load import load
from reconciler.plan import pools as plan_pools

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "desired-state"
    shutil.copytree(ROOT / "desired-state", target)
    return target


def test_apply_through_the_app_renders_and_records_then_plans_nothing(
    repo: Path, tmp_path: Path
) -> None:
    app = App(str(tmp_path / "state.db"), "render", str(tmp_path / "out"))
    loaded = load(str(repo))
    result = app.apply(loaded.repo, TODAY)
    assert result.ok and result.commands > 0
    written = {p.name.split(".")[0] for p in (tmp_path / "out").iterdir()}
    assert written == set(result.transcripts), "one file per device configured"
    again, changes, holdings = app.plan(loaded, app.context(TODAY, None))
    assert not again.changes and not changes and holdings.by_key
    assert app.apply(loaded.repo, TODAY).commands == 0


def test_plan_and_report_never_create_a_ledger(repo: Path, tmp_path: Path) -> None:
    app = App(str(tmp_path / "none.db"))
    loaded = load(str(repo))
    planned, _, holdings = app.plan(loaded, app.context(TODAY, None))
    assert planned.allocations and not holdings.by_key
    assert app.pools(loaded.repo) and app.recorded("Service") == {}
    assert not (tmp_path / "none.db").exists()


def test_report_pools_flags_from_the_pool_warning_constant(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = str(tmp_path / "state.db")
    args = ["--today", "2026-11-23", "--state", state]
    runner = CliRunner()
    runner.invoke(main, ["apply", str(repo), *args, "--out", str(tmp_path / "r")])

    def pools() -> list[dict[str, object]]:
        result = runner.invoke(main, ["report", "pools", str(repo), *args, "--format", "json"])
        rows: list[dict[str, object]] = json.loads(result.output)
        return rows

    assert not any(r["warning"] for r in pools())
    used = [r for r in pools() if r["used"]]
    lowest = min(float(str(r["percent"])) for r in used) / 100
    monkeypatch.setattr(plan_pools, "POOL_WARNING", lowest)
    flagged = [r for r in pools() if r["warning"]]
    assert flagged and all(float(str(r["percent"])) / 100 >= lowest for r in flagged)
