"""`python -m reconciler.model [--check]`: write (or check) core_schemas.py, the models' core
schemas compiled from their pydantic twins (`reconciler.model.twin`)."""

import sys

from reconciler.model.twin import main

raise SystemExit(main(sys.argv[1:]))
