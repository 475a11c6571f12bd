"""The emulator's own API-semantics checks (48, from the lab), in-process."""

from __future__ import annotations

import asyncio

import pytest


def test_emulator_selftest(capsys: pytest.CaptureFixture[str]) -> None:
    from . import selftest

    code = asyncio.run(selftest.main())
    out = capsys.readouterr().out
    assert code == 0, out
    assert "48 passed, 0 failed" in out


def test_impersonated_user_reaches_the_webhook() -> None:
    """`kubectl --as NAME` (Impersonate-User) becomes the AdmissionReview's userInfo.username:
    what P1 is checked against (a tenantry addition to the lab emulator)."""
    import json

    import kmock
    import yaml

    from .emulator import Emulator
    from .selftest import HERE

    seen: list[str] = []

    def hook(review: dict) -> dict:  # type: ignore[type-arg]
        seen.append(review["request"]["userInfo"]["username"])
        return {"allowed": True}

    async def run() -> None:
        with open(f"{HERE}/fixtures/widget-crd.yaml") as f:
            crd = yaml.safe_load(f)
        async with Emulator() as emu, kmock.Server(emu, host="127.0.0.1"):
            emu.add_validating_webhook(
                "who.example.com",
                handler=hook,
                rules=[
                    {
                        "apiGroups": ["example.com"],
                        "apiVersions": ["*"],
                        "resources": ["widgets"],
                        "operations": ["CREATE"],
                    }
                ],
            )
            path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
            async with emu.request("POST", path, data=json.dumps(crd)) as r:
                assert r.status == 201
            body = {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "w"},
                "spec": {"size": 1},
            }
            widgets = "/apis/example.com/v1/namespaces/default/widgets"
            headers = {"Content-Type": "application/json", "Impersonate-User": "alice"}
            async with emu.request("POST", widgets, data=json.dumps(body), headers=headers) as r:
                assert r.status == 201
            body["metadata"] = {"name": "w2"}
            async with emu.request(
                "POST", widgets, data=json.dumps(body), headers={"Content-Type": "application/json"}
            ) as r:
                assert r.status == 201

    asyncio.run(run())
    assert seen == ["alice", "kmock-admin"]
