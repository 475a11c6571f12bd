"""The models validate without pydantic, exactly as pydantic would validate them.

Each model's core schema is what pydantic makes of its twin (`reconciler.model.twin`),
compiled to Python (`core_schemas.py`) so that a command does not import pydantic. These tests
hold the compiled schemas to pydantic's, show that a command uses them, and that a model edited
since they were compiled is still validated as pydantic says (pydantic makes its schema then).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.model import base, core_schemas, kinds, twin

ROOT = Path(__file__).resolve().parent.parent

# Validates every bad-input case and the example repo, the models' schemas compiled or (with
# "edited") made by pydantic as when a model's file changed since they were compiled.
PROBE = """
import json, pathlib, sys, tempfile, types
if sys.argv[1] == "edited":  # core_schemas.py as compiled before an edit of the models
    stale = types.ModuleType("reconciler.model.core_schemas")
    stale.SOURCES, stale.SCHEMAS = "the digest of the files before the edit", {}
    sys.modules[stale.__name__] = stale
if sys.argv[1] == "missing":  # no core_schemas.py at all
    sys.modules["reconciler.model.core_schemas"] = None
from tests.test_corpus import CASES, materialize, run
from reconciler.model import base
said = {}
for case in CASES:
    with tempfile.TemporaryDirectory() as folder:
        done = run(materialize(case, pathlib.Path(folder)), *case.args)
        said[case.name] = [done.exit_code, done.output.replace(folder, "REPO")]
done = run(pathlib.Path("desired-state"))
said["desired-state"] = [done.exit_code, done.output]
import pydantic_core  # the package, after its engine was loaded alone
from reconciler.model import engine
print(json.dumps({"compiled": base._compiled() is not None, "said": said,
                  "pydantic": "pydantic" in sys.modules,
                  "one engine": pydantic_core.ValidationError is engine.ValidationError}))
"""


def test_the_compiled_schemas_are_current() -> None:
    assert not twin.stale(), "the models changed: run `python -m reconciler.model`"


@pytest.mark.parametrize("model", twin.specs(), ids=lambda m: m.__qualname__)
def test_each_compiled_schema_is_the_one_pydantic_makes(model: type[Any]) -> None:
    compiled = core_schemas.SCHEMAS[base.compiled_name(model)](model, base, kinds)
    assert compiled == twin.model_schema(model)
    assert base._compiled() is core_schemas  # what the models were built from


def test_every_model_is_compiled() -> None:
    assert {base.compiled_name(m) for m in twin.specs()} == set(core_schemas.SCHEMAS)
    assert {*kinds.KINDS.values()} <= {*twin.specs()}


def probe(mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_an_edited_model_or_a_missing_file_is_validated_as_the_compiled_one_would_be() -> None:
    compiled, edited, missing = probe("compiled"), probe("edited"), probe("missing")
    assert compiled["compiled"] and not compiled["pydantic"]
    for made_by_pydantic in (edited, missing):
        assert not made_by_pydantic["compiled"] and made_by_pydantic["pydantic"]
        assert made_by_pydantic["said"] == compiled["said"]
        assert made_by_pydantic["one engine"]
    assert compiled["one engine"]
    assert len(compiled["said"]) > 55
    codes = {code for code, _ in compiled["said"].values()}
    assert codes == {0, 1}  # findings were reported, and a valid repo passed


def test_a_model_validates_and_refuses_as_a_pydantic_dataclass_would() -> None:
    pool = kinds.PublicPool.model_validate(
        {"name": "main", "cidr": "203.0.113.0/24", "gateway": "203.0.113.1"}
    )
    assert pool == kinds.PublicPool(name="main", cidr="203.0.113.0/24", gateway="203.0.113.1")
    assert pool.model_dump(mode="json")["cidr"] == "203.0.113.0/24"
    assert str(pool.model_dump()["gateway"]) == "203.0.113.1"
    with pytest.raises(ValueError, match="Input is not a valid IPv4 network"):
        kinds.PublicPool(name="main", cidr="203.0.113.0/33", gateway="203.0.113.1")
    with pytest.raises(ValueError, match="an address is written as text"):
        kinds.PublicPool(name="main", cidr="203.0.113.0/24", gateway=3405803777)
    with pytest.raises(ValueError, match="Unexpected keyword argument"):
        kinds.QuantityRule.model_validate({"minimum": 1})
    spec = kinds.ServiceDefinitionSpec.model_validate(
        {"category": "internet", "description": "Internet", "cost": 5, "rrp": 10}
    )
    assert spec.quantity == kinds.QuantityRule()  # a model as a default


def test_a_model_behaves_as_a_frozen_dataclass() -> None:
    router = kinds.Router(name="r1", platform="frr", host="127.0.0.1")
    same = kinds.Router.model_validate({"name": "r1", "platform": "frr", "host": "127.0.0.1"})
    assert router == same and len({router, same}) == 1
    assert router != kinds.Telephony(name="r1", platform="frr", host="127.0.0.1")  # same fields
    assert router != kinds.Router(name="r1", platform="frr", host="127.0.0.1", port=2222)
    assert repr(router) == "Router(name='r1', platform='frr', host='127.0.0.1', port=None)"
    assert [field.name for field in dataclasses.fields(router)] == [*kinds.Router._names]
    with pytest.raises(dataclasses.FrozenInstanceError):
        router.host = "127.0.0.2"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del router.port
    assert pickle.loads(pickle.dumps(router)) == router
    assert copy.deepcopy(router) == router and copy.copy(router) is not router


def test_the_engine_is_imported_as_usual_where_the_package_is_laid_out_otherwise() -> None:
    probe = (
        "import importlib.machinery, sys\n"
        "importlib.machinery.EXTENSION_SUFFIXES[:] = ['.not-there']\n"
        "from reconciler.model import kinds\n"
        "router = kinds.Router(name='r1', platform='frr', host='h')\n"
        "print(router.host, 'pydantic_core' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["h", "True"]


def test_the_check_says_when_the_compiled_file_is_not_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "core_schemas.py"
    old.write_text(twin.render().replace("'type': 'str'", "'type': 'int'", 1))
    monkeypatch.setattr(twin, "COMPILED", old)
    assert twin.main(["--check"]) == 1
    assert "is not current: run `python -m reconciler.model`" in capsys.readouterr().err
    assert twin.main([]) == 0 and twin.main(["--check"]) == 0  # written, then current
    assert twin.main(["--chek"]) == 2
