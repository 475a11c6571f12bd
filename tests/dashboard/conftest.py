"""A lived-in ledger for the dashboard, written by the real `apply` into a real SQLite ledger:
the example repo applied in October and November; Umbrella's decommission requested and
applied while Manchester's router cannot be configured (its site task fails); then, on
21 December, applied again with Manchester back (Umbrella is Decommissioned, its number
cooling off) but London Bridge's devices down, on the day after Wayne's scheduled
decommission — so the site shows first-Active dates, failed services and devices, a failed
site task and numbers in cooling-off."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from drivers.render import RenderDriver
from reconciler import edits
from reconciler.apply import ApplyResult, apply
from reconciler.ledger import open_ledger
from reconciler.load import load
from reconciler.model.repo import Ref
from reconciler.plan import Intent
from tests.dashboard.browser import browser, watched  # noqa: F401 - the browser fixtures
from tests.test_pr_workflow import desired  # noqa: F401 - `tenantry init`, committed, pushed

ROOT = Path(__file__).resolve().parent.parent.parent
FIRST, SECOND, DAY = date(2026, 10, 5), date(2026, 11, 23), date(2026, 12, 21)


@dataclass(frozen=True)
class LivedIn:
    repo: Path  # the desired-state folder (Umbrella's decommission requested)
    state: Path  # the SQLite ledger
    today: date
    failures: dict[str, str]  # device → why, of the last apply


def _apply(repo: Path, state: Path, day: date, rendered: Path, down: str = "") -> ApplyResult:
    """The real apply, with the render driver; devices whose name starts with `down` fail
    for real (their output path is under a file)."""
    ledger = open_ledger(str(state))
    assert ledger is not None
    blocked = rendered.parent / "not-a-directory"
    blocked.write_text("")
    good = RenderDriver(rendered)

    def driver_for(intent: Intent) -> RenderDriver:
        failing = down and intent.endpoint.name.startswith(down)
        return RenderDriver(blocked / "x") if failing else good

    return apply(load(str(repo)).repo, ledger, day, driver_for, lambda _: None)


@pytest.fixture(scope="session")
def lived_in(tmp_path_factory: pytest.TempPathFactory) -> LivedIn:
    base = tmp_path_factory.mktemp("lived-in")
    repo = base / "desired-state"
    shutil.copytree(ROOT / "desired-state", repo)
    state = base / "state.db"
    assert _apply(repo, state, FIRST, base / "rendered").ok
    assert _apply(repo, state, SECOND, base / "rendered").ok
    loaded = load(str(repo))
    source = loaded.repo.sources[Ref("Occupier", "umbrella")]
    edits.request_decommission(source, loaded.repo.occupiers["umbrella"].spec.display_name, None)
    assert not _apply(repo, state, SECOND, base / "rendered", down="mw-").ok
    last = _apply(repo, state, DAY, base / "rendered", down="lb-")
    assert last.failures and not last.ok
    return LivedIn(repo, state, DAY, dict(last.failures))
