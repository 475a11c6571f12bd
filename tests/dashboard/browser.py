"""Debian's headless Chromium driven by Playwright (executable_path: no browser download),
with what every dashboard page must pass: no console error, no request leaving file://, and
axe-core (from npm, injected into the page) finding no serious or critical violation."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_JS = Path(os.environ.get("AXE_JS", ROOT / ".axe/node_modules/axe-core/axe.min.js"))
HTML_VALIDATE = ROOT / ".axe/node_modules/.bin/html-validate"
HTML_RULES = Path(__file__).with_name("htmlvalidate.json")
# The CI artifact folder: a reviewer looks at these after a run (git-ignored).
SCREENSHOTS = Path(os.environ.get("TENANTRY_SCREENSHOTS", ROOT / "test-artifacts/screenshots"))
# Chromium phones home even headless; nothing but localhost resolves (labs/browser README).
FLAGS = [
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-features=NetworkTimeServiceQuerying",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
]
LOCAL = ("file:", "data:", "about:", "blob:")


def missing(what: str) -> None:
    """A missing browser or axe fails in CI (a skip would hide a missing install step)."""
    message = f"{what}: run scripts/setup-browser.sh"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def html_problems(pages: list[Path]) -> str:
    """html-validate (the HTML ecosystem's validator, from npm) on the pages: the spec's
    content models, attributes, ids, plus its recommended accessibility rules. '' when clean."""
    if not HTML_VALIDATE.is_file():
        missing(f"{HTML_VALIDATE} not found")
    done = subprocess.run(
        [str(HTML_VALIDATE), "--config", str(HTML_RULES), *map(str, pages)],
        capture_output=True,
        text=True,
    )
    return "" if done.returncode == 0 else (done.stdout + done.stderr)


@dataclass
class Watched:
    """A page with what it logged and requested since it was opened."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def outside(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL)]

    def axe(self) -> list[tuple[str, str, str]]:
        """Serious and critical axe-core violations: (rule, impact, first target)."""
        self.page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
        found = self.page.evaluate(
            "async () => (await axe.run(document)).violations.map("
            "v => [v.id, v.impact, v.nodes.length ? String(v.nodes[0].target) : ''])"
        )
        return [tuple(v) for v in found if v[1] in ("serious", "critical")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One browser per test module: Playwright's sync API runs an event loop in this thread
    while it is open, and later tests (asyncio.run) need it gone."""
    if not shutil.which(CHROMIUM):
        missing(f"{CHROMIUM} not found")
    if not AXE_JS.is_file():
        missing(f"{AXE_JS} not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = Watched(page)
    page.on("console", lambda m: m.type == "error" and seen.errors.append(m.text))
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.on("request", lambda r: seen.requests.append(r.url))
    # anything that would leave the machine is refused (and still recorded above)
    page.route(lambda url: not url.startswith(LOCAL), lambda route: route.abort())
    yield seen
    context.close()
