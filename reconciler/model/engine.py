"""pydantic-core's compiled module, the engine that validates the models, loaded on its own
(`reconciler.native`): `import pydantic_core` also runs the package's Python half, which
defines the TypedDicts of its schema language (`core_schema`, with `typing_extensions`): a
tenth of `tenantry validate`'s start-up, none of it used to validate. Where the package is not
laid out as expected, it is imported as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.native import compiled

if TYPE_CHECKING:
    from pydantic_core import (
        ArgsKwargs,
        PydanticCustomError,
        PydanticSerializationUnexpectedValue,
        SchemaSerializer,
        SchemaValidator,
        ValidationError,
    )
    from pydantic_core import __version__ as version
else:
    _core = compiled("pydantic_core", "_pydantic_core")
    ArgsKwargs = _core.ArgsKwargs
    PydanticCustomError = _core.PydanticCustomError
    PydanticSerializationUnexpectedValue = _core.PydanticSerializationUnexpectedValue
    SchemaSerializer = _core.SchemaSerializer
    SchemaValidator = _core.SchemaValidator
    ValidationError = _core.ValidationError
    version = _core.__version__

__all__ = [
    "ArgsKwargs",
    "PydanticCustomError",
    "PydanticSerializationUnexpectedValue",
    "SchemaSerializer",
    "SchemaValidator",
    "ValidationError",
    "version",
]
