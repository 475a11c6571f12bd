"""Start and stop the real network lab components for the driver tests.

Three labs, each self-contained and uniquely named so parallel or leftover runs never collide:

* `FakeCiscoLab`  fake-switches Cisco IOS-style CLI over SSH on 127.0.0.1:<free port>
* `OvsLab`        Open vSwitch (userspace `netdev` bridge) with private ovsdb-server/vswitchd,
                  one network namespace per floor host, and a private sshd on 127.0.0.1 that
                  runs `ovs-vsctl` against our database
* `FrrLab`        FRR zebra+staticd in a router namespace between an "internet" namespace and
                  an occupier namespace, plus a private sshd that reaches vtysh inside it

Every process is started by us and stopped by its own PID; every namespace, veth and bridge we
create is deleted in `stop()`, which is safe to call on a half-started lab. Nothing listens
outside 127.0.0.1 and all traffic stays inside our namespaces.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from drivers.base import Credentials, Endpoint

HERE = Path(__file__).resolve().parent


def run(*args: str, check: bool = True, ns: str | None = None, env: dict[str, str] | None = None,
        timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """Run a command (optionally inside a namespace); raise with its output when it fails."""
    argv = ["ip", "netns", "exec", ns, *args] if ns else list(args)
    res = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} -> {res.returncode}: {res.stderr or res.stdout}")
    return res


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_tcp(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def _alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (exited, not yet reaped by its parent) counts as gone."""
    with contextlib.suppress(ChildProcessError):  # reap it if it is our own child
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def kill_pid(pid: int | None, timeout: float = 5) -> None:
    """End one process we started (by PID only), escalating to SIGKILL."""
    if not pid:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)


def kill_pidfile(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, ValueError):
        kill_pid(int(path.read_text().strip()))
    path.unlink(missing_ok=True)


def ping(ns: str, address: str, timeout_s: float = 1.0) -> bool:
    """One ICMP echo from inside `ns`; True if answered."""
    res = run("ping", "-n", "-c1", f"-W{timeout_s}", address, ns=ns, check=False)
    return res.returncode == 0


def wait_ping(ns: str, address: str, want: bool, timeout_s: float = 5.0) -> bool:
    """Poll until reachability equals `want` (the data plane follows config within ms)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if ping(ns, address, 0.3) == want:
            return True
        if time.monotonic() > deadline:
            return False


def cred_env(device: str, username: str, password: str | None = None,
             enable: str | None = None, key: str | None = None) -> dict[str, str]:
    """TENANTRY_CRED_<DEVICE>_* variables for one device (see drivers.credentials)."""
    from drivers.credentials import ENV_PREFIX, env_key

    base = f"{ENV_PREFIX}{env_key(device)}_"
    values = {"USERNAME": username, "PASSWORD": password, "ENABLE": enable, "KEY": key}
    return {base + k: v for k, v in values.items() if v is not None}


def short_id() -> str:
    return secrets.token_hex(2)  # 4 hex chars: names stay under IFNAMSIZ (15)


# ------------------------------------------------------------------ private sshd

# /run/sshd (Debian's privilege-separation directory) is created when missing and never
# removed: every sshd of every lab run on the machine needs it at each new connection, and a
# per-process refcount cannot see another pytest process's servers (removing it broke their
# SSH logins mid-test: "authenticate: open failed").


# The run folders of the labs' running sshd, so that a failing test's report can show what
# they logged.
RUNNING_SSHD: set[Path] = set()


def sshd_logs(lines: int = 40) -> list[tuple[str, str]]:
    """(lab, last lines of its sshd's log) for every lab sshd running now."""
    out = []
    for run_dir in sorted(RUNNING_SSHD):
        with contextlib.suppress(OSError):
            text = (run_dir / "sshd.log").read_text(errors="replace")
            out.append((run_dir.parent.name, "\n".join(text.splitlines()[-lines:])))
    return out


@dataclass
class Sshd:
    """A private OpenSSH server on 127.0.0.1 with its own host key, root login by key only."""

    run_dir: Path
    set_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    pid: int | None = None

    @property
    def client_key(self) -> Path:
        return self.run_dir / "client_ed25519"

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.run_dir, 0o700)
        for key in ("host_ed25519", "client_ed25519"):
            if not (self.run_dir / key).exists():
                run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tenantry-lab",
                    "-f", str(self.run_dir / key))
        auth = self.run_dir / "authorized_keys"
        shutil.copy(self.run_dir / "client_ed25519.pub", auth)
        auth.chmod(0o600)
        self.port = free_port()
        lines = [
            "ListenAddress 127.0.0.1",
            f"Port {self.port}",
            f"HostKey {self.run_dir / 'host_ed25519'}",
            f"PidFile {self.run_dir / 'sshd.pid'}",
            f"AuthorizedKeysFile {auth}",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",  # the key lives under /tmp
            "AllowUsers root",
            "LogLevel VERBOSE",
        ]
        if self.set_env:
            lines.append("SetEnv " + " ".join(f"{k}={v}" for k, v in self.set_env.items()))
        cfg = self.run_dir / "sshd_config"
        cfg.write_text("\n".join(lines) + "\n")
        Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
        run("/usr/sbin/sshd", "-t", "-f", str(cfg))
        run("/usr/sbin/sshd", "-f", str(cfg), "-E", str(self.run_dir / "sshd.log"))
        wait_tcp(self.port, 10)
        # sshd binds its port before it writes the pid file: wait for a complete one
        pidfile, deadline = self.run_dir / "sshd.pid", time.monotonic() + 10
        while not (pidfile.exists() and pidfile.read_text().strip().isdigit()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd wrote no pid file {pidfile}")
            time.sleep(0.01)
        self.pid = int(pidfile.read_text().strip())
        RUNNING_SSHD.add(self.run_dir)
        host_key = (self.run_dir / "host_ed25519.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_key[0]} {host_key[1]}\n")

    @property
    def known_hosts(self) -> Path:
        """A known_hosts file with this server's key, for strict host-key checking."""
        return self.run_dir / "known_hosts"

    def stop(self) -> None:
        RUNNING_SSHD.discard(self.run_dir)
        kill_pid(self.pid)
        self.pid = None


# ------------------------------------------------------------------ lab 1: Cisco simulator


@dataclass
class FakeCiscoLab:
    """fake-switches `cisco_generic` with ports GigabitEthernet0/1..N on 127.0.0.1:<port>."""

    hostname: str = "sw-lab"
    ports: int = 8
    username: str = "admin"
    password: str = "labpass"
    enable: str = "labenable"
    reject_vlans: tuple[int, ...] = (4000,)  # `switchport access vlan 4000` is refused
    drop_word: str = "DROP-SESSION"  # a description with this word drops the SSH session
    port: int = 0
    proc: subprocess.Popen[str] | None = None
    log_path: Path | None = None

    def start(self) -> None:
        self.port = free_port()
        fd, log = tempfile.mkstemp(prefix=f"tenantry-{self.hostname}-", suffix=".log")
        self.log_path = Path(log)
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "fake_cisco.py"), "--port", str(self.port),
             "--hostname", self.hostname, "--ports", str(self.ports),
             "--username", self.username, "--password", self.password,
             "--enable-password", self.enable, "--drop-word", self.drop_word,
             *(f"--reject-vlan={v}" for v in self.reject_vlans)],
            stdout=fd, stderr=fd, text=True,
        )
        os.close(fd)
        try:
            wait_tcp(self.port, 20)
        except RuntimeError as exc:
            text = Path(log).read_text()[-2000:]
            self.stop()
            raise RuntimeError(f"fake switch did not start: {text}") from exc

    def endpoint(self, name: str | None = None) -> Endpoint:
        return Endpoint(name or self.hostname, "cisco_iosxe", "127.0.0.1", self.port)

    def credentials(self) -> Credentials:
        return Credentials(self.username, self.password, self.enable)

    def cred_env(self, device: str | None = None) -> dict[str, str]:
        return cred_env(device or self.hostname, self.username, self.password, self.enable)

    def stop(self) -> None:
        if self.proc is not None:
            kill_pid(self.proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
            self.proc = None
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)


# ------------------------------------------------------------------ lab 2: Open vSwitch


# Two userspace vswitchds cannot share a network namespace (each wants the `ovs-netdev`
# device): one OVS lab runs on the machine at a time, across test sessions (two sessions at
# once broke each other's bridges: "tbr… is not a bridge or a socket"). Another session's lab
# is waited for; a session's own labs are never alive together (module-scoped fixtures).
OVS_LOCK = Path(tempfile.gettempdir()) / "tenantry-ovs-lab.lock"


def hold_ovs_lock(wait_s: float = 900) -> int:
    """The machine's OVS lab lock, held until the returned descriptor is closed (or the
    process dies)."""
    fd = os.open(OVS_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise RuntimeError(
                    f"another test session's Open vSwitch lab held {OVS_LOCK} for {wait_s:.0f} s"
                ) from None
            time.sleep(0.2)


@dataclass
class OvsHost:
    name: str  # "a1"
    ns: str  # namespace
    port: str  # OVS port name (bridge side of the veth)
    address: str  # 192.0.2.x


@dataclass
class OvsLab:
    """Userspace OVS bridge + one namespace per host + sshd with OVS_RUNDIR set."""

    hosts: tuple[str, ...] = ("a1", "a2", "b1", "b2")
    uid: str = field(default_factory=short_id)
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tenantry-ovs-")))
    sshd: Sshd | None = None
    started: list[str] = field(default_factory=list)
    lock: int | None = None  # hold_ovs_lock's descriptor while this lab runs

    @property
    def bridge(self) -> str:
        return f"tbr{self.uid}"

    @property
    def ovs_dir(self) -> Path:
        return self.run_dir / "ovs"

    def endpoint(self, name: str = "ovs-lab") -> Endpoint:
        assert self.sshd is not None
        return Endpoint(name, "openvswitch", "127.0.0.1", self.sshd.port)

    def credentials(self) -> Credentials:
        assert self.sshd is not None
        return Credentials("root", private_key=str(self.sshd.client_key))

    def cred_env(self, device: str = "ovs-lab") -> dict[str, str]:
        assert self.sshd is not None
        return cred_env(device, "root", key=str(self.sshd.client_key))

    def host(self, name: str) -> OvsHost:
        i = self.hosts.index(name)
        return OvsHost(name, f"tn{self.uid}{name}", f"tp{self.uid}{name}", f"192.0.2.{11 + i}")

    @property
    def env(self) -> dict[str, str]:
        d = str(self.ovs_dir)
        return {**os.environ, "OVS_RUNDIR": d, "OVS_DBDIR": d, "OVS_LOGDIR": d,
                "OVS_SYSCONFDIR": d}

    def vsctl(self, *args: str) -> str:
        return run("ovs-vsctl", "--timeout=10", *args, env=self.env).stdout

    def ofctl(self, *args: str) -> str:
        return run("ovs-ofctl", *args, env=self.env).stdout

    def start(self) -> None:
        self.lock = hold_ovs_lock()
        reap_orphaned_ovs_labs()
        d = self.ovs_dir
        d.mkdir(parents=True)
        (self.run_dir / "owner").write_text(f"{os.getpid()} {self.uid}")
        env = self.env
        run("ovsdb-tool", "create", str(d / "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema")
        run("ovsdb-server", str(d / "conf.db"), f"--remote=punix:{d}/db.sock",
            f"--unixctl={d}/ovsdb-server.ctl", f"--pidfile={d}/ovsdb-server.pid",
            f"--log-file={d}/ovsdb-server.log", "-vconsole:off", "--detach", "--no-chdir", env=env)
        self.started.append("ovsdb")
        self.vsctl("--no-wait", "init")
        run("ovs-vswitchd", f"unix:{d}/db.sock", f"--unixctl={d}/ovs-vswitchd.ctl",
            f"--pidfile={d}/ovs-vswitchd.pid", f"--log-file={d}/ovs-vswitchd.log",
            "-vconsole:off", "--detach", "--no-chdir", env=env)
        self.started.append("vswitchd")
        self.vsctl("add-br", self.bridge, "--", "set", "bridge", self.bridge,
                   "datapath_type=netdev", "fail-mode=standalone")
        self.started.append("bridge")
        for name in self.hosts:
            h = self.host(name)
            run("ip", "netns", "add", h.ns)
            self.started.append(f"ns:{h.ns}")
            run("ip", "link", "add", h.port, "type", "veth", "peer", "name", "eth0", "netns", h.ns)
            self.started.append(f"link:{h.port}")
            run("ip", "link", "set", h.port, "up")
            run("ip", "-n", h.ns, "link", "set", "lo", "up")
            run("ip", "-n", h.ns, "addr", "add", f"{h.address}/24", "dev", "eth0")
            run("ip", "-n", h.ns, "link", "set", "eth0", "up")
            # start parked: an unconfigured floor port must not bridge anything
            self.vsctl("add-port", self.bridge, h.port, "tag=999")
            self.ofctl("mod-port", self.bridge, h.port, "down")
        self.sshd = Sshd(self.run_dir / "sshd", set_env={"OVS_RUNDIR": str(d)})
        self.sshd.start()

    def stop(self) -> None:
        if self.sshd is not None:
            self.sshd.stop()
        d = self.ovs_dir
        if "bridge" in self.started:
            with contextlib.suppress(Exception):
                self.vsctl("--if-exists", "del-br", self.bridge)
        kill_pidfile(d / "ovs-vswitchd.pid")
        kill_pidfile(d / "ovsdb-server.pid")
        for item in reversed(self.started):
            kind, _, name = item.partition(":")
            if kind == "link":
                run("ip", "link", "del", name, check=False)
            elif kind == "ns":
                run("ip", "netns", "del", name, check=False)
        self.started.clear()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        if self.lock is not None:
            os.close(self.lock)  # the next session's lab may start
            self.lock = None


# ------------------------------------------------------------------ lab 3: FRR router


@dataclass
class FrrLab:
    """inet ns (198.51.100.2) -- router ns with FRR (zebra+staticd) -- occupier ns (.6).

    The occupier namespace holds the public address 203.0.113.10/32 (on lo: no dummy module
    here); the router reaches it only once a static route for its block points at .6.
    """

    uid: str = field(default_factory=short_id)
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tenantry-frr-")))
    sshd: Sshd | None = None
    started: list[str] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)

    inet_rtr: str = "198.51.100.1"
    inet_peer: str = "198.51.100.2"
    xfer_rtr: str = "198.51.100.5"
    xfer_occ: str = "198.51.100.6"
    public_block: str = "203.0.113.8/29"
    public_ip: str = "203.0.113.10"

    @property
    def ns_rtr(self) -> str:
        return f"tn{self.uid}rtr"

    @property
    def ns_inet(self) -> str:
        return f"tn{self.uid}inet"

    @property
    def ns_occ(self) -> str:
        return f"tn{self.uid}occ"

    @property
    def frr_dir(self) -> Path:
        return self.run_dir / "frr"

    @property
    def vtysh(self) -> tuple[str, ...]:
        """The vtysh command line that reaches our daemons (what the driver runs)."""
        d = str(self.frr_dir)
        return ("ip", "netns", "exec", self.ns_rtr, "vtysh", "--vty_socket", d, "--config_dir", d)

    def endpoint(self, name: str = "rtr-lab") -> Endpoint:
        assert self.sshd is not None
        return Endpoint(name, "frr", "127.0.0.1", self.sshd.port)

    def credentials(self) -> Credentials:
        assert self.sshd is not None
        return Credentials("root", private_key=str(self.sshd.client_key))

    def cred_env(self, device: str = "rtr-lab") -> dict[str, str]:
        assert self.sshd is not None
        return cred_env(device, "root", key=str(self.sshd.client_key))

    def vty(self, *commands: str) -> str:
        argv = list(self.vtysh)
        for c in commands:
            argv += ["-c", c]
        return run(*argv).stdout

    def kernel_routes(self, prefix: str) -> str:
        return run("ip", "-n", self.ns_rtr, "route", "show", prefix).stdout

    def start(self) -> None:
        for ns in (self.ns_rtr, self.ns_inet, self.ns_occ):
            run("ip", "netns", "add", ns)
            self.started.append(ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        r, i, o = self.ns_rtr, self.ns_inet, self.ns_occ
        run("ip", "-n", r, "link", "add", "to-inet", "type", "veth", "peer", "name", "to-rtr",
            "netns", i)
        run("ip", "-n", r, "link", "add", "to-occ", "type", "veth", "peer", "name", "to-rtr",
            "netns", o)
        for ns, dev, addr in ((r, "to-inet", self.inet_rtr), (r, "to-occ", self.xfer_rtr),
                              (i, "to-rtr", self.inet_peer), (o, "to-rtr", self.xfer_occ)):
            run("ip", "-n", ns, "addr", "add", f"{addr}/30", "dev", dev)
            run("ip", "-n", ns, "link", "set", dev, "up")
        run("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=r)
        run("ip", "-n", i, "route", "add", "default", "via", self.inet_rtr)
        run("ip", "-n", o, "addr", "add", f"{self.public_ip}/32", "dev", "lo")
        run("ip", "-n", o, "route", "add", "default", "via", self.xfer_rtr)

        d = self.frr_dir
        d.mkdir(parents=True)
        for daemon in ("zebra", "staticd"):
            (d / f"{daemon}.conf").write_text(f"hostname rtr\nlog file {d}/{daemon}.log\n")
        (d / "vtysh.conf").write_text("")
        shutil.chown(self.run_dir, "frr", "frr")
        for p in [d, *d.iterdir()]:
            shutil.chown(p, "frr", "frr")
        d.chmod(0o750)
        common = ["--vty_socket", str(d), "-z", str(d / "zserv.api"), "-u", "frr", "-g", "frr",
                  "-P", "0", "-d"]
        for daemon, ready in (("zebra", "zserv.api"), ("staticd", "staticd.vty")):
            run(f"/usr/lib/frr/{daemon}", *common, "-f", str(d / f"{daemon}.conf"),
                "-i", str(d / f"{daemon}.pid"), ns=r)
            deadline = time.monotonic() + 10
            while not (d / ready).exists():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"FRR {daemon} did not start")
                time.sleep(0.02)
            self.pids[daemon] = int((d / f"{daemon}.pid").read_text().strip())
        self.sshd = Sshd(self.run_dir / "sshd")
        self.sshd.start()

    def stop(self) -> None:
        if self.sshd is not None:
            self.sshd.stop()
        for daemon in ("staticd", "zebra"):
            pid = self.pids.pop(daemon, None)
            kill_pid(pid)
            if pid:  # FRR's crash-log dir for this PID
                shutil.rmtree(f"/var/tmp/frr/{daemon}.{pid}", ignore_errors=True)
        with contextlib.suppress(OSError):
            Path("/var/tmp/frr").rmdir()
        for ns in reversed(self.started):
            run("ip", "netns", "del", ns, check=False)  # also removes the veths
        self.started.clear()
        shutil.rmtree(self.run_dir, ignore_errors=True)


def reap_orphaned_ovs_labs() -> None:
    """Stop the OVS labs whose test process died without stopping them (a run killed by a
    timeout or ^C): their daemons, sshd, namespaces and veths would otherwise outlive it and
    confuse the next lab. A lab whose owner still runs (another session's) is left alone."""
    for owner in Path(tempfile.gettempdir()).glob("tenantry-ovs-*/owner"):
        with contextlib.suppress(OSError, ValueError):
            pid, _, uid = owner.read_text().partition(" ")
            if _alive(int(pid)):
                continue
            orphan = OvsLab(uid=uid.strip(), run_dir=owner.parent)
            for name in orphan.hosts:
                host = orphan.host(name)
                orphan.started += [f"ns:{host.ns}", f"link:{host.port}"]
            orphan.started.append("bridge")
            kill_pidfile(owner.parent / "sshd" / "sshd.pid")
            orphan.stop()
