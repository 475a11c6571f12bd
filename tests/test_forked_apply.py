"""The CLI's apply uses the machine's second core on a large repo: a forked child converges
about half of the render devices, and another computes the billing history's new rows while
the statuses are written. What the apply leaves — the rendered files, the ledger's
allocations, statuses, billing history, applied items and device intents — is the same as
doing it all in one process, also when a child dies midway."""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from drivers.render import RenderDriver
from reconciler import apply as executor
from reconciler import forked as forked_work
from reconciler.app import App
from reconciler.billing import recording
from reconciler.ledger import LedgerError
from reconciler.load import load

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402

TODAY = date(2026, 11, 23)

# what each table keeps, without the times of writing
TABLES = {
    "allocation": "site, kind, value, holder, state, role, until",
    "status": "kind, name, status, reason",
    "billing_event": "*",
    "applied": "*",
    "device_intent": "device, site, intent",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("forked-apply") / "repo"
    generate(root, sites=6, occupiers=120)
    return root


@pytest.fixture(autouse=True)
def fork_small_repos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor, "FORK_DEVICES_FROM", 8)
    monkeypatch.setattr(executor, "FORK_BILLING_FROM", 10)


def applied(repo: Path, work: Path, fork: bool) -> tuple[dict[str, Any], executor.ApplyResult]:
    """Apply from an empty ledger; what it left behind, and its result."""
    app = App(str(work / "state.db"), "render", str(work / "out"))
    result = app.apply(load(str(repo)).repo, TODAY, fork=fork)
    db = sqlite3.connect(work / "state.db")
    left: dict[str, Any] = {
        table: sorted(db.execute(f"SELECT {columns} FROM {table}").fetchall())
        for table, columns in TABLES.items()
    }
    db.close()
    left["files"] = {p.name: p.read_text() for p in sorted((work / "out").iterdir())}
    return left, result


def commands(result: executor.ApplyResult) -> dict[str, list[str]]:
    return {name: t.commands for name, t in result.transcripts.items()}


def test_a_forked_apply_leaves_what_one_process_leaves(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    children: list[object] = []
    from_child = forked_work.from_child

    def counted(work: Any) -> Any:
        children.append(work)
        return from_child(work)

    monkeypatch.setattr(forked_work, "from_child", counted)
    alone, alone_result = applied(repo, tmp_path / "alone", fork=False)
    assert not children
    forked, forked_result = applied(repo, tmp_path / "forked", fork=True)
    assert len(children) == 2, "one child converged devices, one computed the billing rows"
    assert forked_result.ok and alone_result.ok
    assert len(alone["files"]) >= 2 * executor.FORK_DEVICES_FROM, "both processes converged"
    assert alone["billing_event"], "the billing history was recorded"
    assert forked == alone
    assert commands(forked_result) == commands(alone_result)


def test_devices_the_converging_child_never_reported_converge_here(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child dies (killed, out of memory) after its first device: the apply still
    converges every device, each once in the result, and records them all."""
    parent = os.getpid()
    converged_in_child: list[str] = []
    apply_device = RenderDriver.apply

    def dying(self: RenderDriver, intent: Any, *args: Any) -> Any:
        if os.getpid() != parent:
            if converged_in_child:
                os._exit(1)
            converged_in_child.append(intent.endpoint.name)
        return apply_device(self, intent, *args)

    monkeypatch.setattr(RenderDriver, "apply", dying)
    alone, alone_result = applied(repo, tmp_path / "alone", fork=False)
    forked, forked_result = applied(repo, tmp_path / "forked", fork=True)
    assert forked_result.ok
    assert forked == alone
    assert sorted(forked_result.transcripts) == sorted(alone_result.transcripts)


def test_billing_rows_are_computed_here_when_their_child_dies(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    recordings = recording.recordings

    def dying(*args: Any) -> Any:
        if os.getpid() != parent:
            os._exit(1)
        return recordings(*args)

    monkeypatch.setattr(recording, "recordings", dying)
    alone, _ = applied(repo, tmp_path / "alone", fork=False)
    forked, _ = applied(repo, tmp_path / "forked", fork=True)
    assert forked["billing_event"] == alone["billing_event"] != []


def test_an_apply_stopped_by_a_ledger_fault_leaves_no_child_converging(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger fails while devices converge: the error reaches the caller, and the child
    converging the other half is stopped and reaped, not left writing files."""

    def failing(self: Any) -> None:
        raise LedgerError("ledger state.db: disk I/O error")

    monkeypatch.setattr(executor, "FLUSH_S", 0.0)  # the first converged device is recorded
    monkeypatch.setattr(executor._DeviceRecords, "flush", failing)
    children = forks(monkeypatch)
    app = App(str(tmp_path / "state.db"), "render", str(tmp_path / "out"))
    with pytest.raises(LedgerError, match="disk I/O error"):
        app.apply(load(str(repo)).repo, TODAY, fork=True)
    assert_reaped(children, 1)


def test_a_ledger_fault_while_the_statuses_are_written_leaves_no_billing_child(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: Any) -> None:
        raise LedgerError("ledger state.db: database or disk is full")

    monkeypatch.setattr(executor, "_record_contracts", failing)
    children = forks(monkeypatch)
    app = App(str(tmp_path / "state.db"), "render", str(tmp_path / "out"))
    with pytest.raises(LedgerError, match="disk is full"):
        app.apply(load(str(repo)).repo, TODAY, fork=True)
    assert_reaped(children, 2)  # the converging child, then the billing child


def forks(monkeypatch: pytest.MonkeyPatch) -> list[forked_work.Stream[Any]]:
    """The children the apply forks, as they are forked."""
    children: list[forked_work.Stream[Any]] = []
    from_child = forked_work.from_child

    def kept(work: Any) -> Any:
        children.append(from_child(work))
        return children[-1]

    monkeypatch.setattr(forked_work, "from_child", kept)
    return children


def assert_reaped(children: list[forked_work.Stream[Any]], count: int) -> None:
    """Each child is gone: not running, not left unreaped (waiting for it finds no child)."""
    assert len(children) == count
    for child in children:
        with pytest.raises(ChildProcessError):
            os.waitpid(child.pid, os.WNOHANG)
