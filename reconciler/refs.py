"""How documents are named and where each came from: plain tuples, importable without the
models (a finding points at a Source; the forked parse makes findings without the models).

Annotations here are objects, not strings (no `from __future__ import annotations`): a named
tuple's string annotations are compiled, each, at every start-up, and the first `compile()`
of a process is 0.8 ms (it builds Python's AST types).
"""

from typing import NamedTuple


class Source(NamedTuple):
    """Where a document came from: the file and its position among the file's documents.
    (A named tuple, as Ref: one is made per document, and a frozen dataclass takes 0.7 ms
    to define at every start-up.)"""

    file: str
    index: int  # type: ignore[assignment]  # (the field, not tuple.index: never searched)


class Ref(NamedTuple):
    """A document by kind and name, as other documents refer to it. (A named tuple: one is
    made and hashed per document and per reference, hundreds of thousands per run.)"""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"
