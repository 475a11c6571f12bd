# ruff: noqa: E501, SIM115, RUF059
"""
API-semantics checks of the emulator, in-process (no kopf, no kubectl): raw REST via aiohttp,
plus the official `kubernetes` Python client (sync, run in a thread) for client compatibility.

Run: python selftest.py        -> prints one line per check and 'N passed, N failed'; exit 0 iff all pass.
"""

import asyncio
import json
import os
import sys
import tempfile
import time

import kmock
import kubernetes
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulator import Emulator, kubeconfig_text

HERE = os.path.dirname(os.path.abspath(__file__))
W = "/apis/example.com/v1/namespaces/default/widgets"
RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, cond: bool, info: object = "") -> None:
    RESULTS.append((name, bool(cond), "" if cond else str(info)[:400]))
    print(
        f"{'ok  ' if cond else 'FAIL'} {name}{'' if cond else '  -- ' + str(info)[:400]}",
        flush=True,
    )


async def req(emu, method, path, body=None, ctype="application/json", **kw):
    data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
    async with emu.request(
        method, path, data=data, headers={"Content-Type": ctype, **kw.pop("headers", {})}, **kw
    ) as r:
        text = await r.text()
        try:
            return r.status, json.loads(text), r.headers
        except ValueError:
            return r.status, text, r.headers


async def watch_collect(emu, path, n, timeout=3.0):
    events = []
    async with emu.get(path, timeout=None) as r:
        try:
            async with asyncio.timeout(timeout):
                async for line in r.content:
                    if line.strip():
                        events.append(json.loads(line))
                        if len(events) >= n:
                            break
        except TimeoutError:
            pass
    return events


async def main() -> int:
    crd = yaml.safe_load(open(os.path.join(HERE, "fixtures", "widget-crd.yaml")))
    async with Emulator(history_size=200) as emu, kmock.Server(emu, host="127.0.0.1") as srv:
        st, body, _ = await req(
            emu, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd
        )
        check(
            "CRD create -> 201 + Established",
            st == 201 and any(c["type"] == "Established" for c in body["status"]["conditions"]),
            body,
        )
        st, body, _ = await req(emu, "GET", "/apis/example.com/v1")
        names = {r["name"] for r in body.get("resources", [])}
        check(
            "discovery lists widgets + widgets/status", {"widgets", "widgets/status"} <= names, body
        )
        st, body, _ = await req(emu, "GET", "/apis")
        check(
            "discovery /apis has the CRD group",
            any(g["name"] == "example.com" for g in body["groups"]),
            body,
        )

        # --- create, validation, pruning, defaulting
        st, w1, _ = await req(
            emu,
            "POST",
            W,
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "w1", "labels": {"tier": "a"}},
                "spec": {"size": 1, "junk": "x"},
                "status": {"phase": "Fake"},
            },
        )
        check(
            "create 201, uid/rv/generation=1 set",
            st == 201 and w1["metadata"]["generation"] == 1 and w1["metadata"]["uid"],
            w1,
        )
        check("unknown fields pruned (spec.junk)", "junk" not in w1["spec"], w1)
        check("schema default applied (spec.color=green)", w1["spec"].get("color") == "green", w1)
        check("status dropped on create (status subresource)", "status" not in w1, w1)
        st, body, _ = await req(
            emu,
            "POST",
            W,
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "bad"},
                "spec": {"size": "big"},
            },
        )
        check(
            "schema violation -> 422 Invalid Status",
            st == 422
            and body["reason"] == "Invalid"
            and body["kind"] == "Status"
            and "spec.size" in body["message"],
            body,
        )
        st, body, _ = await req(
            emu,
            "POST",
            W,
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "bad"},
                "spec": {},
            },
        )
        check(
            'missing required -> 422 "Required value"',
            st == 422 and "spec.size: Required value" in body["message"],
            body,
        )
        st, body, _ = await req(emu, "POST", W, w1)
        check(
            "duplicate create -> 409 AlreadyExists",
            st == 409 and body["reason"] == "AlreadyExists",
            body,
        )
        st, body, _ = await req(
            emu,
            "POST",
            "/apis/example.com/v1/namespaces/nope/widgets",
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "x"},
                "spec": {"size": 1},
            },
        )
        check(
            "create in missing namespace -> 404",
            st == 404 and 'namespaces "nope" not found' in body["message"],
            body,
        )

        # --- resourceVersion, conflicts, generation
        rv1 = w1["metadata"]["resourceVersion"]
        st, w1b, _ = await req(
            emu,
            "PATCH",
            f"{W}/w1",
            {"metadata": {"labels": {"tier": "b"}}},
            "application/merge-patch+json",
        )
        check(
            "metadata-only patch: rv bumps, generation stays 1",
            st == 200
            and int(w1b["metadata"]["resourceVersion"]) > int(rv1)
            and w1b["metadata"]["generation"] == 1,
            w1b,
        )
        stale = json.loads(json.dumps(w1))
        stale["spec"]["size"] = 2
        st, body, _ = await req(emu, "PUT", f"{W}/w1", stale)
        check(
            "PUT with stale resourceVersion -> 409 Conflict",
            st == 409 and body["reason"] == "Conflict",
            body,
        )
        fresh = json.loads(json.dumps(w1b))
        fresh["spec"]["size"] = 2
        st, w1c, _ = await req(emu, "PUT", f"{W}/w1", fresh)
        check(
            "PUT with fresh rv: 200, generation -> 2",
            st == 200 and w1c["metadata"]["generation"] == 2,
            w1c,
        )
        st, body, _ = await req(
            emu,
            "PATCH",
            f"{W}/w1",
            {"metadata": {"resourceVersion": rv1}, "spec": {"size": 3}},
            "application/merge-patch+json",
        )
        check("merge-patch carrying a stale rv -> 409", st == 409, body)
        st, same, _ = await req(
            emu, "PATCH", f"{W}/w1", {"spec": {"size": 2}}, "application/merge-patch+json"
        )
        check(
            "no-op patch keeps resourceVersion",
            same["metadata"]["resourceVersion"] == w1c["metadata"]["resourceVersion"],
            same,
        )

        # --- status subresource
        st, w1d, _ = await req(
            emu,
            "PATCH",
            f"{W}/w1",
            {"status": {"phase": "Ignored"}, "spec": {"size": 4}},
            "application/merge-patch+json",
        )
        check(
            "main endpoint ignores status, applies spec",
            "status" not in w1d and w1d["spec"]["size"] == 4 and w1d["metadata"]["generation"] == 3,
            w1d,
        )
        st, w1e, _ = await req(
            emu,
            "PATCH",
            f"{W}/w1/status",
            {"status": {"phase": "Ready"}, "spec": {"size": 9}},
            "application/merge-patch+json",
        )
        check(
            "/status patch changes only status; generation unchanged",
            w1e["status"] == {"phase": "Ready"}
            and w1e["spec"]["size"] == 4
            and w1e["metadata"]["generation"] == 3,
            w1e,
        )
        put = json.loads(json.dumps(w1e))
        put["status"] = {"phase": "Done", "observedGeneration": 3}
        put["metadata"]["labels"] = {"tier": "zzz"}
        st, w1f, _ = await req(emu, "PUT", f"{W}/w1/status", put)
        check(
            "PUT /status: status replaced, labels untouched",
            st == 200
            and w1f["status"]["phase"] == "Done"
            and w1f["metadata"]["labels"] == {"tier": "b"},
            w1f,
        )
        st, body, _ = await req(
            emu,
            "PATCH",
            f"{W}/w1/status",
            {"status": {"observedGeneration": "x"}},
            "application/merge-patch+json",
        )
        check("/status is schema-validated too -> 422", st == 422, body)

        # --- JSON patch with test; strategic merge as merge
        rv = w1f["metadata"]["resourceVersion"]
        ops = [
            {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
            {"op": "add", "path": "/metadata/finalizers", "value": ["example.com/cleanup"]},
        ]
        st, w1g, _ = await req(emu, "PATCH", f"{W}/w1", ops, "application/json-patch+json")
        check(
            "json-patch with passing test op -> 200",
            st == 200 and w1g["metadata"]["finalizers"] == ["example.com/cleanup"],
            w1g,
        )
        st, body, _ = await req(emu, "PATCH", f"{W}/w1", ops, "application/json-patch+json")
        check("json-patch with failing test op -> 422 (kopf relies on it)", st == 422, body)
        st, w1h, _ = await req(
            emu,
            "PATCH",
            f"{W}/w1",
            {"metadata": {"annotations": {"a": "b"}}},
            "application/strategic-merge-patch+json",
        )
        check(
            "strategic-merge patch accepted (as merge)",
            st == 200 and w1h["metadata"]["annotations"] == {"a": "b"},
            w1h,
        )
        st, body, _ = await req(emu, "PATCH", f"{W}/w1", {"x": 1}, "text/plain")
        check("unknown patch type -> 415", st == 415, body)

        # --- watch with resourceVersion
        start_rv = w1h["metadata"]["resourceVersion"]
        await req(emu, "PATCH", f"{W}/w1", {"spec": {"size": 5}}, "application/merge-patch+json")
        ev = await watch_collect(emu, f"{W}?watch=true&resourceVersion={start_rv}", 1)
        check(
            "watch from rv replays later MODIFIED only",
            len(ev) == 1 and ev[0]["type"] == "MODIFIED" and ev[0]["object"]["spec"]["size"] == 5,
            ev,
        )
        ev = await watch_collect(emu, f"{W}?watch=true", 1)
        check("watch without rv starts with synthetic ADDED", ev and ev[0]["type"] == "ADDED", ev)

        # --- finalizers & deletionTimestamp
        st, d1, _ = await req(emu, "DELETE", f"{W}/w1")
        check(
            "delete with finalizer -> deletionTimestamp set, object kept, generation+1",
            st == 200
            and d1["metadata"].get("deletionTimestamp")
            and d1["metadata"]["generation"] == 5,
            d1,
        )
        st, body, _ = await req(
            emu,
            "PATCH",
            f"{W}/w1",
            {"metadata": {"finalizers": ["example.com/cleanup", "new/one"]}},
            "application/merge-patch+json",
        )
        check(
            "adding finalizers while deleting -> 422 Forbidden",
            st == 422 and "no new finalizers" in body["message"],
            body,
        )
        watcher = asyncio.create_task(
            watch_collect(
                emu, f"{W}?watch=true&resourceVersion={d1['metadata']['resourceVersion']}", 2
            )
        )
        await asyncio.sleep(0.2)
        st, body, _ = await req(
            emu,
            "PATCH",
            f"{W}/w1",
            {"metadata": {"finalizers": None}},
            "application/merge-patch+json",
        )
        st, body, _ = await req(emu, "GET", f"{W}/w1")
        check(
            "removing the last finalizer deletes the object",
            st == 404 and body["reason"] == "NotFound",
            body,
        )
        ev = await watcher
        check("watcher sees DELETED", [e["type"] for e in ev][-1:] == ["DELETED"], ev)

        # --- label & field selectors
        for n, tier in (("a1", "x"), ("a2", "y"), ("a3", "x")):
            await req(
                emu,
                "POST",
                W,
                {
                    "apiVersion": "example.com/v1",
                    "kind": "Widget",
                    "metadata": {"name": n, "labels": {"tier": tier}},
                    "spec": {"size": 1},
                },
            )
        st, body, _ = await req(emu, "GET", f"{W}?labelSelector=tier%3Dx")
        check(
            "labelSelector tier=x",
            [i["metadata"]["name"] for i in body["items"]] == ["a1", "a3"],
            body,
        )
        st, body, _ = await req(emu, "GET", f"{W}?labelSelector=tier%20notin%20(x),tier")
        check(
            'labelSelector "tier notin (x),tier"',
            [i["metadata"]["name"] for i in body["items"]] == ["a2"],
            body,
        )
        st, body, _ = await req(emu, "GET", f"{W}?fieldSelector=metadata.name%3Da2")
        check(
            "fieldSelector metadata.name=a2",
            [i["metadata"]["name"] for i in body["items"]] == ["a2"],
            body,
        )
        st, body, _ = await req(emu, "GET", f"{W}?fieldSelector=spec.size%3D1")
        check("unsupported CR field selector -> 400", st == 400, body)
        st, body, _ = await req(emu, "GET", f"{W}?limit=2")
        check(
            "limit/continue pagination",
            len(body["items"]) == 2 and body["metadata"].get("continue"),
            body,
        )
        st, body2, _ = await req(emu, "GET", f"{W}?limit=2&continue={body['metadata']['continue']}")
        check(
            "continue returns the rest",
            [i["metadata"]["name"] for i in body2["items"]] == ["a3"],
            body2,
        )
        st, body, _ = await req(
            emu, "GET", W, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
        )
        check(
            "Table output with printer columns",
            body.get("kind") == "Table"
            and [c["name"] for c in body["columnDefinitions"]][:3] == ["Name", "Size", "Phase"],
            body,
        )

        # --- in-process admission webhook (callable)
        seen = []

        def deny_big(review):
            seen.append(review["request"]["operation"])
            size = (review["request"].get("object") or {}).get("spec", {}).get("size", 0)
            return {"allowed": size <= 10, "status": {"code": 403, "message": f"size {size} > 10"}}

        emu.add_validating_webhook(
            "size.example.com",
            handler=deny_big,
            rules=[
                {
                    "apiGroups": ["example.com"],
                    "apiVersions": ["*"],
                    "resources": ["widgets"],
                    "operations": ["CREATE", "UPDATE"],
                }
            ],
        )
        st, body, _ = await req(
            emu,
            "POST",
            W,
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "big"},
                "spec": {"size": 11},
            },
        )
        check(
            "callable webhook denies with apiserver wording",
            st == 403
            and body["message"]
            == 'admission webhook "size.example.com" denied the request: size 11 > 10',
            body,
        )
        st, body, _ = await req(
            emu, "PATCH", f"{W}/a1", {"spec": {"size": 20}}, "application/merge-patch+json"
        )
        check("webhook also guards UPDATE", st == 403 and seen[-1] == "UPDATE", body)
        st, body, _ = await req(
            emu,
            "PATCH",
            f"{W}/a1/status",
            {"status": {"phase": "x"}},
            "application/merge-patch+json",
        )
        check(
            'rule "widgets" does not intercept widgets/status',
            st == 200 and seen[-1] == "UPDATE" and len(seen) == 2,
            (st, seen),
        )

        # --- ownerReferences GC, generateName, namespaces
        st, a1, _ = await req(emu, "GET", f"{W}/a1")
        st, cm, _ = await req(
            emu,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "generateName": "child-",
                    "ownerReferences": [
                        {
                            "apiVersion": "example.com/v1",
                            "kind": "Widget",
                            "name": "a1",
                            "uid": a1["metadata"]["uid"],
                        }
                    ],
                },
                "data": {"k": "v"},
            },
        )
        check(
            "generateName produces a name",
            st == 201 and cm["metadata"]["name"].startswith("child-"),
            cm,
        )
        await req(emu, "DELETE", f"{W}/a1")
        st, body, _ = await req(
            emu, "GET", f"/api/v1/namespaces/default/configmaps/{cm['metadata']['name']}"
        )
        check("owner deletion garbage-collects dependents", st == 404, body)
        await req(
            emu,
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tmp"}},
        )
        await req(
            emu,
            "POST",
            "/api/v1/namespaces/tmp/configmaps",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
        )
        await req(
            emu,
            "POST",
            "/apis/example.com/v1/namespaces/tmp/widgets",
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "held", "finalizers": ["x/y"]},
                "spec": {"size": 1},
            },
        )
        st, ns, _ = await req(emu, "DELETE", "/api/v1/namespaces/tmp")
        st2, c, _ = await req(emu, "GET", "/api/v1/namespaces/tmp/configmaps/c")
        st3, nso, _ = await req(emu, "GET", "/api/v1/namespaces/tmp")
        check(
            "namespace delete: contents go, ns Terminating while a finalizer holds",
            st2 == 404 and nso["status"]["phase"] == "Terminating",
            (st2, nso),
        )
        await req(
            emu,
            "PATCH",
            "/apis/example.com/v1/namespaces/tmp/widgets/held",
            {"metadata": {"finalizers": []}},
            "application/merge-patch+json",
        )
        st, body, _ = await req(emu, "GET", "/api/v1/namespaces/tmp")
        check("namespace disappears once empty", st == 404, body)

        # --- kmock's DSL still takes precedence (fault injection)
        (
            emu["get", kmock.resource("example.com", "v1", "widgets"), kmock.name("a2")]
            << 503
            << {"kind": "Status", "code": 503}
        )
        st, body, _ = await req(emu, "GET", f"{W}/a2")
        check("kmock reactions override the emulator (503 injected)", st == 503, body)
        check(
            "kmock.objects history kept",
            len(emu.objects["example.com/v1/widgets", "default", "a2"].history) >= 1,
        )

        # --- too old resourceVersion -> 410 via ERROR event
        for i in range(210):
            await req(
                emu,
                "PATCH",
                f"{W}/a3",
                {"metadata": {"annotations": {"n": str(i)}}},
                "application/merge-patch+json",
            )
        ev = await watch_collect(emu, f"{W}?watch=true&resourceVersion=2", 1)
        check(
            "watch from a compacted rv -> ERROR 410 Expired",
            ev and ev[0]["type"] == "ERROR" and ev[0]["object"]["code"] == 410,
            ev,
        )

        # --- the official kubernetes Python client against it
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(kubeconfig_text(str(srv.url).rstrip("/")))

        def sync_client():
            api = kubernetes.client.CustomObjectsApi(
                kubernetes.config.new_client_from_config(config_file=f.name)
            )
            obj = api.create_namespaced_custom_object(
                "example.com",
                "v1",
                "default",
                "widgets",
                {
                    "apiVersion": "example.com/v1",
                    "kind": "Widget",
                    "metadata": {"name": "py"},
                    "spec": {"size": 2},
                },
            )
            try:
                obj["spec"]["size"] = 3
                obj["metadata"]["resourceVersion"] = "1"
                api.replace_namespaced_custom_object(
                    "example.com", "v1", "default", "widgets", "py", obj
                )
                return obj, None
            except kubernetes.client.ApiException as e:
                return obj, e

        obj, exc = await asyncio.to_thread(sync_client)
        os.unlink(f.name)
        check(
            "kubernetes client: create ok, stale replace raises ApiException 409",
            obj["metadata"]["name"] == "py" and exc is not None and exc.status == 409,
            exc,
        )

    passed = sum(1 for _, ok, _ in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    t0 = time.monotonic()
    rc = asyncio.run(main())
    print(f"selftest took {time.monotonic() - t0:.2f}s")
    sys.exit(rc)
