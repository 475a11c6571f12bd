"""Real Kamailio (+ SIPp) and FreeRADIUS servers on 127.0.0.1, for the voice lab tests.

Each server runs from a temporary directory on random free ports with the project's own
configuration (kamailio.cfg and radius_config.py beside this file) and is stopped by the PID
we started (its own session), so a failed test never leaves one behind. The pytest fixtures
are in conftest.py; an end-to-end test can build the same labs from these classes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Endpoint
from drivers.freeradius import FreeRadiusDriver, SecretStore
from drivers.kamailio import KamailioDriver

from . import radius_config

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require(binary: str) -> str:
    """The path of `binary`; skip the test without it, or fail under CI=true."""
    found = shutil.which(binary)
    if found is None:
        for d in SBIN:
            if os.access(f"{d}/{binary}", os.X_OK):
                found = f"{d}/{binary}"
                break
    if found is None:
        message = f"{binary} not installed (run scripts/setup-voice-labs.sh as root)"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def free_port(kind: int = socket.SOCK_DGRAM, *, both: bool = False) -> int:
    """A port free on 127.0.0.1 (for UDP, or for UDP and TCP when `both`)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if not both:
            return port
        other = socket.SOCK_STREAM if kind == socket.SOCK_DGRAM else socket.SOCK_DGRAM
        try:
            with socket.socket(socket.AF_INET, other) as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port on 127.0.0.1")


def free_media_port() -> int:
    """A UDP port for sipp's `-mp`, with the three after it free too: sipp binds the audio
    and video RTP ports there (`mp` and `mp + 2`) and exits when one is taken."""
    for _ in range(50):
        port = free_port()
        held = []
        try:
            for offset in range(4):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(s)
                s.bind(("127.0.0.1", port + offset))
            return port
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError("no four free UDP ports in a row on 127.0.0.1")


class Process:
    """A server we started, in its own session so stopping it reaches all its children
    (and nothing else)."""

    def __init__(self, name: str, argv: list[str], log: Path, env: Mapping[str, str] | None = None):
        self.name = name
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=None if env is None else {**os.environ, **env},
            )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_until(ready: Any, proc: Process, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            return
        if not proc.alive():
            raise RuntimeError(f"{what} exited during start-up:\n{proc.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {timeout}s:\n{proc.tail()}")
        time.sleep(0.01)


# ======================================================================== Kamailio + SIPp


@dataclass
class CallResult:
    ok: bool
    ms: float
    log: Path


@dataclass
class KamailioLab:
    """A running Kamailio with its number database, and a SIPp UAS standing in for the
    site's PBX (where calls to active numbers without a registered handset go)."""

    workdir: Path
    kamailio: str
    sipp: str
    sip_port: int = field(default_factory=lambda: free_port())
    rpc_port: int = field(default_factory=lambda: free_port(socket.SOCK_STREAM, both=True))
    pbx_port: int = field(default_factory=lambda: free_port())
    proc: Process | None = None
    pbx: Process | None = None
    start_ms: float = 0.0
    calls: int = 0

    @property
    def db_path(self) -> Path:
        return self.workdir / "numbers.db"

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}/RPC"

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(
            name="kamailio-lab", platform="kamailio", host="127.0.0.1", port=self.rpc_port
        )

    @property
    def pbx_log(self) -> Path:
        return self.workdir / "pbx_messages.log"

    def driver(self, **kwargs: Any) -> KamailioDriver:
        return KamailioDriver(self.db_path, **kwargs)

    def render_config(self) -> Path:
        text = (HERE / "kamailio.cfg").read_text()
        values = {
            "SIP_PORT": str(self.sip_port),
            "RPC_PORT": str(self.rpc_port),
            "DBURL": "sqlite:///" + str(self.db_path),  # four slashes: absolute path
            "CTLSOCK": f"unix:{self.workdir}/kamailio_ctl",
            "PBX_DST": f"sip:127.0.0.1:{self.pbx_port}",
        }
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        if re.search(r"@[A-Z_]+@", text):
            raise RuntimeError("kamailio.cfg: unrendered placeholder")
        cfg = self.workdir / "kamailio.cfg"
        cfg.write_text(text)
        for code in (404, 410, 480):
            tpl = (SCENARIOS / "expect_final.xml.in").read_text()
            (self.workdir / f"expect_{code}.xml").write_text(tpl.replace("@CODE@", str(code)))
        return cfg

    def rpc(self, method: str, *params: str) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1})
        req = urllib.request.Request(
            self.rpc_url, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=2) as resp:
                return json.loads(resp.read().decode())
        except urllib.error.HTTPError as exc:  # a JSON-RPC error comes with its HTTP status
            return json.loads(exc.read().decode())

    def _answers(self) -> bool:
        try:
            self.rpc("core.uptime")
            return True
        except OSError:
            return False

    def start(self, *, load_db: bool = True) -> float:
        """Start Kamailio; `load_db=False` starts it with an empty number table (as one
        that lost its database). Returns the ms from spawn to JSON-RPC answering."""
        cfg = self.render_config()
        argv = [
            self.kamailio,
            "-f",
            str(cfg),
            "-DD",
            "-E",
            "-Y",
            str(self.workdir),
            "-P",
            str(self.workdir / "kamailio.pid"),
            "-w",
            str(self.workdir),
            "-m",
            "64",
            "-M",
            "8",
        ]
        if not load_db:
            argv += ["-A", "NO_HTABLE_DB"]
        t0 = time.perf_counter()
        self.proc = Process("kamailio", argv, self.workdir / "kamailio.log")
        wait_until(self._answers, self.proc, 10, "kamailio")
        self.start_ms = (time.perf_counter() - t0) * 1000
        return self.start_ms

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def restart(self, *, load_db: bool = True) -> float:
        self.stop()
        return self.start(load_db=load_db)

    def start_pbx(self) -> None:
        """sipp as the PBX stand-in. Its media ports are picked free, but another process may
        take one before sipp binds it: sipp then exits at once ("Unable to bind video RTP
        socket"), and is started again on others (kamailio already routes to `pbx_port`)."""
        reasons = []
        for attempt in range(3):
            log = self.workdir / f"sipp_uas{attempt}.log"
            self.pbx = Process(
                "sipp-uas",
                [
                    self.sipp,
                    "-sn",
                    "uas",
                    "-i",
                    "127.0.0.1",
                    "-p",
                    str(self.pbx_port),
                    "-mi",
                    "127.0.0.1",
                    "-mp",
                    str(free_media_port()),
                    "-nostdin",
                    "-trace_msg",
                    "-message_file",
                    str(self.pbx_log),
                ],
                log,
            )
            time.sleep(0.2)  # sipp has no readiness probe; it binds in a few ms
            if self.pbx.alive():
                return
            text = log.read_text(errors="replace") if log.exists() else ""
            reasons.append(next((ln for ln in text.splitlines() if "rror" in ln), text[-2000:]))
        raise RuntimeError("sipp UAS exited at start, three times:\n" + "\n".join(reasons))

    def _sipp(self, argv: list[str], log: Path) -> subprocess.CompletedProcess[bytes]:
        base = [
            self.sipp,
            f"127.0.0.1:{self.sip_port}",
            "-i",
            "127.0.0.1",
            "-p",
            str(free_port()),
            "-mi",
            "127.0.0.1",
            "-mp",
            str(free_media_port()),
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "8s",
            "-timeout_error",
            "-trace_msg",
            "-message_file",
            str(log),
        ]
        return subprocess.run(
            base + argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.workdir,
            timeout=30,
        )

    def call(self, number: str, expect: int) -> CallResult:
        """Place one real call; ok when the final answer is `expect` (200 = the call is
        answered, then ACKed and hung up with BYE)."""
        self.calls += 1
        log = self.workdir / f"call{self.calls}_{expect}.log"
        if expect == 200:
            argv = ["-sn", "uac", "-s", number, "-d", "50"]
        else:
            argv = ["-sf", str(self.workdir / f"expect_{expect}.xml"), "-s", number]
        t0 = time.perf_counter()
        done = self._sipp(argv, log)
        return CallResult(done.returncode == 0, (time.perf_counter() - t0) * 1000, log)

    def register(self, number: str) -> bool:
        """A digital handset for `number` registers (its contact is the PBX stand-in)."""
        self.calls += 1
        done = self._sipp(
            [
                "-sf",
                str(SCENARIOS / "register.xml"),
                "-s",
                number,
                "-key",
                "contact",
                f"sip:{number}@127.0.0.1:{self.pbx_port}",
            ],
            self.workdir / f"register{self.calls}.log",
        )
        return done.returncode == 0

    def registered(self, number: str) -> bool:
        return "result" in self.rpc("ul.lookup", "location", number)

    def close(self) -> None:
        if self.pbx is not None:
            self.pbx.stop()
            self.pbx = None
        self.stop()


# ======================================================================== FreeRADIUS


class DictSecrets:
    """A SecretStore for tests."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)

    def get(self, ref: str) -> str | None:
        return self.values.get(ref)


@dataclass
class RadiusReply:
    code: str  # "Access-Accept", "Access-Reject" or "none(...)"
    attrs: dict[str, str]
    ms: float

    @property
    def vlan(self) -> str | None:
        if (
            self.attrs.get("Tunnel-Type") != "VLAN"
            or self.attrs.get("Tunnel-Medium-Type") != "IEEE-802"
        ):
            return None
        return self.attrs.get("Tunnel-Private-Group-Id")


@dataclass
class RadiusLab:
    """A running FreeRADIUS reading its users from `db_path` (SQLite)."""

    workdir: Path
    raddb: Path
    freeradius: str
    radclient: str
    secret: str = "tenantry-lab-secret"
    auth_port: int = field(default_factory=lambda: free_port())
    acct_port: int = field(default_factory=lambda: free_port())
    inner_port: int = field(default_factory=lambda: free_port())
    proc: Process | None = None
    start_ms: float = 0.0

    @property
    def db_path(self) -> Path:
        return self.workdir / "radius.sqlite"

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(
            name="radius-lab", platform="freeradius", host="127.0.0.1", port=self.auth_port
        )

    def env(self) -> dict[str, str]:
        return radius_config.radius_env(
            self.raddb,
            self.workdir,
            self.db_path,
            secret=self.secret,
            auth=self.auth_port,
            acct=self.acct_port,
            inner=self.inner_port,
        )

    def driver(self, secrets: SecretStore | None = None, **kwargs: Any) -> FreeRadiusDriver:
        return FreeRadiusDriver(self.db_path, secrets=secrets, **kwargs)

    def _radclient(
        self, body: str, code: str = "auth", timeout: float = 3
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                self.radclient,
                "-x",
                "-r",
                "1",
                "-t",
                str(timeout),
                f"127.0.0.1:{self.auth_port}",
                code,
                self.secret,
            ],
            input=body,
            capture_output=True,
            text=True,
            timeout=30,
        )

    def _answers(self) -> bool:
        """One Status-Server probe (RFC 5997) straight from Python: radclient's own timer
        waits about a second on a server that is still starting."""
        auth = os.urandom(16)
        attr = bytes([80, 18]) + bytes(16)  # Message-Authenticator, zero while signing
        header = bytes([12, 1]) + (20 + len(attr)).to_bytes(2, "big")
        mac = hmac.new(self.secret.encode(), header + auth + attr, hashlib.md5).digest()
        packet = header + auth + bytes([80, 18]) + mac
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.05)
            try:
                s.sendto(packet, ("127.0.0.1", self.auth_port))
                answer = s.recv(4096)
            except OSError:
                return False
        return len(answer) >= 20 and answer[0] == 2 and answer[1] == 1

    def start(self) -> float:
        check = subprocess.run(
            [self.freeradius, "-C", "-d", str(self.raddb)],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
        )
        if check.returncode != 0:
            raise RuntimeError(
                f"freeradius -C failed:\n{check.stdout[-2000:]}{check.stderr[-2000:]}"
            )
        t0 = time.perf_counter()
        self.proc = Process(
            "freeradius",
            [self.freeradius, "-f", "-d", str(self.raddb), "-l", str(self.workdir / "radius.log")],
            self.workdir / "freeradius.out",
            env=self.env(),
        )
        wait_until(self._answers, self.proc, 10, "freeradius")
        self.start_ms = (time.perf_counter() - t0) * 1000
        return self.start_ms

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def request(self, attrs: Mapping[str, str]) -> RadiusReply:
        body = "".join(f'{k} = "{v}"\n' for k, v in attrs.items())
        t0 = time.perf_counter()
        done = self._radclient(body)
        ms = (time.perf_counter() - t0) * 1000
        m = re.search(r"^Received (Access-\w+) Id", done.stdout, re.M)
        if not m:
            return RadiusReply(f"none(rc={done.returncode}: {done.stderr.strip()[-200:]})", {}, ms)
        reply: dict[str, str] = {}
        for line in done.stdout[m.end() :].splitlines()[1:]:
            mm = re.match(r"\s+([\w-]+)(?::\d+)? = \"?(.*?)\"?$", line)
            if mm:
                reply[mm.group(1)] = mm.group(2)
        return RadiusReply(m.group(1), reply, ms)

    def auth_user(self, username: str, password: str) -> RadiusReply:
        return self.request({"User-Name": username, "User-Password": password})

    def auth_mac(self, mac: str, station: str | None = None) -> RadiusReply:
        """MAC authentication as a NAS does it: User-Name = User-Password = the MAC."""
        return self.request(
            {
                "User-Name": mac,
                "User-Password": mac,
                "Calling-Station-Id": station or mac,
                "Service-Type": "Call-Check",
                "NAS-Port-Type": "Wireless-802.11",
            }
        )

    def peap(self, eapol_test: str, username: str, password: str) -> tuple[bool, str | None]:
        """A real WPA2-Enterprise login (PEAP-MSCHAPv2); returns (success, VLAN in the Accept)."""
        conf = self.workdir / "peap.conf"
        conf.write_text(
            "network={\n key_mgmt=WPA-EAP\n eap=PEAP\n"
            f' identity="{username}"\n anonymous_identity="anonymous"\n'
            f' password="{password}"\n phase2="auth=MSCHAPV2"\n}}\n'
        )
        done = subprocess.run(
            [
                eapol_test,
                "-c",
                str(conf),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.auth_port),
                "-s",
                self.secret,
                "-t",
                "10",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        out = done.stdout
        marker = "code=2 (Access-Accept)"
        tail = out[out.rfind(marker) :] if marker in out else ""
        m = re.search(
            r"Attribute 81 \(Tunnel-Private-Group-Id\) length=\d+\n\s+Value: ([0-9a-f]+)", tail
        )
        vlan = bytes.fromhex(m.group(1)).decode() if m else None
        return done.returncode == 0 and out.rstrip().endswith("SUCCESS"), vlan
