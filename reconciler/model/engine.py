"""pydantic-core's compiled module, the engine that validates the models, loaded on its own.

`import pydantic_core` also runs the package's Python half, which defines the TypedDicts of its
schema language (`core_schema`, with `typing_extensions`): a tenth of `tenantry validate`'s
start-up, none of it used to validate. The compiled module is loaded here as the package would
load it, under its own name (`pydantic_core._pydantic_core`), so that a later `import
pydantic_core` (pydantic, making JSON Schemas) finds it and the classes are the same objects.
Where the package is not laid out as expected, it is imported as usual.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

NAME = "pydantic_core._pydantic_core"


def _engine() -> ModuleType:
    loaded = sys.modules.get(NAME)
    if loaded is not None:
        return loaded
    package = importlib.util.find_spec("pydantic_core")  # found, not imported
    for folder in (package.submodule_search_locations or []) if package else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"_pydantic_core{suffix}"
            spec = importlib.util.spec_from_file_location(NAME, path)
            if not path.is_file() or spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[NAME] = module
            return module
    import pydantic_core._pydantic_core as imported

    return imported


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
    _core = _engine()
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
