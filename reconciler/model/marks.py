"""The constraints written in the models' `Annotated` fields, named and called as pydantic's.

The models are declared with these rather than pydantic's own so that a command can build them
without importing pydantic (a fifth of `tenantry validate`'s start-up): at run time they are
only words in the annotations, and the validators come from the compiled core schemas
(`reconciler.model.core_schemas`). When pydantic generates those schemas, the JSON Schemas or
the CRDs, `reconciler.model.twin` gives pydantic each mark as pydantic's class of the same name
with the same arguments.
"""

from __future__ import annotations

from typing import Any


class Mark:
    """A constraint as written: pydantic's class of the same name, called the same way."""

    __slots__ = ("args", "kwargs")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    def __repr__(self) -> str:
        given = [repr(arg) for arg in self.args]
        given += [f"{name}={value!r}" for name, value in self.kwargs.items()]
        return f"{type(self).__name__}({', '.join(given)})"


class Field(Mark):
    """`pydantic.Field`: bounds, lengths, patterns, digits, an alias, a description."""


class StringConstraints(Mark):
    """`pydantic.StringConstraints`."""


class Strict(Mark):
    """`pydantic.Strict`: a value of the type itself ("2" is not 2)."""


class BeforeValidator(Mark):
    """`pydantic.BeforeValidator`: a function of the raw value, before the type's check."""


class AfterValidator(Mark):
    """`pydantic.AfterValidator`: a function of the checked value."""
