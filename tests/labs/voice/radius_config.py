"""Generate a private FreeRADIUS 3.2 configuration for the Wi-Fi lab tests.

The Debian package's /etc/freeradius/3.0 is copied and a small, checked set of edits is
applied (every edit asserts how often its anchor matched, so a changed upstream config fails
loudly). The package's files are never edited. Ports, the shared secret, the SQLite file and
the run directory come from the environment (`$ENV{...}`), so one generated config serves
several servers at once, each started with its own environment (see `radius_env`).

What the edits do, and why:
- radiusd.conf: paths under the lab directory; run as the invoking user (`freerad` could not
  write the lab's SQLite WAL files); `reject_delay` configurable (1 s by default upstream:
  brute-force damping, which would only slow the tests down).
- clients.conf: the stock 127.0.0.1 client with our secret.
- mods-available/sql: the SQLite driver on our file, enabled.
- sites default / inner-tunnel: listen on 127.0.0.1 only on our ports; MAC canonicalisation
  before the SQL lookup; "no VLAN, no access"; no radpostauth writes (they store even wrong
  passwords and a failed write turns an Accept into a Reject); the inner-tunnel reply (the
  VLAN) copied to the outer Accept for PEAP.
- mods-available/eap: a self-signed lab certificate instead of the root-only snakeoil key.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

PACKAGE_RADDB = Path("/etc/freeradius/3.0")

POLICY = r"""# tenantry policy (added file)
#
# MAC authentication: a shared device is stored under its RFC 3580 MAC
# (AA-BB-CC-DD-EE-FF) with Cleartext-Password := the same string and
# Calling-Station-Id == the same string. NASes send the MAC in many spellings;
# all are rewritten to the canonical form before the SQL lookup.
tenantry_mac_canon {
	rewrite_calling_station_id
	if (&User-Name && (&User-Name =~ /^${policy.mac-addr-regexp}$/i)) {
		update request {
			&User-Name := "%{toupper:%{1}-%{2}-%{3}-%{4}-%{5}-%{6}}"
		}
		if (&User-Password && (&User-Password =~ /^${policy.mac-addr-regexp}$/i)) {
			update request {
				&User-Password := "%{toupper:%{1}-%{2}-%{3}-%{4}-%{5}-%{6}}"
			}
		}
	}
}

# No VLAN, no access: an Accept without an occupier VLAN would land the client on
# the NAS's default VLAN, so it becomes a Reject.
tenantry_require_vlan {
	if (!&reply:Tunnel-Private-Group-Id) {
		update reply {
			&Reply-Message := "no occupier VLAN"
		}
		reject
	}
}
"""


class ConfigDrift(RuntimeError):
    """The package config no longer looks like the one these edits were written for."""


def _edit(raddb: Path, rel: str, old: str, new: str, count: int = 1) -> None:
    path = raddb / rel
    text = path.read_text()
    found = text.count(old)
    if found != count:
        raise ConfigDrift(f"{rel}: expected {count} x {old!r}, found {found}")
    path.write_text(text.replace(old, new))


def _listen_blocks(raddb: Path, rel: str) -> None:
    """IPv4 listeners → 127.0.0.1 on our ports; IPv6 listeners commented out."""
    path = raddb / rel
    lines = path.read_text().split("\n")
    out: list[str] = []
    i, v4, v6 = 0, 0, 0
    while i < len(lines):
        if lines[i] != "listen {":
            out.append(lines[i])
            i += 1
            continue
        depth, j = 0, i
        while True:
            depth += lines[j].count("{") - lines[j].count("}")
            if depth == 0:
                break
            j += 1
        block = lines[i : j + 1]
        if any(line.startswith("\tipv6addr = ::") for line in block):
            v6 += 1
            block = ["#tenantry# " + line for line in block]
        elif "\tipaddr = *" in block:
            v4 += 1
            env = (
                "TENANTRY_RADIUS_ACCT_PORT"
                if "\ttype = acct" in block
                else "TENANTRY_RADIUS_AUTH_PORT"
            )
            block = [
                "\tipaddr = 127.0.0.1"
                if line == "\tipaddr = *"
                else f"\tport = $ENV{{{env}}}"
                if line == "\tport = 0"
                else line
                for line in block
            ]
        out.extend(block)
        i = j + 1
    if (v4, v6) != (2, 2):
        raise ConfigDrift(f"{rel}: listen blocks v4={v4} v6={v6}, expected 2/2")
    path.write_text("\n".join(out))


def _no_postauth_sql(raddb: Path, rel: str) -> None:
    path = raddb / rel
    text = path.read_text()
    for section, old in (
        ("\npost-auth {\n", "\n\t-sql\n"),
        ("\tPost-Auth-Type REJECT {\n", "\n\t\t-sql\n"),
    ):
        a = text.index(section)
        b = text.index(old, a)
        text = (
            text[:b]
            + old.replace("-sql", "#-sql\t# tenantry: no radpostauth")
            + text[b + len(old) :]
        )
    path.write_text(text)


def build_raddb(dest: Path, *, reject_delay: int = 0, source: Path = PACKAGE_RADDB) -> Path:
    """Write a complete config directory at `dest` (replaced if present) and return it."""
    if not (source / "radiusd.conf").exists():
        raise FileNotFoundError(f"{source} missing: run scripts/setup-voice-labs.sh")
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest, symlinks=True)

    _edit(
        dest,
        "radiusd.conf",
        "raddbdir = /etc/freeradius/3.0",
        "raddbdir = $ENV{TENANTRY_RADIUS_RADDB}",
    )
    _edit(
        dest, "radiusd.conf", "logdir = /var/log/freeradius", "logdir = $ENV{TENANTRY_RADIUS_RUN}"
    )
    _edit(dest, "radiusd.conf", "run_dir = ${localstatedir}/run/${name}", "run_dir = ${logdir}")
    _edit(dest, "radiusd.conf", "\tuser = freerad", "#\tuser = freerad")
    _edit(dest, "radiusd.conf", "\tgroup = freerad", "#\tgroup = freerad")
    _edit(dest, "radiusd.conf", "\treject_delay = 1\n", f"\treject_delay = {int(reject_delay)}\n")

    _edit(
        dest,
        "clients.conf",
        "\n\tsecret = testing123\n",
        "\n\tsecret = $ENV{TENANTRY_RADIUS_SECRET}\n",
    )
    _edit(
        dest,
        "clients.conf",
        "\n\tsecret\t\t= testing123\n",
        "\n\tsecret\t\t= $ENV{TENANTRY_RADIUS_SECRET}\n",
    )

    _edit(dest, "mods-available/sql", 'driver = "rlm_sql_null"', 'driver = "rlm_sql_${dialect}"')
    _edit(
        dest,
        "mods-available/sql",
        'filename = "/tmp/freeradius.db"',
        'filename = "$ENV{TENANTRY_RADIUS_DB}"',
    )
    # the driver holds the write lock for one short transaction; give readers time
    _edit(dest, "mods-available/sql", "busy_timeout = 200", "busy_timeout = 2000")
    (dest / "mods-enabled" / "sql").symlink_to("../mods-available/sql")

    _edit(
        dest,
        "mods-available/eap",
        "private_key_file = /etc/ssl/private/ssl-cert-snakeoil.key",
        "private_key_file = ${certdir}/lab-server.key",
    )
    _edit(
        dest,
        "mods-available/eap",
        "certificate_file = /etc/ssl/certs/ssl-cert-snakeoil.pem",
        "certificate_file = ${certdir}/lab-server.pem",
    )
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=tenantry-radius-lab",
            "-keyout",
            str(dest / "certs" / "lab-server.key"),
            "-out",
            str(dest / "certs" / "lab-server.pem"),
        ],
        check=True,
        capture_output=True,
    )

    _listen_blocks(dest, "sites-available/default")
    path = dest / "sites-available/default"
    text = path.read_text()
    k = text.index("\n\t-sql\n")  # the first one is in authorize
    path.write_text(text[:k] + "\n\ttenantry_mac_canon" + text[k:])
    _edit(
        dest,
        "sites-available/default",
        "\tupdate {\n\t\t&reply: += &session-state:\n\t}\n",
        "\tupdate {\n\t\t&reply: += &session-state:\n\t}\n\ttenantry_require_vlan\n",
    )
    for site in ("sites-available/default", "sites-available/inner-tunnel"):
        _no_postauth_sql(dest, site)
    _edit(
        dest,
        "sites-available/inner-tunnel",
        "port = 18120",
        "port = $ENV{TENANTRY_RADIUS_INNER_PORT}",
    )
    _edit(dest, "sites-available/inner-tunnel", "\tif (0) {", "\tif (1) {")

    (dest / "policy.d" / "tenantry").write_text(POLICY)
    return dest


def create_db(path: Path, raddb: Path) -> None:
    """A fresh SQLite database with the package's own schema, in WAL mode so the server's
    reads never wait on the driver's writes."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    schema = raddb / "mods-config" / "sql" / "main" / "sqlite" / "schema.sql"
    con = sqlite3.connect(path)
    try:
        con.executescript(schema.read_text())
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()


def radius_env(
    raddb: Path, run: Path, db: Path, *, secret: str, auth: int, acct: int, inner: int
) -> dict[str, str]:
    """The environment one server instance is started with."""
    return {
        "TENANTRY_RADIUS_RADDB": str(raddb),
        "TENANTRY_RADIUS_RUN": str(run),
        "TENANTRY_RADIUS_DB": str(db),
        "TENANTRY_RADIUS_SECRET": secret,
        "TENANTRY_RADIUS_AUTH_PORT": str(auth),
        "TENANTRY_RADIUS_ACCT_PORT": str(acct),
        "TENANTRY_RADIUS_INNER_PORT": str(inner),
    }
