"""What the rules know besides the documents: the date, who asks, and recorded state."""

# Annotations are objects (no `from __future__ import annotations`): `reconciler.refs` says why.
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from reconciler.model.repo import Ref, Source

if TYPE_CHECKING:  # (P1's module: imported only where a change is measured)
    from reconciler.change import Change, State
else:  # what the fields' annotations name when it is not imported
    Change = State = object


# What a context holds when nothing was recorded: one empty mapping no one can fill.
NOTHING: Mapping[Any, Any] = MappingProxyType({})


class Context(NamedTuple):
    """What the rules know besides the documents: the day, who acts and approves, what the
    change touches, and what the ledger recorded. Another context is `_replace(...)`. (A
    named tuple: a frozen dataclass of these fields takes 1.2 ms to define at every
    start-up, a fiftieth of a `validate --changed-since` run.)"""

    today: date
    # The last date of the timeline the dated rules run on (S10); None: the last date of change.
    horizon: date | None = None
    actor: str | None = None
    # P1: who approved the change (pull-request reviewers); any of them may stand in for the
    # actor at a site they administer.
    approvers: frozenset[str] = frozenset()
    # Documents the change touches (a pull request against its base); None: all of them.
    changed: frozenset[Ref] | None = None
    # The state the change is measured from (reconciler.change.state of the base, or the one
    # the ledger recorded at the last apply); `validate.run_rules` turns it into `change`.
    base: State | None = None
    base_label: str = ""
    # Or the git ref whose fork point is the base: the shell measures the change once the repo
    # is loaded (`validate.measured`), reading from git only the files that differ since.
    base_ref: str | None = None
    # What the change adds, edits and deletes, and the sites each touches (P1); None: no base
    # is known and every document counts as added.
    change: Change | None = None
    # Services that existed before this change (ledger or base); None: unknown.
    existing_services: frozenset[str] | None = None
    # The definition and quantity each service line was last provisioned with (ledger), for
    # inactive definitions (S4, EngageIP: no more of them, no re-pointing to them).
    recorded_terms: Mapping[str, tuple[str, int]] = NOTHING
    # Numbers the ledger holds active per (occupier, site): with none declared, those the
    # first voice service activated automatically (T1) are in use too (S6 X, S7).
    active_numbers: Mapping[tuple[str, str], tuple[str, ...]] = NOTHING
    # Recorded statuses, from the ledger or the documents' `status` (kubectl).
    service_status: Mapping[str, str] = NOTHING
    occupier_phase: Mapping[str, str] = NOTHING
    # Documents of each occupier under decommission as they were when it started, by
    # "Kind/name" → hash (reconciler.decommission.fingerprints): any edit since is refused.
    fingerprints: Mapping[str, Mapping[str, str]] = NOTHING
    # The files whose findings are reported (incremental validation reports some files
    # only); None: every file.
    reported: frozenset[str] | None = None

    def touched(self, ref: Ref) -> bool:
        return self.changed is None or ref in self.changed

    def reports(self, source: Source | None) -> bool:
        """Whether findings at this document are reported. A rule may skip work whose
        findings could only be at a document that is not, such as a site's number blocks
        (T2: libphonenumber's metadata is a tenth of a second to load) when the site is only
        loaded for an occupier's change."""
        return self.reported is None or (source is not None and source.file in self.reported)

    @property
    def deciders(self) -> tuple[str, ...]:
        """The actor and the approvers: whoever of them is a site's admin speaks for it."""
        if self.actor is None:
            return ()
        return (self.actor, *sorted(self.approvers - {self.actor}))
