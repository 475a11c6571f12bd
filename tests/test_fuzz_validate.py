"""Fuzzing `validate` (issue 20): random bytes and random mutations of real desired-state
files, next to a valid repo, must give findings — never an exception, never a hang. Each
example runs under a hard alarm; the number of examples bounds the time in CI."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import FrameType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import output
from reconciler.validate import validate

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "corpus" / "_base"
SEEDS = sorted(BASE.glob("*.yaml")) + sorted((ROOT / "desired-state").rglob("*.yaml"))
TODAY = date(2026, 11, 23)
SECONDS_PER_EXAMPLE = 10
# tokens that change what YAML means, or that the input checks must catch
TOKENS = [
    b"\x00",
    b"\x1b",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\xed\xa0\x80",
    b"\t",
    b"\r",
    b"\n---\n",
    b"\n...\n",
    b"!Ref ",
    b"!!python/object:os.system ",
    b"&a ",
    b"*a",
    b"[",
    b"]",
    b"{",
    b"}",
    b"- ",
    b": ",
    b"? ",
    b"|\n",
    b">-\n",
    b'"',
    b"'",
    b"#",
    b"%YAML 1.1\n",
    b"<<: *a\n",
    b"on: ",
    b"1e3",
    b"0x1F",
    b"ff:ff:ff:ff:ff:ff",
    b"-oProxyCommand",
    b"\\ud800",
    b"  " * 40,
    b"[" * 300,
    b"- " * 200,
    b"x" * 5000,
]


class Hang(Exception):
    pass


@contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def ring(_signum: int, _frame: FrameType | None) -> None:
        raise Hang(f"validate ran longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check(repo: Path) -> None:
    """validate and every output format, as the CLI would print them, within the bound."""
    with alarm(SECONDS_PER_EXAMPLE):
        result = validate(str(repo), TODAY, "alice")
        for fmt in ("human", "json", "sarif"):
            output.render(result.findings, fmt, checked=len(result.repo.sources)).encode()


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    seed = draw(st.sampled_from(SEEDS))
    data = bytearray(seed.read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "flip", "token", "duplicate"]))
        if action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        else:
            end = data.find(b"\n", at)
            line = data[data.rfind(b"\n", 0, at) + 1 : end + 1 if end >= 0 else len(data)]
            data[at:at] = line
    name = seed.name if seed.parent == BASE else f"mutated-{seed.name}"
    return name, bytes(data)


FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@FUZZ
@given(case=mutated())
def test_fuzz_mutated_desired_state_never_crashes(tmp_path: Path, case: tuple[str, bytes]) -> None:
    repo = tmp_path / "repo"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(BASE, repo)
    name, data = case
    (repo / name).write_bytes(data)
    check(repo)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_fuzz_random_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    repo = tmp_path / "repo"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(BASE, repo)
    (repo / "random.yaml").write_bytes(data)
    check(repo)
