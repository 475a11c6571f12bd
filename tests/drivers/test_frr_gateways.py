"""FRR gateway remediation, pure: round trips through a simulated running-config."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drivers.base import Endpoint, GatewayIntent, RouterIntent
from drivers.frr import Interface, gateway_remediation

EP = Endpoint("rtr", "frr", "127.0.0.1")
TEMPLATE = "vlan{vlan}"

addresses = st.sampled_from(["10.64.0.1/24", "10.64.1.1/24", "10.64.2.1/24"])
running_interfaces = st.dictionaries(
    st.sampled_from(["vlan100", "vlan101", "vlan102", "eth0", "lo"]),
    st.builds(
        Interface, st.frozensets(addresses, max_size=2), st.sampled_from(["", "acme", "old"])
    ),
    max_size=5,
)
intended = st.lists(
    st.builds(
        GatewayIntent,
        st.sampled_from([100, 101, 102]),
        addresses,
        st.sampled_from(["", "acme", "bravo"]),
    ),
    max_size=3,
    unique_by=lambda g: g.vlan,
)


def apply_lines(running: dict[str, Interface], lines: list[str]) -> dict[str, Interface]:
    """What zebra does with the remediation lines."""
    state = {k: (set(v.addresses), v.description) for k, v in running.items()}
    current = ""
    for line in lines:
        if line.startswith("interface "):
            current = line.split()[1]
            state.setdefault(current, (set(), ""))
        elif line.startswith("no ip address "):
            state[current][0].discard(line.split()[3])
        elif line.startswith("ip address "):
            state[current][0].add(line.split()[2])
        elif line == "no description":
            state[current] = (state[current][0], "")
        elif line.startswith("description "):
            state[current] = (state[current][0], line[len("description ") :])
    return {k: Interface(frozenset(a), d) for k, (a, d) in state.items()}


@given(running_interfaces, intended)
def test_frr_gateway_round_trip(running: dict[str, Interface], gws: list[GatewayIntent]) -> None:
    intent = RouterIntent(EP, (), tuple(gws))
    after = apply_lines(running, gateway_remediation(running, intent, TEMPLATE))
    for g in gws:
        assert after[f"vlan{g.vlan}"] == Interface(frozenset({g.address}), g.description)
    for name, interface in after.items():
        if name.startswith("vlan") and int(name[4:]) not in {g.vlan for g in gws}:
            assert interface == Interface()  # a released occupier's interface is stripped
        if not name.startswith("vlan"):
            assert interface == running[name]  # never touched
    assert gateway_remediation(after, intent, TEMPLATE) == []
