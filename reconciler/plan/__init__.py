"""The planner, pure: needs (what each occupier needs today), allocation (a site state and the
pure allocators), intents (each device's intended state), pools (utilization and its
warning), changes (what each device will be told); planner.make_plan puts them together.

The public names are re-exported here, so `from reconciler.plan import make_plan` keeps
working; new code may import from the module that defines a name.
"""

from reconciler.plan.changes import DeviceChange, device_changes, items_of
from reconciler.plan.intents import intents
from reconciler.plan.needs import Need, needs, replaced
from reconciler.plan.planner import make_plan
from reconciler.plan.pools import POOL_WARNING, PoolUse, pool_usage, pool_warnings
from reconciler.plan.result import Intent, Plan

__all__ = [
    "POOL_WARNING",
    "DeviceChange",
    "Intent",
    "Need",
    "Plan",
    "PoolUse",
    "device_changes",
    "intents",
    "items_of",
    "make_plan",
    "needs",
    "pool_usage",
    "pool_warnings",
    "replaced",
]
