"""Without an optional extra, the command that needs it says which one in one line (no
ModuleNotFoundError traceback). The extra's module is hidden from a real `tenantry` process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]

HIDE = """
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {module!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Hide())
from reconciler.cli import run
sys.argv = ["tenantry", *{args!r}]
run()
"""


def tenantry_without(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = HIDE.format(module=module, args=list(args))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_operator_without_the_operator_extra_names_it(tmp_path: Path) -> None:
    done = tenantry_without("kopf", "operator", "--standalone", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: tenantry operator needs the [operator] extra: "
        "pip install 'tenantry[operator]' (no module kopf)"
    ]
    assert "Traceback" not in done.stdout + done.stderr


def test_postgres_ledger_without_the_postgres_extra_names_it(tmp_path: Path) -> None:
    done = tenantry_without(
        "psycopg",
        "apply",
        str(ROOT / "desired-state"),
        "--state",
        "postgresql://tenantry@127.0.0.1:1/tenantry",
        "--today",
        "2026-11-23",
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if "[postgres]" in line]
    assert len(lines) == 1 and "pip install 'tenantry[postgres]'" in lines[0], done.stderr
