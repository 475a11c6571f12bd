"""A package's compiled module, loaded without the package's Python half.

`import pydantic_core` defines the TypedDicts of its schema language (with
`typing_extensions`), `import yaml_rs` imports pathlib (with urllib.parse): start-up that a
`tenantry validate --changed-since` run pays for nothing it uses. The compiled module is loaded
as the package would load it, under its own name, so that a later import of the package finds
it and the classes are the same objects.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType


def compiled(package: str, name: str) -> ModuleType:
    """`package.name`, an extension module, loaded on its own; imported as usual (with the
    package) where the package is not laid out as expected."""
    qualified = f"{package}.{name}"
    loaded = sys.modules.get(qualified)
    if loaded is not None:
        return loaded
    found = importlib.util.find_spec(package)  # found, not imported
    for folder in (found.submodule_search_locations or []) if found else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, f"{name}{suffix}")
            spec = importlib.util.spec_from_file_location(qualified, path)
            if not os.path.isfile(path) or spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[qualified] = module
            return module
    return importlib.import_module(qualified)
