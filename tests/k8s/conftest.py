"""Fixtures for the Kubernetes tests: the API emulator (tests/k8s/emulator.py, a kmock
subclass) as a process on 127.0.0.1, the real `kubectl` against it, and the real kopf
operator (`tenantry operator`) with its HTTPS admission webhook.

Locally a missing kubectl or openssl skips; with CI=true it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
BIN = Path(sys.executable).parent
TODAY = "2026-11-23"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def need(binary: str, *candidates: Path) -> str:
    for path in candidates:
        if path.exists() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(binary)
    if found is None:
        message = f"{binary} not installed (scripts/setup-k8s.sh installs it)"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stop(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM, wait, then SIGKILL: by the process's own id, never by name."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@dataclass
class Cluster:
    """An emulator process and a kubectl pointed at it."""

    root: Path
    kubectl_bin: str
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def kubectl(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.kubectl_bin, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done

    def get(self, kind: str, name: str) -> dict[str, Any]:
        return json.loads(self.kubectl("get", kind, name, "-o", "json").stdout)  # type: ignore[no-any-return]

    def exists(self, kind: str, name: str) -> bool:
        return self.kubectl("get", kind, name, check=False).returncode == 0


def start_emulator(root: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    root.mkdir(parents=True, exist_ok=True)
    port_file, kubeconfig = root / "port", root / "kubeconfig"
    log = open(root / "emulator.log", "wb")  # noqa: SIM115 - the process owns it
    process = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "emulator.py"),
            "--port-file",
            str(port_file),
            "--kubeconfig",
            str(kubeconfig),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_for("the emulator", lambda: port_file.exists() and port_file.read_text() != "")
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "KUBECACHEDIR": str(root / "kube-cache"),
        "HOME": str(root),
    }
    return process, env


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    kubectl = need("kubectl", BIN / "kubectl")
    root = tmp_path_factory.mktemp("cluster")
    process, env = start_emulator(root)
    made = Cluster(root, kubectl, env, [process])
    try:
        yield made
    finally:
        for started in reversed(made.processes):  # the operator before the emulator
            stop(started)


def self_signed(directory: Path) -> Path:
    openssl = need("openssl")
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(directory / "key.pem"),
            "-out",
            str(directory / "cert.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return directory


def start_operator(
    cluster: Cluster,
    name: str,
    webhook: bool = True,
    extra: dict[str, str] | None = None,
    args: tuple[str, ...] = ("--standalone",),
) -> subprocess.Popen[bytes]:
    """`tenantry operator --standalone` (or `args`) with render drivers and a SQLite ledger in
    tmp (`extra` env overrides)."""
    root = cluster.root
    env = {
        **cluster.env,
        "TENANTRY_LEDGER": str(root / "state.db"),
        "TENANTRY_RENDER_DIR": str(root / "rendered"),
        "TENANTRY_TODAY": TODAY,
        "TENANTRY_RESYNC_SECONDS": "30",
        **(extra or {}),
    }
    if webhook:
        env.update(
            TENANTRY_WEBHOOK_PORT=str(free_port()),
            TENANTRY_WEBHOOK_ADDR="127.0.0.1",
            TENANTRY_WEBHOOK_HOST="127.0.0.1",
            TENANTRY_WEBHOOK_TLS_DIR=str(self_signed(root / "tls")),
            TENANTRY_WEBHOOK_MANAGED="tenantry.dev",
            TENANTRY_WEBHOOK_TRUSTED="kmock-admin",  # the emulator's default user
        )
    log = open(root / f"{name}.log", "wb")  # noqa: SIM115 - the process owns it
    process = subprocess.Popen(
        [str(BIN / "tenantry"), "operator", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    cluster.processes.append(process)
    return process
