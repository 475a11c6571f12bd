"""Desired-state documents: one pydantic model per kind, plus the indexed Repo."""

from reconciler.model.base import API_VERSION, Document
from reconciler.model.kinds import (
    KINDS,
    Contract,
    Occupier,
    Service,
    ServiceDefinition,
    Site,
)
from reconciler.model.repo import Ref, Repo, Source

__all__ = [
    "API_VERSION",
    "KINDS",
    "Contract",
    "Document",
    "Occupier",
    "Ref",
    "Repo",
    "Service",
    "ServiceDefinition",
    "Site",
    "Source",
]
