"""Start a fake-switches Cisco IOS-style switch with SSH on 127.0.0.1 (lab switch for tests).

Run as a script: ``python fake_cisco.py --port N [--ports 4] [--hostname sw1] ...``; prints
``listening`` on stdout once the SSH port is bound, so a fixture can wait for it.

Why not the packaged `fake-switches` launcher: it passes the enable password as *bytes* to
``privileged_passwords``, while the `enable` prompt compares the typed *str* with it, so every
non-empty enable password is refused. Here the SSH user database gets bytes (Twisted's checker
wants bytes) and the enable list gets str. fake-switches 1.5.0 also lacks `end` in configuration
mode, which scrapli uses to leave it; one method on the (config) processor adds it (sub-modes
hand unknown words up to their parent). It also forgets `switchport voice vlan`; see below.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import warnings
from typing import Any

warnings.simplefilter("ignore")  # fake_switches emits DeprecationWarnings on import

from fake_switches import switch_factory  # noqa: E402
from fake_switches.cisco.command_processor.config import ConfigCommandProcessor  # noqa: E402
from fake_switches.switch_configuration import Port  # noqa: E402
from fake_switches.transports.ssh_service import SwitchSshService  # noqa: E402
from twisted.internet import reactor  # noqa: E402


def _add_ios_end_command() -> None:
    if not hasattr(ConfigCommandProcessor, "do_end"):

        def do_end(self: Any, *_: Any) -> None:
            self.is_done = True

        ConfigCommandProcessor.do_end = do_end


def _add_voice_vlan() -> None:
    """fake-switches accepts `switchport voice vlan N` silently and forgets it. Store it and
    show it in the running-config like IOS does, so the driver's verify step can see it."""
    from fake_switches.cisco.command_processor import enabled
    from fake_switches.cisco.command_processor.config_interface import (
        ConfigInterfaceCommandProcessor as Proc,
    )

    set_sw, unset_sw = Proc.do_switchport, Proc.do_no_switchport

    def do_switchport(self: Any, *args: str) -> None:
        if args[0:2] == ("voice", "vlan") and len(args) == 3:
            self.port.voice_vlan = int(args[2])
        else:
            set_sw(self, *args)

    def do_no_switchport(self: Any, *args: str) -> None:
        if args[0:2] == ("voice", "vlan"):
            self.port.voice_vlan = None
        else:
            unset_sw(self, *args)

    build = enabled.build_running_interface

    def build_running_interface(port: Any) -> list[str]:
        data: list[str] = build(port)
        voice = getattr(port, "voice_vlan", None)
        if voice:
            at = next((i + 1 for i, x in enumerate(data) if "switchport access vlan" in x), 1)
            data.insert(at, f" switchport voice vlan {voice}")
        return data

    Proc.do_switchport = do_switchport
    Proc.do_no_switchport = do_no_switchport
    enabled.build_running_interface = build_running_interface


def _add_test_faults(reject_vlans: set[int], drop_word: str) -> None:
    """Faults the driver tests need from a switch: refuse some access VLANs the way IOS
    refuses a command ("% Invalid input detected"), and drop the SSH session when a
    description contains `drop_word` (a switch reloading mid-change)."""
    from fake_switches.cisco.command_processor.config_interface import (
        ConfigInterfaceCommandProcessor as Proc,
    )

    set_sw, set_desc = Proc.do_switchport, Proc.do_description

    def do_switchport(self: Any, *args: str) -> None:
        if args[0:2] == ("access", "vlan") and len(args) == 3 and args[2].isdigit() \
                and int(args[2]) in reject_vlans:
            self.write_line("% Invalid input detected at '^' marker.")
            return
        set_sw(self, *args)

    def do_description(self: Any, *args: str) -> None:
        if drop_word and drop_word in " ".join(args):
            # an exception in a command handler makes fake-switches close the SSH session
            raise ConnectionAbortedError("test fault: session dropped")
        set_desc(self, *args)

    Proc.do_switchport = do_switchport
    Proc.do_description = do_description


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--listen-host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--hostname", default="sw-lab")
    p.add_argument("--username", default="admin")
    p.add_argument("--password", default="labpass")
    p.add_argument("--enable-password", default="labenable")
    p.add_argument("--ports", type=int, default=4, help="GigabitEthernet0/1..N")
    p.add_argument("--model", default="cisco_generic")
    p.add_argument("--reject-vlan", type=int, action="append", default=[],
                   help="refuse `switchport access vlan N` (test fault)")
    p.add_argument("--drop-word", default="", help="drop the session on this description")
    a = p.parse_args()
    if a.listen_host not in ("127.0.0.1", "::1"):
        sys.exit("refusing to listen outside loopback")
    logging.basicConfig(level=logging.WARNING)
    _add_ios_end_command()
    _add_voice_vlan()
    _add_test_faults(set(a.reject_vlan), a.drop_word)
    ports = [Port(f"GigabitEthernet0/{i}") for i in range(1, a.ports + 1)]
    core = switch_factory.SwitchFactory().get(
        a.model, hostname=a.hostname, password=a.enable_password, ports=ports
    )
    ssh = SwitchSshService(
        ip=a.listen_host, port=a.port, switch_core=core, users={a.username: a.password.encode()}
    )
    ssh.hook_to_reactor(reactor)
    signal.signal(signal.SIGTERM, lambda *_: reactor.callFromThread(reactor.stop))
    reactor.callWhenRunning(lambda: print("listening", flush=True))
    reactor.run()


if __name__ == "__main__":
    main()
