"""SSH sessions for the CLI drivers (scrapli), and the mapping of their failures to DriverError.

scrapli is imported lazily, so `render` and the pure remediation functions work without the
optional `devices` extra installed.

Two shapes of session:

* `open_cli` — a scrapli `Cli` on a network OS (IOS-style prompts, enable, configuration mode).
* `CommandRunner` — runs shell commands on a Linux host (Open vSwitch, FRR) and returns
  `(exit status, output)`; `SshShell` over SSH, `LocalShell` with subprocess for a reconciler
  that runs on the device itself. It is also the seam where unit tests put a fake.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from drivers.base import ConnectError, Credentials, DriverError, Endpoint, Intent, Transcript

if TYPE_CHECKING:
    from scrapli import Cli
    from scrapli.cli import LoadedDefinition

# scrapli reports failures of open() and of operations as text; these decide `temporary`.
_AUTH = re.compile(r"permission denied|authentication|auth fail|access denied|no more auth", re.I)
_UNREACHABLE = re.compile(
    r"connection refused|timed? ?out|no route|unreachable|name or service|resolve|reset by peer",
    re.I,
)
_HOST_KEY = re.compile(r"host key|REMOTE HOST IDENTIFICATION", re.I)
_DROPPED = re.compile(r"\bEOF\b|broken pipe|closed|reset", re.I)


@dataclass(frozen=True)
class SshOptions:
    """How SSH sessions are opened. Strict host-key checking is on unless switched off."""

    timeout_s: float = 15.0
    strict_host_key: bool = True
    known_hosts_file: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SshOptions:
        """TENANTRY_SSH_STRICT_HOST_KEY (1/0), TENANTRY_SSH_KNOWN_HOSTS, TENANTRY_SSH_TIMEOUT."""
        e = os.environ if env is None else env
        strict = e.get("TENANTRY_SSH_STRICT_HOST_KEY", "1").strip().lower()
        return cls(
            timeout_s=float(e.get("TENANTRY_SSH_TIMEOUT", "15")),
            strict_host_key=strict not in ("0", "false", "no", "off"),
            known_hosts_file=e.get("TENANTRY_SSH_KNOWN_HOSTS") or None,
        )


def classify(
    device: str, exc: BaseException, during: str, error: type[DriverError] = DriverError
) -> DriverError:
    """Turn a scrapli/OS failure into an `error` that says whether a retry can help."""
    text = str(exc) or type(exc).__name__
    if _HOST_KEY.search(text):  # a changed or unknown key needs a human, not a retry
        return error(device, f"host key not trusted ({during}): {text}", temporary=False)
    if _AUTH.search(text):
        return error(device, f"authentication failed ({during}): {text}", temporary=False)
    if _UNREACHABLE.search(text) or isinstance(exc, TimeoutError):
        return error(device, f"unreachable ({during}): {text}", temporary=True)
    if _DROPPED.search(text) or isinstance(exc, EOFError):
        return error(device, f"session dropped ({during}): {text}", temporary=True)
    return error(device, f"{during} failed: {text}", temporary=True)


def _transport_options(options: SshOptions) -> object:
    from scrapli import TransportBinOptions

    extra = ["-o", "LogLevel=ERROR", "-o", "ConnectTimeout=" + str(int(options.timeout_s))]
    if options.known_hosts_file:
        extra += ["-o", f"UserKnownHostsFile={options.known_hosts_file}"]
    elif not options.strict_host_key:
        extra += ["-o", "UserKnownHostsFile=/dev/null"]
    return TransportBinOptions(enable_strict_key=options.strict_host_key, extra_open_args=extra)


def open_cli(
    endpoint: Endpoint,
    credentials: Credentials | None,
    definition: str | LoadedDefinition,
    options: SshOptions,
    *,
    enable: bool = False,
) -> Cli:
    """Open a scrapli session; raise DriverError (auth: permanent; network: temporary)."""
    from scrapli import AuthOptions, Cli, LookupKeyValue, SessionOptions

    if credentials is None:
        raise ConnectError(endpoint.name, "no credentials for this device", temporary=False)
    lookups = []
    if enable:
        secret = credentials.enable or credentials.password or ""
        lookups.append(LookupKeyValue(key="enable", value=secret))
    auth = AuthOptions(
        username=credentials.username,
        password=credentials.password,
        private_key_path=credentials.private_key,
        lookups=lookups or None,
    )
    cli = Cli(
        endpoint.host,
        port=endpoint.port or 22,
        definition_file_or_name=definition,
        auth_options=auth,
        session_options=SessionOptions(operation_timeout_s=int(max(1, options.timeout_s))),
        transport_options=_transport_options(options),  # type: ignore[arg-type]
    )
    try:
        cli.open()
    except Exception as exc:  # scrapli raises its own hierarchy, the OS its own
        raise classify(endpoint.name, exc, "connect", ConnectError) from None
    return cli


def close_quietly(cli: Cli) -> None:
    with contextlib.suppress(Exception):  # the session may already be gone; nothing to save
        cli.close()


# ------------------------------------------------------------------ shell on a Linux device


class CommandRunner(Protocol):
    """Runs one shell command line on the device: (exit status, stdout+stderr)."""

    sessions: int

    def run(self, command: str) -> tuple[int, str]: ...

    def close(self) -> None: ...


_RC = re.compile(r"__tenantry_rc=(\d+)\s*$")


class SshShell:
    """Shell commands over one SSH session (scrapli `default` definition, a POSIX shell).

    Output is base64-encoded on the device so that no output line can ever look like a shell
    prompt (lines ending in `#`, `$` or `>` would end scrapli's read early).
    """

    def __init__(self, endpoint: Endpoint, credentials: Credentials | None,
                 options: SshOptions) -> None:
        self.endpoint = endpoint
        self.cli = open_cli(endpoint, credentials, "default", options)
        self.sessions = 1

    def run(self, command: str) -> tuple[int, str]:
        wrapped = (
            f"__o=$( {command} 2>&1 ); __r=$?; printf %s \"$__o\" | base64 -w0; "
            "echo \" __tenantry_rc=$__r\""
        )
        try:
            res = self.cli.send_input(wrapped)
        except Exception as exc:
            raise classify(self.endpoint.name, exc, f"command {command!r}") from None
        text = res.result.strip()
        m = _RC.search(text)
        if m is None:
            raise DriverError(self.endpoint.name, f"no exit status from {command!r}: {text[:200]}")
        payload = text[: m.start()].strip().split()[-1:] or [""]
        try:
            out = base64.b64decode(payload[0]).decode(errors="replace")
        except ValueError:
            out = text[: m.start()]
        return int(m.group(1)), out

    def close(self) -> None:
        close_quietly(self.cli)


class LocalShell:
    """Shell commands on this host (the reconciler runs on the device, e.g. a Linux router)."""

    def __init__(self, endpoint: Endpoint, timeout_s: float = 30.0) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.sessions = 0

    def run(self, command: str) -> tuple[int, str]:
        try:
            res = subprocess.run(  # command lines are built with shlex.quote
                command, shell=True, capture_output=True, text=True, timeout=self.timeout_s
            )
        except subprocess.TimeoutExpired as exc:
            raise DriverError(self.endpoint.name, f"timeout: {command!r}") from exc
        return res.returncode, res.stdout + res.stderr

    def close(self) -> None:
        return None


def open_shell(
    transport: str, endpoint: Endpoint, credentials: Credentials | None, options: SshOptions
) -> CommandRunner:
    """A shell on the device: over SSH, or on this host when the reconciler runs there."""
    if transport == "local":
        return LocalShell(endpoint)
    return SshShell(endpoint, credentials, options)


class OverShell:
    """The open and close stages of a driver that runs commands in a shell on the device
    (Open vSwitch, FRR): over SSH, or on this host with transport "local"."""

    transport: str
    ssh: SshOptions

    def open(
        self, intent: Intent, credentials: Credentials | None, transcript: Transcript
    ) -> CommandRunner:
        shell = open_shell(self.transport, intent.endpoint, credentials, self.ssh)
        transcript.sessions += shell.sessions
        return shell

    def close(self, session: CommandRunner) -> None:
        session.close()


def check_transport(transport: str) -> str:
    if transport not in ("ssh", "local"):
        raise ValueError(f"transport must be ssh or local, not {transport!r}")
    return transport


def run_checked(
    shell: CommandRunner, device: str, command: str, temporary: re.Pattern[str], label: str = ""
) -> str:
    """Run one command line; a non-zero exit is a DriverError, temporary when the output
    matches `temporary` (the tool could not reach its daemon)."""
    rc, out = shell.run(command)
    if rc != 0:
        said = out.strip()[:500] or "no output"
        raise DriverError(
            device, f"{label or repr(command)} exited {rc}: {said}",
            temporary=bool(temporary.search(out)),
        )
    return out


def quote(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
