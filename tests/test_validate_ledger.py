"""`validate --state LEDGER` reports what only the ledger knows, at the document's line, so
the pre-commit hook and CI see it before `plan` does (issue 13); X counts the numbers the first
voice service activated automatically (seed 000: X is "the number of phone numbers that are
currently activated")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from reconciler.cli import main
from tests.rules.conftest import CATALOGUE, SITE, contract, definition, occupier, service, site

TODAY = "2026-11-23"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def write(root: Path, name: str, *docs: dict[str, Any]) -> Path:
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def base(root: Path, **site_spec: Any) -> None:
    write(root, "site", site(**site_spec) if site_spec else SITE)
    write(root, "catalogue", *CATALOGUE)


def folder(tmp_path: Path, **site_spec: Any) -> Path:
    """An empty desired-state repo with the site and the catalogue."""
    root = tmp_path / "repo"
    root.mkdir()
    base(root, **site_spec)
    return root


def seed_example(root: Path, who: str = "acme") -> Path:
    """Seed 000's example: Internet (LAN) and one Public IP."""
    return write(
        root,
        who,
        occupier(who),
        contract(f"{who}-lb", who, spaces=["suite-301" if who == "acme" else "suite-302"]),
        service(f"{who}-net", "internet-lan-100", who),
        service(f"{who}-ip", "public-ip", who),
    )


def apply(root: Path, state: Path, today: str = TODAY, *extra: str) -> str:
    code, out = run(
        "apply",
        str(root),
        "--today",
        today,
        "--state",
        str(state),
        "--out",
        str(root.parent / "rendered"),
        *extra,
    )
    assert code == 0, out
    return out


def test_s7_removing_the_voice_line_of_automatically_activated_numbers_is_refused(
    tmp_path: Path,
) -> None:
    root = folder(tmp_path)
    state = tmp_path / "state.db"
    write(root, "acme", occupier(), contract())
    voice = write(root, "voice", service("acme-voice", "voice-line"))
    apply(root, state)  # T1: the first voice service activates +442079460000
    code, report = run("report", str(root), "--today", TODAY, "--state", str(state))
    assert "telephony 1/1" in report
    voice.unlink()
    code, out = run("validate", str(root), "--today", TODAY, "--state", str(state))
    assert code == 1, out
    assert (
        f"{root}/acme.yaml:4:9: error[S7]: telephony 1/0 for acme at london-bridge: 1 in "
        "use but the services allocate 0; +442079460000 activated automatically by the first "
        "voice service (T1)" in out
    )


def test_t2_a_number_in_cooling_off_is_reported_by_validate_at_its_activation(
    tmp_path: Path,
) -> None:
    root = folder(tmp_path)
    state = tmp_path / "state.db"
    number = {"site": "london-bridge", "number": "+442079460001"}
    acme = write(
        root,
        "acme",
        occupier(activations={"numbers": [number]}),
        contract(),
        service("acme-voice", "voice-line"),
    )
    apply(root, state)
    acme.write_text(yaml.safe_dump_all([occupier(), contract()], sort_keys=False))
    # the number goes to cooling-off for 90 days (acme gives up all it holds: G1 asks to confirm)
    apply(root, state, TODAY, "--allow-mass-release")
    write(
        root,
        "globex",
        occupier("globex", activations={"numbers": [number]}),
        contract("globex-lb", "globex", spaces=["suite-302"]),
        service("globex-voice", "voice-line", "globex"),
    )
    code, out = run("validate", str(root), "--today", TODAY, "--state", str(state))
    assert code == 1, out
    line = (root / "globex.yaml").read_text().splitlines().index("    - site: london-bridge") + 2
    assert (
        f"{root}/globex.yaml:{line}:15: error[T2]: +442079460001 cannot be activated for "
        "globex: it is in cooling-off until 2027-02-21" in out
    )
    code, out = run("validate", str(root), "--today", TODAY)  # no ledger: cannot know
    assert code == 0, out


def test_n4_an_exhausted_pool_is_reported_by_validate(tmp_path: Path) -> None:
    tiny = [{"name": "tiny", "cidr": "203.0.113.0/30", "gateway": "203.0.113.1"}]
    root = folder(tmp_path, publicPools=tiny)
    state = tmp_path / "state.db"
    seed_example(root)
    apply(root, state)  # takes 203.0.113.2, the only usable address
    seed_example(root, "globex")
    code, out = run("validate", str(root), "--today", TODAY, "--state", str(state))
    assert code == 1, out
    assert (
        f"{root}/globex.yaml:33:3: error[N4]: site london-bridge has no free public /32 left "
        "for globex (hint: extend the site's pool or lower globex-ip's quantity)" in out
    )


def test_n4_an_absurd_count_is_reported_on_its_line_alone_not_at_the_neighbours(
    tmp_path: Path,
) -> None:
    """aaa asks for 100,000 numbers (first by name); bbb names the number it wants; ccc asks
    for one. Only aaa's quantity line is wrong."""
    root = folder(tmp_path)
    state = tmp_path / "state.db"
    apply(root, state)  # a fresh ledger, nothing held yet
    write(
        root,
        "aaa",
        occupier("aaa"),
        contract("aaa-lb", "aaa"),
        service("aaa-voice", "voice-line", "aaa", quantity=100_000),
    )
    number = {"site": "london-bridge", "number": "+442079460001"}
    write(
        root,
        "bbb",
        occupier("bbb", activations={"numbers": [number]}),
        contract("bbb-lb", "bbb", spaces=["suite-302"]),
        service("bbb-voice", "voice-line", "bbb"),
    )
    write(
        root,
        "ccc",
        occupier("ccc"),
        contract("ccc-lb", "ccc", spaces=[]),
        service("ccc-voice", "softphone", "ccc"),
        definition("softphone", "voice", infrastructure={"phoneNumbers": 1}),
    )
    for command in ("validate", "plan"):
        code, out = run(command, str(root), "--today", TODAY, "--state", str(state))
        assert code == 1, out
        errors = [line for line in out.splitlines() if ": error[" in line]
        line = (root / "aaa.yaml").read_text().splitlines().index("  quantity: 100000") + 1
        assert errors == [
            f"{root}/aaa.yaml:{line}:13: error[N4]: site london-bridge has no free phone numbers "
            "left for aaa (hint: extend the site's pool or lower aaa-voice's quantity)",
            f"{root}/aaa.yaml:{line}:13: error[N4]: site london-bridge has no free floor ports "
            "for role voice left for aaa (hint: extend the site's pool or lower aaa-voice's "
            "quantity)",
        ], out
