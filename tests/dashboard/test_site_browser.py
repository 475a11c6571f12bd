"""`tenantry site` opened in a real headless Chromium: what a community manager sees on the
index, the in-page filters, every link, console and network hygiene, axe-core, printing, and
screenshots for the reviewer (test-artifacts/screenshots/)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.dashboard.browser import SCREENSHOTS, Watched, html_problems
from tests.dashboard.conftest import LivedIn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "bench"))
from generate import generate


def tenantry(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler.cli", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(scope="module")
def built(lived_in: LivedIn, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    done = tenantry(
        "site", str(lived_in.repo), "--out", str(out), "--state", str(lived_in.state),
        "--today", lived_in.today.isoformat(),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("wrote ")
    return out


def report(lived_in: LivedIn, *args: str) -> list[dict[str, Any]]:
    done = tenantry(
        "report", *args, str(lived_in.repo), "--format", "json", "--state", str(lived_in.state),
        "--today", lived_in.today.isoformat(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def clean(seen: Watched) -> None:
    assert seen.errors == []
    assert seen.outside() == []
    assert seen.axe() == []


def test_index_shows_each_sites_utilisation(
    watched: Watched, built: Path, lived_in: LivedIn
) -> None:
    watched.open(built / "index.html")
    pools = report(lived_in, "pools")
    sites = {row["site"] for row in pools}
    assert sites == {"london-bridge", "manchester-works"}
    for row in pools:
        card = watched.page.locator(f"#site-{row['site']}")
        assert card.is_visible()
        bar = card.locator(f".pool[data-pool='{row['pool']}']")
        usage = f"{row['used']}/{row['size']} ({row['percent']} %)"
        assert bar.locator(".usage").inner_text().startswith(usage)
        assert ("≥ 90 %" in bar.inner_text()) is row["warning"]
        meter = bar.locator(".meter").bounding_box()
        fill = bar.locator(".meter .fill").bounding_box()
        assert meter and fill is not None
        assert abs(fill["width"] / meter["width"] * 100 - min(row["percent"], 100)) < 2
    london = watched.page.locator("#site-london-bridge")
    assert "Occupancy: 6/7 spaces let" in london.inner_text()  # Wayne left suite-301 on the 18th
    assert "failed services" in london.locator(".glance").inner_text()
    clean(watched)


def visible_services(seen: Watched) -> list[str]:
    return seen.page.locator(".services tbody tr:visible td:first-child .muted").all_inner_texts()


def test_occupier_filters_change_the_visible_rows(
    watched: Watched, built: Path, lived_in: LivedIn
) -> None:
    """Seed 000's Contract and Service drop-downs, in the page, no server."""
    watched.open(built / "occupiers/acme.html")
    rows = [r for r in report(lived_in, "services") if r["occupier"] == "acme"]
    page = watched.page
    assert sorted(visible_services(watched)) == sorted(r["service"] for r in rows)
    for status in ("Failed", "Inactive", "Active"):
        page.select_option("#f-status", status.lower())
        want = sorted(r["service"] for r in rows if r["status"] == status)
        assert sorted(visible_services(watched)) == want, status
        assert (
            page.locator(".filters output").inner_text() == f"{len(want)} of {len(rows)} rows shown"
        )
    assert any(r["status"] == "Failed" for r in rows) and any(
        r["status"] == "Inactive" for r in rows
    )
    page.select_option("#f-status", "")
    page.select_option("#f-contract", "scheduled")
    assert visible_services(watched) == []  # acme's one contract is Active
    page.select_option("#f-contract", "active,scheduled")
    assert len(visible_services(watched)) == len(rows)
    clean(watched)


def test_site_filter_and_search(watched: Watched, built: Path, lived_in: LivedIn) -> None:
    watched.open(built / "sites/manchester-works.html")
    page = watched.page
    names = page.locator("#occupier-table tbody tr:visible td:first-child")
    everyone = names.all_inner_texts()
    assert "Hooli XYZ" in " ".join(everyone) or len(everyone) >= 3
    page.select_option("#f-contract", "scheduled")  # Hooli starts in January
    assert names.all_inner_texts() and len(names.all_inner_texts()) < len(everyone)
    assert all(
        status == "Scheduled"
        for status in page.locator(
            "#occupier-table tbody tr:visible td:nth-child(2)"
        ).all_inner_texts()
    )
    page.select_option("#f-contract", "")
    page.fill("#f-text", "initech")
    assert [n.lower() for n in names.all_inner_texts()] == ["initech"] or all(
        "initech" in n.lower() for n in names.all_inner_texts()
    )
    assert len(names.all_inner_texts()) == 1
    clean(watched)


def pages_of(root: Path) -> set[Path]:
    return {p.resolve() for p in root.rglob("*.html")}


def test_every_page_is_reachable_clean_and_accessible(watched: Watched, built: Path) -> None:
    """From the index, follow every link: each resolves to a written page (and its #anchor to
    an element there); each page has no console error, requests nothing beyond file://, and
    axe-core finds no serious or critical violation."""
    start = (built / "index.html").resolve()
    queue, seen = deque([start]), {start}
    while queue:
        path = queue.popleft()
        watched.open(path)
        hrefs = watched.page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            parts = urlsplit(href)
            assert parts.scheme == "file", href
            target = Path(unquote(parts.path)).resolve()
            assert target.is_file(), f"{path.name}: broken link {href}"
            if parts.fragment and target == path:
                assert watched.page.locator(f"[id='{parts.fragment}']").count() == 1, href
            if target not in seen:
                seen.add(target)
                queue.append(target)
        assert watched.errors == [], path
        assert watched.outside() == [], path
        assert watched.axe() == [], path
    assert seen == pages_of(built)  # every page is reachable from the index


def test_every_page_is_valid_html(built: Path, tmp_path: Path) -> None:
    assert html_problems(sorted(built.rglob("*.html"))) == ""
    bad = tmp_path / "bad.html"  # the validator is real: a block inside a paragraph fails
    bad.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>x</title></head>'
        "<body><p><div>x</div></p></body></html>"
    )
    assert "close-order" in html_problems([bad])


def test_screenshots_and_print(watched: Watched, built: Path) -> None:
    """Full-page screenshots for the reviewer; printing hides the controls, not the data."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, page in (
        ("index", "index.html"),
        ("site-london-bridge", "sites/london-bridge.html"),
        ("occupier-acme", "occupiers/acme.html"),
    ):
        watched.open(built / page)
        shot = SCREENSHOTS / f"{name}.png"
        watched.page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    watched.page.emulate_media(media="print")
    assert not watched.page.locator(".filters").is_visible()
    assert not watched.page.locator("header.top nav").is_visible()
    assert watched.page.locator(".services").first.is_visible()
    assert watched.page.locator(".charge-table").is_visible()
    watched.page.pdf(path=str(SCREENSHOTS / "occupier-acme.pdf"))
    assert (SCREENSHOTS / "occupier-acme.pdf").read_bytes()[:5] == b"%PDF-"
    assert watched.errors == [] and watched.outside() == []


def test_big_site_is_paginated(watched: Watched, tmp_path: Path) -> None:
    """450 occupiers at one site: 200 rows a page, each page linked from the others."""
    repo = tmp_path / "big"
    generate(repo, 1, 450)
    out = tmp_path / "site"
    done = tenantry("site", str(repo), "--out", str(out), "--today", "2026-11-23")
    assert done.returncode == 0, done.stdout + done.stderr
    site = next((out / "sites").glob("*.html")).name.split(".")[0]
    watched.open(out / "sites" / f"{site}.html")
    rows = watched.page.locator("#occupier-table tbody tr")
    assert rows.count() == 200
    nav = watched.page.locator("nav.pagination")
    assert nav.locator("a").all_inner_texts() == ["2", "3"]
    nav.get_by_role("link", name="3").click()
    watched.page.wait_for_url(f"**/{site}.3.html")
    assert watched.page.locator("#occupier-table tbody tr").count() == 50
    assert "401–450 of 450" in watched.page.locator("#occupier-table caption").inner_text()
    assert watched.errors == [] and watched.outside() == []
    assert watched.axe() == []


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip


def test_plan_page_of_a_pull_request(watched: Watched, tmp_path: Path) -> None:
    """`--plan-base`: the plan a pull request makes, the same lines as `tenantry plan`."""
    root = Path(__file__).resolve().parent.parent.parent
    repo = tmp_path / "desired"
    shutil.copytree(root / "desired-state", repo / "desired-state")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "more-voice")
    services = repo / "desired-state/occupiers/stark/services.yaml"
    text = services.read_text()
    assert "definition: voice-line" in text
    services.write_text(
        text.replace("definition: voice-line\n", "definition: voice-line\n  quantity: 2\n", 1)
    )
    git(repo, "commit", "-qam", "a second line for Stark")
    plan = tenantry("plan", "desired-state", "--base", "main", "--today", "2026-11-23", cwd=repo)
    assert plan.returncode == 2, plan.stdout
    summary = plan.stdout.strip().splitlines()[-1].removeprefix("Plan: ").rstrip(".")
    done = tenantry(
        "site", "desired-state", "--plan-base", "main", "--out", "site", "--today", "2026-11-23",
        cwd=repo,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    watched.open(repo / "site/index.html")
    watched.page.get_by_role("link", name="Plan", exact=True).click()
    watched.page.wait_for_url("**/plan.html")
    assert watched.page.locator(".summary").inner_text().startswith(summary)
    shown = watched.page.locator(".plan-line").all_inner_texts()
    planned = [line.strip() for line in plan.stdout.splitlines() if line.startswith("    ")]
    assert planned and shown == planned
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    watched.page.screenshot(path=str(SCREENSHOTS / "plan.png"), full_page=True)
    assert html_problems([repo / "site/plan.html"]) == ""
    clean(watched)


def test_the_checks_catch_a_bad_page(watched: Watched, tmp_path: Path) -> None:
    """Negative control: the same detectors fire on a page that breaks each rule."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<img src="http://example.invalid/pixel.png"><select><option>x</option></select>'
        "<script>throw new Error('deliberate');</script></body></html>"
    )
    watched.open(bad)
    assert any("deliberate" in e for e in watched.errors)
    assert watched.outside() == ["http://example.invalid/pixel.png"]
    assert {"html-has-lang", "image-alt", "select-name"} <= {v[0] for v in watched.axe()}
