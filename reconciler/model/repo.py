"""The indexed set of all documents of a desired-state repo: what every rule reads."""

from __future__ import annotations

from collections import defaultdict

from reconciler.model.base import Document
from reconciler.model.kinds import Contract, Occupier, Service, ServiceDefinition, Site
from reconciler.refs import Ref as Ref  # where the other modules import them
from reconciler.refs import Source as Source

_TABLES = {
    "Site": "sites",
    "ServiceDefinition": "definitions",
    "Occupier": "occupiers",
    "Contract": "contracts",
    "Service": "services",
}


class Repo:
    """The desired state: every document by kind and name, where each came from, and the
    indexes and facts the rules share. (A plain class: `dataclass` compiles its methods
    at every start-up, 0.7 ms of a 55 ms `validate --changed-since` run.)"""

    def __init__(
        self,
        sites: dict[str, Site] | None = None,
        definitions: dict[str, ServiceDefinition] | None = None,
        occupiers: dict[str, Occupier] | None = None,
        contracts: dict[str, Contract] | None = None,
        services: dict[str, Service] | None = None,
        sources: dict[Ref, Source] | None = None,
    ) -> None:
        self.sites = {} if sites is None else sites
        self.definitions = {} if definitions is None else definitions
        self.occupiers = {} if occupiers is None else occupiers
        self.contracts = {} if contracts is None else contracts
        self.services = {} if services is None else services
        self.sources = {} if sources is None else sources
        # Indexes built once by `index()`; rules only read them.
        self.contracts_at: dict[tuple[str, str], list[Contract]] = {}
        self.services_at: dict[tuple[str, str], list[Service]] = {}
        self.contracts_of: dict[str, list[Contract]] = {}
        # Facts derived from the documents (statuses on a date, sites of an occupier),
        # computed once per repo by reconciler.catalogue: many rules ask the same question.
        self.memo: dict[tuple[object, ...], object] = {}

    def add(self, doc: Document, source: Source, replace: bool = False) -> Source | None:
        """Add a document; return the source of an earlier one of the same kind and name
        (kept, unless `replace`)."""
        table: dict[str, Document] = getattr(self, _TABLES[doc.kind])
        name = doc.metadata.name
        ref = Ref(doc.kind, name)
        earlier = self.sources.get(ref)
        if earlier is not None and not replace:
            return earlier
        table[name] = doc
        self.sources[ref] = source
        return earlier

    def drop(self, ref: Ref) -> None:
        """Remove a document (index() again before the rules read the repo)."""
        del getattr(self, _TABLES[ref.kind])[ref.name]
        del self.sources[ref]

    def copy(self) -> Repo:
        """Another repo of the same documents (index() it before use)."""
        return Repo(
            dict(self.sites),
            dict(self.definitions),
            dict(self.occupiers),
            dict(self.contracts),
            dict(self.services),
            dict(self.sources),
        )

    def index(self) -> Repo:
        contracts_at: defaultdict[tuple[str, str], list[Contract]] = defaultdict(list)
        contracts_of: defaultdict[str, list[Contract]] = defaultdict(list)
        for contract in self.contracts.values():
            contracts_at[contract.spec.occupier, contract.spec.site].append(contract)
            contracts_of[contract.spec.occupier].append(contract)
        services_at: defaultdict[tuple[str, str], list[Service]] = defaultdict(list)
        for service in self.services.values():
            services_at[service.spec.occupier, service.spec.site].append(service)
        self.contracts_at = dict(contracts_at)
        self.contracts_of = dict(contracts_of)
        self.services_at = dict(services_at)
        self.memo.clear()
        return self

    def get(self, ref: Ref) -> Document | None:
        """The document of that kind and name, if the repo has one."""
        table = _TABLES.get(ref.kind)
        return getattr(self, table).get(ref.name) if table is not None else None

    def source(self, doc: Document) -> Source | None:
        return self.sources.get(Ref(doc.kind, doc.name))

    def sites_of(self, occupier: str) -> list[str]:
        """Every site where the occupier has or had a contract, in a stable order."""
        key = ("sites_of", occupier)
        if key not in self.memo:
            self.memo[key] = sorted({c.spec.site for c in self.contracts_of.get(occupier, ())})
        return self.memo[key]  # type: ignore[return-value]

    def all_documents(self) -> list[Document]:
        out: list[Document] = []
        for table in (self.sites, self.definitions, self.occupiers, self.contracts, self.services):
            out.extend(table.values())
        return out
