# ruff: noqa: E501, B904, RUF005, B007, SIM102, SIM401, E731, SIM117, SIM105
# (a copy of the proven lab emulator, kept close to it; style exceptions are listed above)
"""
A faithful-enough in-process Kubernetes API server emulator, built on kmock.

It subclasses ``kmock.KubernetesEmulator`` and keeps kmock's machinery (the
aiohttp server, request recording, the DSL of user reactions that take
precedence, discovery via ``emulator.resources``, object history via
``emulator.objects``), but replaces the simplistic object logic with
API-server semantics that operators (kopf) and kubectl depend on.

Run standalone::

    python emulator.py --port 0 --port-file run/port --kubeconfig run/kubeconfig

Or in-process (e.g. in pytest)::

    async with Emulator() as emu, kmock.Server(emu, host='127.0.0.1') as srv:
        emu.add_validating_webhook('name', handler=fn, rules=[...])
        ...  # point any client at str(srv.url)

See README.md for what is and is not faithful.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextvars
import copy
import datetime
import hashlib
import inspect
import json
import os
import re
import signal
import ssl
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp
import aiohttp.web
import attrs
import jsonpatch
import jsonschema
import kmock
import yaml
from kmock._internal import apps, parsing, rendering

# --------------------------------------------------------------------------------------------------
# kmock 0.8 gotcha: parse_path('/api/v1/namespaces') raises ValueError (tries to read a namespace
# name after "namespaces"), and '/api/v1/namespaces/NAME' is parsed as namespace=NAME, no plural.
# Request parsing happens before any handler, so every `kubectl get ns` would 500. Fix it here.
_orig_parse_path = parsing.parse_path


def _safe_parse_path(path: str) -> parsing.ParsedPath:
    parts = [p for p in path.strip("/").split("/") if p]
    if (
        len(parts) >= 3
        and parts[0] == "api"
        and parts[2] == "namespaces"
        and len(parts) in (3, 4, 5)
    ):
        if len(parts) <= 4 or parts[4] in ("status", "finalize"):
            return parsing.ParsedPath(
                group="",
                version=parts[1],
                plural="namespaces",
                namespace=None,
                name=parts[3] if len(parts) >= 4 else None,
                subresource=parts[4] if len(parts) == 5 else None,
            )
    try:
        return _orig_parse_path(path)
    except ValueError:
        return parsing.ParsedPath()


parsing.parse_path = _safe_parse_path

# tenantry: the user a request comes from. A real apiserver authenticates the caller; here the
# caller may name itself with `kubectl --as NAME` (the Impersonate-User header), which becomes
# the admission request's userInfo.username (P1 is checked against it). Default: `username`.
_REQUEST_USER: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_user", default=None
)

# --------------------------------------------------------------------------------------------------
# Errors rendered as Kubernetes Status objects.


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _gr(t: TypeInfo) -> str:
    return f"{t.plural}.{t.group}" if t.group else t.plural


def not_found(t: TypeInfo, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{_gr(t)} "{name}" not found',
        {"name": name, "group": t.group, "kind": t.plural},
    )


def conflict(t: TypeInfo, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_gr(t)} "{name}": the object has been '
        f"modified; please apply your changes to the latest version and try again",
        {"name": name, "group": t.group, "kind": t.plural},
    )


def invalid(t: TypeInfo, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """causes: [(reason, field, message)] -> 422 like the apiserver's field.ErrorList."""
    kind = f"{t.kind}.{t.group}" if t.group else t.kind
    msgs = [f"{field}: {msg}" if field else msg for _, field, msg in causes]
    text = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
    return ApiError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {text}',
        {
            "name": name,
            "group": t.group,
            "kind": t.kind,
            "causes": [{"reason": r, "message": m, "field": f} for r, f, m in causes],
        },
    )


def bad_request(msg: str) -> ApiError:
    return ApiError(400, "BadRequest", msg)


# --------------------------------------------------------------------------------------------------
# Helpers: time, selectors, patches, schemas, jsonpath.


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_duration(seconds: float) -> str:
    """Port of k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m" if s % 60 == 0 else f"{m}m{s % 60}s"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h" if m % 60 == 0 else f"{h}h{m % 60}m"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d" if h % 24 == 0 else f"{h // 24}d{h % 24}h"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        y = h // (24 * 365)
        d = (h // 24) % 365
        return f"{y}y" if d == 0 else f"{y}y{d}d"
    return f"{h // (24 * 365)}y"


_SEL_RE = re.compile(
    r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9_.-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$"
)


def parse_label_selector(text: str | None) -> list[tuple[str, str, list[str]]]:
    """'a=b,c!=d,e in (x,y),!f,g' -> [(key, op, values)]."""
    reqs: list[tuple[str, str, list[str]]] = []
    if not text:
        return reqs
    # split on commas that are not inside parentheses
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    parts.append(cur)
    for part in parts:
        if not part.strip():
            continue
        m = _SEL_RE.match(part)
        if not m:
            raise bad_request(f"unable to parse requirement: {part!r}")
        neg, key, eq, val, setop, setvals = m.groups()
        if neg:
            reqs.append((key, "!", []))
        elif eq:
            reqs.append((key, "!=" if eq == "!=" else "=", [val]))
        elif setop:
            reqs.append((key, setop, [v.strip() for v in setvals.split(",") if v.strip()]))
        else:
            reqs.append((key, "exists", []))
    return reqs


def match_labels(reqs: list[tuple[str, str, list[str]]], labels: dict | None) -> bool:
    labels = labels or {}
    for key, op, vals in reqs:
        present = key in labels
        if op == "=" and not (present and labels[key] == vals[0]):
            return False
        if op == "!=" and present and labels[key] == vals[0]:
            return False
        if op == "in" and not (present and labels[key] in vals):
            return False
        if op == "notin" and present and labels[key] in vals:
            return False
        if op == "exists" and not present:
            return False
        if op == "!" and present:
            return False
    return True


def match_label_selector_obj(selector: dict | None, labels: dict | None) -> bool:
    """metav1.LabelSelector (matchLabels/matchExpressions); empty/None selects everything."""
    if not selector:
        return True
    reqs = [(k, "=", [v]) for k, v in (selector.get("matchLabels") or {}).items()]
    opmap = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for e in selector.get("matchExpressions") or []:
        reqs.append((e["key"], opmap[e["operator"]], list(e.get("values") or [])))
    return match_labels(reqs, labels)


def parse_field_selector(text: str | None) -> list[tuple[str, str, str]]:
    out = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        m = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise bad_request(f"invalid selector: {part!r}; can't understand {part!r}")
        out.append((m.group(1), "!=" if m.group(2) == "!=" else "=", m.group(3)))
    return out


def dig(obj: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strip_directives(obj: Any) -> Any:
    """Strategic-merge-patch directives ($patch, $setElementOrder/...) are dropped: SMP ~ merge."""
    if isinstance(obj, dict):
        return {k: strip_directives(v) for k, v in obj.items() if not k.startswith("$")}
    if isinstance(obj, list):
        return [strip_directives(v) for v in obj]
    return obj


def kube_version_key(v: str) -> tuple:
    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", v)
    if not m:
        return (3, v)
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -major, -minor)


def to_jsonschema(s: Any) -> Any:
    """Convert a (structural) OpenAPI v3.0 schema as used in CRDs to a Draft-4 JSON schema."""
    if not isinstance(s, dict):
        return s
    out: dict[str, Any] = {}
    for k, v in s.items():
        if k in ("properties", "patternProperties", "definitions"):
            out[k] = {pk: to_jsonschema(pv) for pk, pv in v.items()}
        elif k in ("items", "additionalProperties", "not") and isinstance(v, dict):
            out[k] = to_jsonschema(v)
        elif k in ("allOf", "anyOf", "oneOf"):
            out[k] = [to_jsonschema(x) for x in v]
        elif k.startswith("x-kubernetes-") or k in (
            "nullable",
            "example",
            "externalDocs",
            "default",
            "format",
        ):
            continue
        else:
            out[k] = v
    if s.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    if s.get("nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]
    return out


def prune(obj: Any, schema: dict | None, root: bool = False) -> Any:
    """Structural-schema pruning of unknown fields, as kube-apiserver does for CRs."""
    if not isinstance(schema, dict):
        return obj
    if isinstance(obj, dict):
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields")
        embedded = schema.get("x-kubernetes-embedded-resource")
        for key in list(obj):
            if root and key in ("apiVersion", "kind", "metadata"):
                continue
            if embedded and key in ("apiVersion", "kind", "metadata"):
                continue
            if props is not None and key in props:
                obj[key] = prune(obj[key], props[key])
            elif isinstance(addl, dict):
                obj[key] = prune(obj[key], addl)
            elif addl is True or preserve:
                continue
            else:
                del obj[key]
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        return [prune(x, schema["items"]) for x in obj]
    return obj


def apply_defaults(obj: Any, schema: dict | None) -> Any:
    if not isinstance(schema, dict):
        return obj
    if isinstance(obj, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key not in obj and isinstance(sub, dict) and "default" in sub:
                obj[key] = copy.deepcopy(sub["default"])
            if key in obj:
                obj[key] = apply_defaults(obj[key], sub)
        addl = schema.get("additionalProperties")
        if isinstance(addl, dict):
            for key in obj:
                obj[key] = apply_defaults(obj[key], addl)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(x, schema["items"]) for x in obj]
    return obj


def _field_path(path: Any) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def schema_causes(
    validator: jsonschema.protocols.Validator, obj: dict
) -> list[tuple[str, str, str]]:
    """Run jsonschema and word the errors roughly the way kube-apiserver does."""
    causes = []
    for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        field = _field_path(e.absolute_path)
        val = json.dumps(e.instance)
        if e.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", e.message)
            f = f"{field}.{missing[0]}" if field and missing else (missing[0] if missing else field)
            causes.append(("FieldValueRequired", f, "Required value"))
        elif e.validator == "type":
            exp = (
                e.validator_value
                if isinstance(e.validator_value, str)
                else "/".join(e.validator_value)
            )
            actual = {
                dict: "object",
                list: "array",
                str: "string",
                bool: "boolean",
                type(None): "null",
            }.get(type(e.instance), "integer" if isinstance(e.instance, int) else "number")
            causes.append(
                (
                    "FieldValueTypeInvalid",
                    field,
                    f'Invalid value: "{actual}": {field} in body must be of type {exp}: "{actual}"',
                )
            )
        elif e.validator == "enum":
            causes.append(
                (
                    "FieldValueNotSupported",
                    field,
                    f"Unsupported value: {val}: supported values: "
                    + ", ".join(json.dumps(v) for v in e.validator_value),
                )
            )
        elif e.validator in ("maximum", "minimum"):
            word = "less" if e.validator == "maximum" else "greater"
            causes.append(
                (
                    "FieldValueInvalid",
                    field,
                    f"Invalid value: {val}: {field} in body should be "
                    f"{word} than or equal to {e.validator_value}",
                )
            )
        elif e.validator == "pattern":
            causes.append(
                (
                    "FieldValueInvalid",
                    field,
                    f"Invalid value: {val}: {field} in body should match '{e.validator_value}'",
                )
            )
        else:
            causes.append(
                ("FieldValueInvalid", field, f"Invalid value: {val}: {field} in body: {e.message}")
            )
    return causes


def jsonpath_eval(obj: Any, expr: str) -> list[Any]:
    """Tiny JSONPath for printer columns: .a.b, .a[0], .a[*].b, .a[?(@.k=="v")].b"""
    expr = expr.strip()
    if expr.startswith("{") and expr.endswith("}"):
        expr = expr[1:-1]
    if expr.startswith("$"):
        expr = expr[1:]
    tokens = re.findall(
        r'\.([A-Za-z0-9_\-/]+)|\[(\d+|\*|\?\(@\.([A-Za-z0-9_]+)\s*==\s*["\']?([^"\')]*)["\']?\))\]',
        expr,
    )
    cur = [obj]
    for key, idx, fkey, fval in tokens:
        nxt = []
        for c in cur:
            if key:
                if isinstance(c, dict) and key in c:
                    nxt.append(c[key])
            elif idx == "*":
                nxt.extend(
                    c if isinstance(c, list) else (c.values() if isinstance(c, dict) else [])
                )
            elif idx.isdigit():
                if isinstance(c, list) and int(idx) < len(c):
                    nxt.append(c[int(idx)])
            elif fkey:
                nxt.extend(
                    x
                    for x in (c if isinstance(c, list) else [])
                    if isinstance(x, dict) and str(x.get(fkey)) == fval
                )
        cur = nxt
    return cur


# --------------------------------------------------------------------------------------------------
# Type registry.


@attrs.define
class TypeInfo:
    group: str
    plural: str
    kind: str
    namespaced: bool
    versions: list[str]  # served versions
    storage_version: str
    singular: str = ""
    list_kind: str = ""
    shortnames: list[str] = attrs.field(factory=list)
    categories: list[str] = attrs.field(factory=list)
    status_subresource: bool = False
    custom: bool = False
    schemas: dict[str, dict] = attrs.field(factory=dict)  # version -> openAPIV3Schema
    validators: dict[str, Any] = attrs.field(factory=dict)
    columns: dict[str, list[dict]] = attrs.field(factory=dict)
    verbs: list[str] = attrs.field(
        factory=lambda: [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
    )

    def resource(self, version: str | None = None) -> kmock.resource:
        return kmock.resource(self.group, version or self.storage_version, self.plural)

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version


@attrs.define
class Webhook:
    name: str
    rules: list[dict]
    handler: Callable[[dict], Any] | None = None
    url: str | None = None
    ca_bundle: bytes | None = None
    failure_policy: str = "Fail"
    timeout: float = 10.0
    namespace_selector: dict | None = None
    object_selector: dict | None = None
    source: str | None = None  # name of the ValidatingWebhookConfiguration it came from
    # The name the server's certificate must carry: for a `service` reference
    # `<name>.<namespace>.svc`, as the apiserver checks it, though the call goes to 127.0.0.1.
    server_hostname: str | None = None

    def matches(self, t: TypeInfo, version: str, op: str, subresource: str | None) -> bool:
        res = f"{t.plural}/{subresource}" if subresource else t.plural
        for rule in self.rules:
            ops, groups = rule.get("operations") or ["*"], rule.get("apiGroups") or ["*"]
            versions, resources = rule.get("apiVersions") or ["*"], rule.get("resources") or ["*"]
            scope = rule.get("scope", "*")
            if "*" not in ops and op not in ops:
                continue
            if "*" not in groups and t.group not in groups:
                continue
            if "*" not in versions and version not in versions:
                continue
            if (scope == "Namespaced" and not t.namespaced) or (scope == "Cluster" and t.namespaced):
                continue
            ok = False
            for r in resources:
                if (
                    r in (res, "*/*")
                    or (r == "*" and not subresource)
                    or (r.endswith("/*") and r[:-2] == t.plural and subresource)
                    or (r.startswith("*/") and r[2:] == subresource)
                ):
                    ok = True
            if ok:
                return True
        return False


@attrs.define(eq=False)
class Watcher:
    t: TypeInfo
    version: str
    namespace: str | None
    labels: list
    fields: list
    queue: asyncio.Queue = attrs.field(factory=asyncio.Queue)


# --------------------------------------------------------------------------------------------------
# The emulator.


@attrs.define(kw_only=True)
class Emulator(kmock.KubernetesEmulator):
    """kmock's KubernetesEmulator with API-server semantics. See module docstring."""

    history_size: int = 10000
    server_version: str = (
        "1.36.0"  # reported by /version; kubectl warns on a skew of more than one minor
    )
    username: str = "kmock-admin"
    _rv: int = attrs.field(default=0, init=False)
    _types: dict[tuple[str, str], TypeInfo] = attrs.field(factory=dict, init=False)
    _events: deque = attrs.field(init=False, default=None)
    _compacted_rv: int = attrs.field(default=0, init=False)
    _watchers: set = attrs.field(factory=set, init=False)
    _webhooks: list[Webhook] = attrs.field(factory=list, init=False)
    _started: float = attrs.field(factory=lambda: datetime.datetime.now().timestamp(), init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self._events = deque(maxlen=self.history_size)
        self.resources.load_bundled()  # builtin discovery (a K3s snapshot shipped with kmock)
        for res in list(self.resources):
            info = self.resources[res]
            if res.plural is None or info.kind is None:
                continue
            key = (res.group, res.plural)
            if key in self._types:
                self._types[key].versions.append(res.version)
                continue
            self._types[key] = TypeInfo(
                group=res.group,
                plural=res.plural,
                kind=info.kind,
                namespaced=bool(info.namespaced),
                versions=[res.version],
                storage_version=res.version,
                singular=info.singular or "",
                list_kind=f"{info.kind}List",
                shortnames=sorted(info.shortnames),
                categories=sorted(info.categories),
                status_subresource="status" in info.subresources,
                verbs=sorted(info.verbs),
            )
        for t in self._types.values():
            t.versions.sort(key=kube_version_key)
            t.storage_version = t.versions[0]
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self._store_new(
                self._types["", "namespaces"],
                None,
                ns,
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
            )

    # ---------------------------------------------------------------- public API

    def add_validating_webhook(
        self,
        name: str,
        *,
        rules: list[dict],
        handler: Callable | None = None,
        url: str | None = None,
        ca_bundle: bytes | str | None = None,
        failure_policy: str = "Fail",
        timeout: float = 10.0,
        namespace_selector: dict | None = None,
        object_selector: dict | None = None,
    ) -> Webhook:
        """Register a validating admission webhook: an in-process callable or an http(s) URL.

        The callable gets an AdmissionReview (admission.k8s.io/v1) dict and returns either an
        AdmissionReview, its ``response`` dict, or a bool; it may be sync or async.
        """
        if (handler is None) == (url is None):
            raise ValueError("exactly one of handler= or url= is required")
        if isinstance(ca_bundle, str):
            ca_bundle = ca_bundle.encode()
        hook = Webhook(
            name=name,
            rules=rules,
            handler=handler,
            url=url,
            ca_bundle=ca_bundle,
            failure_policy=failure_policy,
            timeout=timeout,
            namespace_selector=namespace_selector,
            object_selector=object_selector,
        )
        self._webhooks.append(hook)
        return hook

    def get_object(self, group: str, plural: str, namespace: str | None, name: str) -> dict | None:
        t = self._types.get((group, plural))
        raw = self._current(t, namespace, name) if t else None
        return copy.deepcopy(raw) if raw else None

    @property
    def resource_version(self) -> int:
        return self._rv

    # ---------------------------------------------------------------- storage primitives

    def _key(self, t: TypeInfo, ns: str | None, name: str) -> tuple:
        return (t.resource(), ns if t.namespaced else None, name)

    def _current(self, t: TypeInfo, ns: str | None, name: str) -> dict | None:
        key = self._key(t, ns, name)
        if key not in self._objects:
            return None
        obj = self._objects[key]
        return None if obj.deleted else obj.raw

    def _all(self, t: TypeInfo, ns: str | None) -> list[dict]:
        res = t.resource()
        out = []
        for (r, ons, _), obj in self._objects.items():
            if r == res and not obj.deleted and (ns is None or ons == ns):
                out.append(obj.raw)
        return sorted(
            out, key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"])
        )

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _emit(self, t: TypeInfo, etype: str, obj: dict, old: dict | None) -> None:
        ev = (
            int(obj["metadata"]["resourceVersion"]),
            t,
            etype,
            copy.deepcopy(obj),
            copy.deepcopy(old),
        )
        if len(self._events) == self._events.maxlen:
            self._compacted_rv = self._events[0][0]
        self._events.append(ev)
        for w in list(self._watchers):
            if (w.t.group, w.t.plural) == (t.group, t.plural):
                w.queue.put_nowait(ev)

    def _store_new(self, t: TypeInfo, ns: str | None, name: str, obj: dict) -> dict:
        meta = obj.setdefault("metadata", {})
        meta["name"] = name
        if t.namespaced:
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        meta["generation"] = 1
        meta["resourceVersion"] = self._next_rv()
        key = self._key(t, ns, name)
        if key in self._objects:
            self._objects[key].create(obj)
        else:
            self._objects[key] = obj
        self._emit(t, "ADDED", obj, None)
        return obj

    def _store_update(self, t: TypeInfo, old: dict, new: dict) -> dict:
        meta = new["metadata"]
        ns, name = meta.get("namespace"), meta["name"]
        if (
            meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and (t.group, t.plural) != ("", "namespaces")
        ):
            return self._store_delete(t, new)
        meta["resourceVersion"] = self._next_rv()
        self._objects[self._key(t, ns, name)].history.append(new)
        self._emit(t, "MODIFIED", new, old)
        return new

    def _store_delete(self, t: TypeInfo, obj: dict) -> dict:
        meta = obj["metadata"]
        ns, name = meta.get("namespace"), meta["name"]
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = self._next_rv()
        key = self._key(t, ns, name)
        self._objects[key].history.append(obj)
        self._objects[key].delete()
        self._emit(t, "DELETED", obj, None)
        self._after_delete(t, obj)
        return obj

    def _after_delete(self, t: TypeInfo, obj: dict) -> None:
        """Background garbage collection of dependents; namespace finalization; CRD cleanup."""
        uid = obj["metadata"]["uid"]
        for (res, ons, oname), o in list(self._objects.items()):
            if o.deleted:
                continue
            refs = o.raw.get("metadata", {}).get("ownerReferences") or []
            if any(r.get("uid") == uid for r in refs):
                dt = self._types.get((res.group, res.plural))
                if dt is not None and not o.raw["metadata"].get("deletionTimestamp"):
                    self._mark_deleted(dt, o.raw)
        ns = obj["metadata"].get("namespace")
        if ns:
            self._maybe_finish_namespace(ns)
        if t.group == "apiextensions.k8s.io" and t.plural == "customresourcedefinitions":
            self._unregister_crd(obj)
        if (
            t.group == "admissionregistration.k8s.io"
            and t.plural == "validatingwebhookconfigurations"
        ):
            self._webhooks = [w for w in self._webhooks if w.source != obj["metadata"]["name"]]

    def _mark_deleted(self, t: TypeInfo, cur: dict) -> dict:
        """DELETE semantics: finalizers -> deletionTimestamp (+generation); else remove at once."""
        meta = cur["metadata"]
        if meta.get("deletionTimestamp"):
            return cur
        fins = meta.get("finalizers") or []
        if t.group == "" and t.plural == "namespaces":
            new = copy.deepcopy(cur)
            new["metadata"]["deletionTimestamp"] = now_rfc3339()
            new.setdefault("status", {})["phase"] = "Terminating"
            new = self._store_update(t, cur, new)
            name = meta["name"]
            for ot in list(self._types.values()):
                if ot.namespaced:
                    for o in self._all(ot, name):
                        self._mark_deleted(ot, o)
            self._maybe_finish_namespace(name)
            return self._current(t, None, name) or new
        if fins:
            new = copy.deepcopy(cur)
            new["metadata"]["deletionTimestamp"] = now_rfc3339()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            if new["metadata"].get("generation"):
                new["metadata"]["generation"] += 1
            return self._store_update(t, cur, new)
        return self._store_delete(t, cur)

    def _maybe_finish_namespace(self, ns: str) -> None:
        nt = self._types["", "namespaces"]
        cur = self._current(nt, None, ns)
        if not cur or not cur["metadata"].get("deletionTimestamp"):
            return
        for ot in self._types.values():
            if ot.namespaced and self._all(ot, ns):
                return
        self._store_delete(nt, cur)

    # ---------------------------------------------------------------- CRDs

    def _register_crd(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group, plural = spec["group"], names["plural"]
        old = self._types.get((group, plural))
        served = [v for v in spec.get("versions") or [] if v.get("served", True)]
        storage = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
        t = TypeInfo(
            group=group,
            plural=plural,
            kind=names["kind"],
            namespaced=spec.get("scope") == "Namespaced",
            versions=[v["name"] for v in served],
            storage_version=storage[0] if storage else served[0]["name"],
            singular=names.get("singular") or names["kind"].lower(),
            list_kind=names.get("listKind") or f"{names['kind']}List",
            shortnames=list(names.get("shortNames") or []),
            categories=list(names.get("categories") or []),
            custom=True,
        )
        top = spec.get("validation", {}).get("openAPIV3Schema")
        top_sub = spec.get("subresources") or {}
        for v in spec.get("versions") or []:
            schema = (v.get("schema") or {}).get("openAPIV3Schema") or top
            if schema:
                t.schemas[v["name"]] = schema
                t.validators[v["name"]] = jsonschema.Draft4Validator(to_jsonschema(schema))
            t.columns[v["name"]] = (
                v.get("additionalPrinterColumns") or spec.get("additionalPrinterColumns") or []
            )
            if "status" in (v.get("subresources") or top_sub):
                t.status_subresource = True
        if old is not None and old.custom and old.storage_version != t.storage_version:
            # Re-key stored objects under the new storage version (no conversion: strategy None).
            for key in [k for k in self._objects if k[0] == old.resource()]:
                self._objects._objects[(t.resource(), key[1], key[2])] = self._objects._objects.pop(
                    key
                )
        if old is not None:
            t_watchers = [w for w in self._watchers if w.t is old]
            for w in t_watchers:
                w.t = t
            for v in old.versions:
                self.resources.pop(old.resource(v), None)
        self._types[group, plural] = t
        for v in t.versions:
            self.resources[t.resource(v)] = kmock.ResourceInfo(
                namespaced=t.namespaced,
                kind=t.kind,
                singular=t.singular,
                verbs=set(t.verbs),
                shortnames=set(t.shortnames),
                categories=set(t.categories),
                subresources={"status"} if t.status_subresource else set(),
            )

    def _unregister_crd(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        key = (spec.get("group"), (spec.get("names") or {}).get("plural"))
        t = self._types.pop(key, None)
        if t is None:
            return
        for o in self._all(
            t, None
        ):  # real k8s deletes the CRs first (customresourcecleanup finalizer)
            self._store_delete(t, o)
        for v in t.versions:
            self.resources.pop(t.resource(v), None)

    def _crd_checks(self, crd: dict) -> list[tuple[str, str, str]]:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        causes = []
        if not spec.get("group"):
            causes.append(("FieldValueRequired", "spec.group", "Required value"))
        if not names.get("plural"):
            causes.append(("FieldValueRequired", "spec.names.plural", "Required value"))
        if not names.get("kind"):
            causes.append(("FieldValueRequired", "spec.names.kind", "Required value"))
        if spec.get("scope") not in ("Namespaced", "Cluster"):
            causes.append(
                (
                    "FieldValueNotSupported",
                    "spec.scope",
                    f'Unsupported value: {json.dumps(spec.get("scope"))}: supported values: "Cluster", "Namespaced"',
                )
            )
        versions = spec.get("versions") or []
        if not versions:
            causes.append(
                (
                    "FieldValueInvalid",
                    "spec.versions",
                    "Invalid value: null: must have exactly one version marked as storage version",
                )
            )
        elif sum(1 for v in versions if v.get("storage")) != 1:
            causes.append(
                (
                    "FieldValueInvalid",
                    "spec.versions",
                    f"Invalid value: {json.dumps(versions)}: must have exactly one version marked as storage version",
                )
            )
        if (
            spec.get("group")
            and names.get("plural")
            and crd["metadata"]["name"] != f"{names['plural']}.{spec['group']}"
        ):
            causes.append(
                (
                    "FieldValueInvalid",
                    "metadata.name",
                    f'Invalid value: "{crd["metadata"]["name"]}": must be spec.names.plural+"."+spec.group',
                )
            )
        for i, v in enumerate(versions):
            schema = (v.get("schema") or {}).get("openAPIV3Schema")
            if schema is None:
                causes.append(
                    (
                        "FieldValueRequired",
                        f"spec.versions[{i}].schema.openAPIV3Schema",
                        "Required value: schemas are required",
                    )
                )
            else:
                try:
                    jsonschema.Draft4Validator.check_schema(to_jsonschema(schema))
                except jsonschema.SchemaError as e:
                    causes.append(
                        (
                            "FieldValueInvalid",
                            f"spec.versions[{i}].schema.openAPIV3Schema",
                            f"Invalid value: {e.message}",
                        )
                    )
        return causes

    @staticmethod
    def _crd_status(crd: dict) -> None:
        spec = crd.get("spec") or {}
        now = now_rfc3339()
        crd["status"] = {
            "acceptedNames": copy.deepcopy(spec.get("names") or {}),
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "reason": "NoConflicts",
                    "message": "no conflicts found",
                    "lastTransitionTime": now,
                },
                {
                    "type": "Established",
                    "status": "True",
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                    "lastTransitionTime": now,
                },
            ],
            "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")],
        }

    def _sync_webhook_config(self, cfg: dict) -> None:
        name = cfg["metadata"]["name"]
        self._webhooks = [w for w in self._webhooks if w.source != name]
        for wh in cfg.get("webhooks") or []:
            cc = wh.get("clientConfig") or {}
            url = cc.get("url")
            hostname = None
            if not url and cc.get("service"):
                svc = cc["service"]  # no Service networking here: use the port on 127.0.0.1
                url = f"https://127.0.0.1:{svc.get('port', 443)}{svc.get('path', '')}"
                hostname = f"{svc['name']}.{svc['namespace']}.svc"
            if not url:
                continue
            ca = base64.b64decode(cc["caBundle"]) if cc.get("caBundle") else None
            self._webhooks.append(
                Webhook(
                    name=wh["name"],
                    rules=wh.get("rules") or [],
                    url=url,
                    ca_bundle=ca,
                    failure_policy=wh.get("failurePolicy", "Fail"),
                    timeout=float(wh.get("timeoutSeconds", 10)),
                    namespace_selector=wh.get("namespaceSelector"),
                    object_selector=wh.get("objectSelector"),
                    source=name,
                    server_hostname=hostname,
                )
            )

    # ---------------------------------------------------------------- admission

    async def _admit(
        self,
        t: TypeInfo,
        version: str,
        op: str,
        subresource: str | None,
        ns: str | None,
        name: str,
        obj: dict | None,
        old: dict | None,
        dry_run: bool,
    ) -> list[str]:
        warnings: list[str] = []
        if t.group == "admissionregistration.k8s.io":
            return warnings  # like the apiserver: webhooks never intercept webhook configurations
        for hook in list(self._webhooks):
            if not hook.matches(t, version, op, subresource):
                continue
            labels = ((obj or old or {}).get("metadata") or {}).get("labels")
            if hook.object_selector and not match_label_selector_obj(hook.object_selector, labels):
                continue
            if hook.namespace_selector and ns:
                nso = self._current(self._types["", "namespaces"], None, ns) or {}
                if not match_label_selector_obj(
                    hook.namespace_selector, nso.get("metadata", {}).get("labels")
                ):
                    continue
            uid = str(uuid.uuid4())
            gvk = {"group": t.group, "version": version, "kind": t.kind}
            gvr = {"group": t.group, "version": version, "resource": t.plural}
            opts_kind = {
                "CREATE": "CreateOptions",
                "UPDATE": "UpdateOptions",
                "DELETE": "DeleteOptions",
            }[op]
            review = {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "request": {
                    "uid": uid,
                    "kind": gvk,
                    "resource": gvr,
                    "requestKind": gvk,
                    "requestResource": gvr,
                    "name": name,
                    "namespace": ns,
                    "subResource": subresource,
                    "operation": op,
                    "userInfo": {
                        "username": _REQUEST_USER.get() or self.username,
                        "groups": ["system:masters", "system:authenticated"],
                    },
                    "object": obj,
                    "oldObject": old,
                    "dryRun": dry_run,
                    "options": {"apiVersion": "meta.k8s.io/v1", "kind": opts_kind},
                },
            }
            # Go's `omitempty`: the apiserver omits empty subResource/name/namespace/object/oldObject
            # (kopf, for one, treats subResource "" as a real subresource and skips its handlers).
            review["request"] = {k: v for k, v in review["request"].items() if v not in (None, "")}
            try:
                response = await asyncio.wait_for(self._call_hook(hook, review), hook.timeout)
            except ApiError:
                raise
            except Exception as e:
                if hook.failure_policy == "Ignore":
                    continue
                raise ApiError(
                    500,
                    "InternalError",
                    f"Internal error occurred: failed calling webhook "
                    f'"{hook.name}": failed to call webhook: {type(e).__name__}: {e}',
                )
            warnings.extend(response.get("warnings") or [])
            if not response.get("allowed"):
                st = dict(response.get("status") or {})
                code = st.get("code") or 400
                code = 400 if code < 400 else code
                denied = f'admission webhook "{hook.name}" denied the request'
                msg = (
                    f"{denied}: {st['message']}"
                    if st.get("message")
                    else (
                        f"{denied}: {st['reason']}"
                        if st.get("reason")
                        else f"{denied} without explanation"
                    )
                )
                raise ApiError(code, st.get("reason") or "", msg, st.get("details"))
        return warnings

    async def _call_hook(self, hook: Webhook, review: dict) -> dict:
        if hook.handler is not None:
            result = hook.handler(review)
            if inspect.isawaitable(result):
                result = await result
        else:
            ctx: ssl.SSLContext | bool | None = None
            if hook.url.startswith("https:"):
                ctx = (
                    ssl.create_default_context(cadata=hook.ca_bundle.decode())
                    if hook.ca_bundle
                    else ssl.create_default_context()
                )
            async with aiohttp.ClientSession() as session:
                async with session.post(
                    hook.url, json=review, ssl=ctx, server_hostname=hook.server_hostname
                ) as resp:
                    if resp.status != 200:
                        raise RuntimeError(
                            f"webhook returned HTTP {resp.status}: {(await resp.text())[:200]}"
                        )
                    result = await resp.json(content_type=None)
        if isinstance(result, bool):
            return {"uid": review["request"]["uid"], "allowed": result}
        if not isinstance(result, dict):
            raise RuntimeError(f"webhook returned {type(result).__name__}, not an AdmissionReview")
        response = result.get("response", result) if "response" in result else result
        if "allowed" not in response:
            raise RuntimeError('webhook response has no "allowed" field')
        if "response" in result and response.get("uid") not in (None, review["request"]["uid"]):
            raise RuntimeError("expected response.uid to match the request.uid")
        return response

    # ---------------------------------------------------------------- request dispatch

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        # 1. User-declared kmock reactions (non-fallback) keep precedence, as in plain kmock.
        response = await self._try_user_reactions(request)
        if response is not None:
            return response
        _REQUEST_USER.set(
            {k.lower(): v for k, v in request.headers.items()}.get("impersonate-user")
        )
        # 2. Our API-server semantics for resource endpoints and a few non-resource ones.
        path = request.url.path
        if path in ("/healthz", "/livez", "/readyz"):
            return aiohttp.web.Response(text="ok")
        if path.startswith("/openapi/"):
            return self._serve_openapi(request)
        if path == "/version":
            return aiohttp.web.json_response(await self._serve_server_version(request))
        if path in ("/apis", "/apis/"):
            return aiohttp.web.json_response(await self._serve_apis(request))
        parsed = self._parse(path)
        if parsed is not None:
            try:
                return await self._serve(request, *parsed)
            except ApiError as e:
                return aiohttp.web.json_response(e.status(), status=e.code)
        # 3. kmock's own fallbacks: discovery documents, 404s for unknown endpoints.
        return await apps.RawHandler._handle(self, request)

    async def _try_user_reactions(
        self, request: rendering.Request
    ) -> aiohttp.web.StreamResponse | None:
        payloads = [p for p in self._payloads if all(x > float("-inf") for x in p.priorities)]
        payloads.sort(key=lambda p: tuple(-x for x in p.priorities), reverse=False)
        for payload in payloads:
            if request in payload._source and not payload._disabled.is_set():
                try:
                    return await payload(request)
                except rendering.ReactionMismatchError:
                    payload._disabled.set()
                except NotImplementedError:
                    pass
        return None

    def _parse(self, path: str) -> tuple | None:
        parts = [p for p in path.strip("/").split("/") if p]
        if len(parts) >= 2 and parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        if not rest:
            return None  # a discovery document
        ns = None
        if (
            rest[0] == "namespaces"
            and len(rest) >= 3
            and not (group == "" and len(rest) == 3 and rest[2] in ("status", "finalize"))
        ):
            ns, rest = rest[1], rest[2:]
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else None
        sub = "/".join(rest[2:]) or None
        return group, version, plural, ns, name, sub

    def _type(self, group: str, version: str, plural: str) -> TypeInfo:
        t = self._types.get((group, plural))
        if t is None or version not in t.versions:
            raise ApiError(
                404,
                "NotFound",
                "the server could not find the requested resource",
                {"group": group, "kind": plural},
            )
        return t

    async def _serve(
        self,
        request: rendering.Request,
        group: str,
        version: str,
        plural: str,
        ns: str | None,
        name: str | None,
        sub: str | None,
    ) -> aiohttp.web.StreamResponse:
        t = self._type(group, version, plural)
        if not t.namespaced:
            ns = None
        method = (
            request.method.value.upper()
            if hasattr(request.method, "value")
            else str(request.method).upper()
        )
        params = request.params
        if sub and sub not in ("status",) and not (t.plural == "namespaces" and sub == "finalize"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if sub == "status" and not t.status_subresource:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if t.namespaced and ns is None and method in ("POST",):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        dry_run = params.get("dryRun") == "All"
        if method == "GET" and params.get("watch") in ("true", "1"):
            return await self._watch(request, t, version, ns, name)
        if method == "GET" and name is None:
            return self._respond(
                request, t, version, self._list(t, version, ns, params), table=True
            )
        if method == "GET":
            async with self._lock:
                cur = self._current(t, ns, name)
            if cur is None:
                raise not_found(t, name)
            return self._respond(request, t, version, self._out(t, version, cur), table=True)
        body = self._body(request)
        if method == "POST" and name is None:
            obj, warnings = await self._create(t, version, ns, body, dry_run)
            return self._respond(request, t, version, obj, status=201, warnings=warnings)
        if method == "PUT" and name:
            obj, warnings = await self._update(
                t, version, ns, name, sub, "PUT", body, None, dry_run
            )
            return self._respond(request, t, version, obj, warnings=warnings)
        if method == "PATCH" and name:
            ctype = (request.headers.get("Content-Type") or "").split(";")[0].strip()
            obj, warnings = await self._update(
                t, version, ns, name, sub, "PATCH", body, ctype, dry_run, params
            )
            return self._respond(request, t, version, obj, warnings=warnings)
        if method == "DELETE" and name:
            obj, warnings = await self._delete(t, version, ns, name, body, dry_run)
            return self._respond(request, t, version, obj, warnings=warnings)
        if method == "DELETE":
            items = self._list(t, version, ns, params)["items"]
            for o in items:
                try:
                    await self._delete(
                        t,
                        version,
                        o["metadata"].get("namespace"),
                        o["metadata"]["name"],
                        None,
                        dry_run,
                    )
                except ApiError as e:
                    if e.code != 404:
                        raise
            return self._respond(request, t, version, self._list(t, version, ns, {}))
        raise ApiError(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )

    def _body(self, request: rendering.Request) -> Any:
        if not request.body:
            return None
        ctype = (request.headers.get("Content-Type") or "").lower()
        try:
            if "yaml" in ctype:
                return yaml.safe_load(request.body)
            return json.loads(request.body)
        except Exception as e:
            raise bad_request(f"the body of the request was in an unknown format: {e}")

    def _respond(
        self,
        request: rendering.Request,
        t: TypeInfo,
        version: str,
        obj: dict,
        *,
        status: int = 200,
        table: bool = False,
        warnings: list[str] = (),
    ) -> aiohttp.web.Response:
        accept = request.headers.get("Accept") or ""
        if table and "as=Table" in accept:
            obj = self._table(t, version, obj)
        resp = aiohttp.web.json_response(obj, status=status)
        for w in warnings:
            resp.headers.add("Warning", f"299 - {json.dumps(w)}")
        return resp

    def _out(self, t: TypeInfo, version: str, obj: dict) -> dict:
        obj = copy.deepcopy(obj)
        obj["apiVersion"] = t.api_version(version)  # conversion strategy "None": relabel only
        return obj

    # ---------------------------------------------------------------- reads

    def _filter(self, t: TypeInfo, labels: list, fields: list, obj: dict) -> bool:
        if not match_labels(labels, obj.get("metadata", {}).get("labels")):
            return False
        for path, op, val in fields:
            actual = dig(obj, path)
            actual = (
                ""
                if actual is None
                else (str(actual).lower() if isinstance(actual, bool) else str(actual))
            )
            if (actual == val) != (op == "="):
                return False
        return True

    def _selectors(self, t: TypeInfo, params: dict) -> tuple[list, list]:
        labels = parse_label_selector(params.get("labelSelector"))
        fields = parse_field_selector(params.get("fieldSelector"))
        if t.custom:
            for path, _, _ in fields:
                if path not in ("metadata.name", "metadata.namespace"):
                    raise bad_request(
                        f'"{path}" is not a known field selector: only "metadata.name", "metadata.namespace"'
                    )
        return labels, fields

    def _list(self, t: TypeInfo, version: str, ns: str | None, params: dict) -> dict:
        labels, fields = self._selectors(t, params)
        items = [
            self._out(t, version, o) for o in self._all(t, ns) if self._filter(t, labels, fields, o)
        ]
        meta: dict[str, Any] = {"resourceVersion": str(self._rv)}
        start = 0
        if params.get("continue"):
            try:
                start = int(base64.b64decode(params["continue"]).decode())
            except Exception:
                raise ApiError(400, "BadRequest", "continue key is not valid")
        limit = int(params.get("limit") or 0)
        if limit > 0:
            if start + limit < len(items):
                meta["continue"] = base64.b64encode(str(start + limit).encode()).decode()
                meta["remainingItemCount"] = len(items) - start - limit
            items = items[start : start + limit]
        else:
            items = items[start:]
        return {
            "apiVersion": t.api_version(version),
            "kind": t.list_kind,
            "metadata": meta,
            "items": items,
        }

    def _table(self, t: TypeInfo, version: str, obj: dict) -> dict:
        cols = list(t.columns.get(version) or [])
        if not cols:
            cols = [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
        defs = [
            {
                "name": "Name",
                "type": "string",
                "format": "name",
                "priority": 0,
                "description": "Name must be unique within a namespace.",
            }
        ]
        defs += [
            {
                "name": c["name"],
                "type": c.get("type", "string"),
                "format": c.get("format", ""),
                "description": c.get("description", ""),
                "priority": c.get("priority", 0),
            }
            for c in cols
        ]
        items = obj["items"] if "items" in obj else [obj]
        rows = []
        now = datetime.datetime.now(datetime.UTC)
        for it in items:
            cells: list[Any] = [it["metadata"]["name"]]
            for c in cols:
                vals = jsonpath_eval(it, c["jsonPath"])
                v = vals[0] if len(vals) == 1 else (",".join(map(str, vals)) if vals else None)
                if c.get("type") == "date" and isinstance(v, str):
                    try:
                        ts = datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").replace(
                            tzinfo=datetime.UTC
                        )
                        v = human_duration((now - ts).total_seconds())
                    except ValueError:
                        pass
                elif isinstance(v, (dict, list)):
                    v = json.dumps(v)
                cells.append(v)
            rows.append(
                {
                    "cells": cells,
                    "object": {
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": it["metadata"],
                    },
                }
            )
        meta = {"resourceVersion": obj.get("metadata", {}).get("resourceVersion", str(self._rv))}
        if obj.get("metadata", {}).get("continue"):
            meta["continue"] = obj["metadata"]["continue"]
        return {
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": meta,
            "columnDefinitions": defs,
            "rows": rows,
        }

    async def _watch(
        self,
        request: rendering.Request,
        t: TypeInfo,
        version: str,
        ns: str | None,
        name: str | None,
    ) -> aiohttp.web.StreamResponse:
        params = dict(request.params)
        labels, fields = self._selectors(t, params)
        if name:
            fields = fields + [("metadata.name", "=", name)]
        rv = params.get("resourceVersion") or ""
        timeout = float(params["timeoutSeconds"]) if params.get("timeoutSeconds") else None
        w = Watcher(t=t, version=version, namespace=ns, labels=labels, fields=fields)
        initial: list[tuple[str, dict]] = []
        async with self._lock:
            if rv in ("", "0"):
                initial = [("ADDED", o) for o in self._all(t, ns)]
                initial = [(e, o) for e, o in initial if self._filter(t, labels, fields, o)]
            else:
                try:
                    since = int(rv)
                except ValueError:
                    raise bad_request(f"invalid resource version: {rv!r}")
                if since < self._compacted_rv:
                    initial = [
                        (
                            "ERROR",
                            {
                                "kind": "Status",
                                "apiVersion": "v1",
                                "metadata": {},
                                "status": "Failure",
                                "message": f"too old resource version: {since} ({self._compacted_rv})",
                                "reason": "Expired",
                                "code": 410,
                            },
                        )
                    ]
                else:
                    for ev in self._events:
                        if ev[0] > since and (ev[1].group, ev[1].plural) == (t.group, t.plural):
                            w.queue.put_nowait(ev)
            self._watchers.add(w)
        resp = aiohttp.web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        assert request._raw_request is not None
        await resp.prepare(request._raw_request)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        try:
            for etype, obj in initial:
                await resp.write(
                    json.dumps(
                        {
                            "type": etype,
                            "object": self._out(t, version, obj) if etype != "ERROR" else obj,
                        }
                    ).encode()
                    + b"\n"
                )
                if etype == "ERROR":
                    return resp
            if (
                params.get("allowWatchBookmarks") in ("true", "1")
                and params.get("sendInitialEvents") == "true"
            ):
                await resp.write(
                    json.dumps(
                        {
                            "type": "BOOKMARK",
                            "object": {
                                "kind": t.kind,
                                "apiVersion": t.api_version(version),
                                "metadata": {
                                    "resourceVersion": str(self._rv),
                                    "annotations": {"k8s.io/initial-events-end": "true"},
                                },
                            },
                        }
                    ).encode()
                    + b"\n"
                )
            while True:
                left = None if deadline is None else deadline - loop.time()
                if left is not None and left <= 0:
                    break
                try:
                    _, _, etype, obj, old = await asyncio.wait_for(w.queue.get(), left)
                except TimeoutError:
                    break
                if ns is not None and obj["metadata"].get("namespace") != ns:
                    continue
                now_in = self._filter(t, labels, fields, obj)
                was_in = old is not None and self._filter(t, labels, fields, old)
                if etype == "MODIFIED" and now_in and not was_in:
                    etype = "ADDED"
                elif etype == "MODIFIED" and was_in and not now_in:
                    etype, now_in = "DELETED", True
                if not now_in:
                    continue
                await resp.write(
                    json.dumps({"type": etype, "object": self._out(t, w.version, obj)}).encode()
                    + b"\n"
                )
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._watchers.discard(w)
        try:
            await resp.write_eof()
        except Exception:
            pass
        return resp

    # ---------------------------------------------------------------- writes

    def _check_meta(self, t: TypeInfo, obj: dict, name: str) -> list[tuple[str, str, str]]:
        causes = []
        meta = obj.get("metadata") or {}
        for fld in ("labels", "annotations"):
            val = meta.get(fld)
            if val is not None and (
                not isinstance(val, dict) or not all(isinstance(v, str) for v in val.values())
            ):
                causes.append(
                    (
                        "FieldValueTypeInvalid",
                        f"metadata.{fld}",
                        "Invalid value: must be a map of string to string",
                    )
                )
        if (
            not re.fullmatch(
                r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", name or ""
            )
            or len(name) > 253
        ):
            causes.append(
                (
                    "FieldValueInvalid",
                    "metadata.name",
                    f'Invalid value: "{name}": a lowercase RFC 1123 subdomain '
                    "must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
                    "with an alphanumeric character",
                )
            )
        return causes

    def _prepare(self, t: TypeInfo, version: str, obj: dict, name: str) -> None:
        """Decode-time processing + validation for the new state of an object (raises 422)."""
        if not isinstance(obj, dict):
            raise bad_request("the body must be a JSON object")
        causes = self._check_meta(t, obj, name)
        if t.custom and version in t.schemas:
            schema = t.schemas[version]
            prune(obj, schema, root=True)
            apply_defaults(obj, schema)
            body = {k: v for k, v in obj.items() if k != "metadata"}
            causes += schema_causes(t.validators[version], body)
        if t.group == "apiextensions.k8s.io" and t.plural == "customresourcedefinitions":
            causes += self._crd_checks(obj)
        if causes:
            raise invalid(t, name, causes)

    def _check_kind(self, t: TypeInfo, version: str, body: dict) -> None:
        if body.get("kind") and body["kind"] != t.kind:
            raise bad_request(
                f"the API version in the data ({body.get('apiVersion')}) does not match the expected API version ({t.api_version(version)})"
                if body.get("apiVersion") != t.api_version(version)
                else f"kind mismatch: {body['kind']} != {t.kind}"
            )

    async def _create(
        self, t: TypeInfo, version: str, ns: str | None, body: Any, dry_run: bool
    ) -> tuple[dict, list[str]]:
        if not isinstance(body, dict):
            raise bad_request("the body must be a JSON object")
        self._check_kind(t, version, body)
        obj = copy.deepcopy(body)
        obj["apiVersion"], obj["kind"] = t.api_version(version), t.kind
        meta = obj.setdefault("metadata", {})
        if t.namespaced:
            if meta.get("namespace") and meta["namespace"] != ns:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ns
        name = meta.get("name")
        if not name and meta.get("generateName"):
            name = meta["generateName"] + uuid.uuid4().hex[:5]
            meta["name"] = name
        if not name:
            raise invalid(
                t,
                "",
                [
                    (
                        "FieldValueRequired",
                        "metadata.name",
                        "Required value: name or generateName is required",
                    )
                ],
            )
        for k in (
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            meta.pop(k, None)
        if t.status_subresource and t.custom:
            obj.pop("status", None)
        self._prepare(t, version, obj, name)
        if t.group == "apiextensions.k8s.io" and t.plural == "customresourcedefinitions":
            self._crd_status(obj)
        if t.group == "" and t.plural == "namespaces":
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj["status"] = {"phase": "Active"}
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        async with self._lock:
            self._precreate_checks(t, ns, name)
        warnings = await self._admit(
            t, version, "CREATE", None, ns, name, self._out(t, version, obj), None, dry_run
        )
        async with self._lock:
            self._precreate_checks(t, ns, name)
            if dry_run:
                return self._out(t, version, obj), warnings
            stored = self._store_new(t, ns, name, obj)
            self._post_write(t, stored)
            return self._out(t, version, stored), warnings

    def _precreate_checks(self, t: TypeInfo, ns: str | None, name: str) -> None:
        if self._current(t, ns, name) is not None:
            raise ApiError(
                409,
                "AlreadyExists",
                f'{_gr(t)} "{name}" already exists',
                {"name": name, "group": t.group, "kind": t.plural},
            )
        if t.namespaced:
            nso = self._current(self._types["", "namespaces"], None, ns)
            if nso is None:
                raise ApiError(
                    404,
                    "NotFound",
                    f'namespaces "{ns}" not found',
                    {"name": ns, "kind": "namespaces"},
                )
            if nso["metadata"].get("deletionTimestamp"):
                raise ApiError(
                    403,
                    "Forbidden",
                    f'{_gr(t)} "{name}" is forbidden: unable to create new content in '
                    f"namespace {ns} because it is being terminated",
                )

    def _post_write(self, t: TypeInfo, obj: dict) -> None:
        if t.group == "apiextensions.k8s.io" and t.plural == "customresourcedefinitions":
            self._register_crd(obj)
        if (
            t.group == "admissionregistration.k8s.io"
            and t.plural == "validatingwebhookconfigurations"
        ):
            self._sync_webhook_config(obj)

    def _compute_update(
        self,
        t: TypeInfo,
        version: str,
        cur: dict,
        sub: str | None,
        verb: str,
        body: Any,
        ctype: str | None,
        name: str,
    ) -> dict:
        base = self._out(t, version, cur)
        if verb == "PUT":
            if not isinstance(body, dict):
                raise bad_request("the body must be a JSON object")
            self._check_kind(t, version, body)
            new = copy.deepcopy(body)
            rv = (new.get("metadata") or {}).get("resourceVersion")
            if not rv and t.custom:
                raise invalid(
                    t,
                    name,
                    [
                        (
                            "FieldValueInvalid",
                            "metadata.resourceVersion",
                            "Invalid value: 0x0: must be specified for an update",
                        )
                    ],
                )
        elif ctype == "application/json-patch+json":
            if not isinstance(body, list):
                raise bad_request(
                    "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
                )
            try:
                new = jsonpatch.apply_patch(base, body)
            except jsonpatch.JsonPatchTestFailed as e:
                raise ApiError(
                    422,
                    "Invalid",
                    f"the server rejected our request due to an error in our request: {e}",
                )
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
                raise ApiError(
                    422,
                    "Invalid",
                    f"the server rejected our request due to an error in our request: {e}",
                )
        elif ctype in (
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
            "application/apply-patch+json",
        ):
            if not isinstance(body, dict):
                raise bad_request("the body of the patch must be a JSON object")
            new = merge_patch(base, strip_directives(body))
        else:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - "
                "accepted media types include: application/json-patch+json, application/merge-patch+json, "
                "application/apply-patch+yaml",
            )
        if not isinstance(new, dict):
            raise bad_request("the patched object is not a JSON object")
        # Optimistic concurrency: a resourceVersion in the new state is a precondition.
        new_meta = new.setdefault("metadata", {})
        rv = new_meta.get("resourceVersion")
        if rv and rv != cur["metadata"]["resourceVersion"]:
            raise conflict(t, name)
        if new_meta.get("name", name) != name:
            raise bad_request(
                f"the name of the object ({new_meta.get('name')}) does not match the name on the URL ({name})"
            )
        old_meta = cur["metadata"]
        if sub == "status":
            # The status endpoint changes only .status (plus nothing else, not even labels).
            result = copy.deepcopy(cur)
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
            return result
        if t.status_subresource:
            new.pop("status", None)
            if "status" in cur:
                new["status"] = copy.deepcopy(cur["status"])
        for k in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "namespace",
            "name",
        ):
            if k in old_meta:
                new_meta[k] = old_meta[k]
            else:
                new_meta.pop(k, None)
        new["apiVersion"], new["kind"] = base["apiVersion"], t.kind
        if old_meta.get("deletionTimestamp"):
            added = set(new_meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
            if added:
                raise invalid(
                    t,
                    name,
                    [
                        (
                            "FieldValueForbidden",
                            "metadata.finalizers",
                            "Forbidden: no new finalizers can be added if the object is being deleted, "
                            f"found new finalizers {json.dumps(sorted(added))}",
                        )
                    ],
                )
        return new

    async def _update(
        self,
        t: TypeInfo,
        version: str,
        ns: str | None,
        name: str,
        sub: str | None,
        verb: str,
        body: Any,
        ctype: str | None,
        dry_run: bool,
        params: dict | None = None,
    ) -> tuple[dict, list[str]]:
        for _ in range(20):  # the apiserver's GuaranteedUpdate retry loop (for patches)
            async with self._lock:
                cur = self._current(t, ns, name)
                if cur is None:
                    if ctype in (
                        "application/apply-patch+yaml",
                        "application/apply-patch+json",
                    ) and isinstance(body, dict):
                        body.setdefault("metadata", {})["name"] = name
                        return await self._create(t, version, ns, body, dry_run)
                    raise not_found(t, name)
                cur = copy.deepcopy(cur)
                new = self._compute_update(t, version, cur, sub, verb, body, ctype, name)
                new["apiVersion"] = t.api_version(version)
            self._prepare(t, version, new, name)
            # metadata.generation: bumped on any change outside metadata & status.
            strip = lambda o: {
                k: v for k, v in o.items() if k not in ("metadata", "status", "apiVersion", "kind")
            }
            if strip(new) != strip(cur):
                new["metadata"]["generation"] = int(cur["metadata"].get("generation") or 0) + 1
            if (
                t.group == "apiextensions.k8s.io"
                and t.plural == "customresourcedefinitions"
                and sub != "status"
            ):
                self._crd_status(new)
            if new == {**cur, "apiVersion": new["apiVersion"]}:
                return self._out(t, version, cur), []  # no-op: no new resourceVersion, no event
            warnings = await self._admit(
                t, version, "UPDATE", sub, ns, name, new, self._out(t, version, cur), dry_run
            )
            async with self._lock:
                latest = self._current(t, ns, name)
                if latest is None:
                    raise not_found(t, name)
                if latest["metadata"]["resourceVersion"] != cur["metadata"]["resourceVersion"]:
                    if verb == "PUT" or (
                        new["metadata"].get("resourceVersion")
                        and ctype != "application/json-patch+json"
                    ):
                        raise conflict(t, name)
                    continue  # patches are re-applied on top of the fresher state
                if dry_run:
                    return self._out(t, version, new), warnings
                stored = self._store_update(t, latest, new)
                if not stored["metadata"].get("deletionTimestamp") or self._current(t, ns, name):
                    self._post_write(t, stored)
                return self._out(t, version, stored), warnings
        raise ApiError(409, "Conflict", f'too many conflicts updating {_gr(t)} "{name}"')

    async def _delete(
        self, t: TypeInfo, version: str, ns: str | None, name: str, body: Any, dry_run: bool
    ) -> tuple[dict, list[str]]:
        async with self._lock:
            cur = self._current(t, ns, name)
            if cur is None:
                raise not_found(t, name)
            cur = copy.deepcopy(cur)
        pre = (body or {}).get("preconditions") or {} if isinstance(body, dict) else {}
        if pre.get("uid") and pre["uid"] != cur["metadata"]["uid"]:
            raise ApiError(
                409,
                "Conflict",
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {cur['metadata']['uid']}",
            )
        if (
            pre.get("resourceVersion")
            and pre["resourceVersion"] != cur["metadata"]["resourceVersion"]
        ):
            raise conflict(t, name)
        warnings = await self._admit(
            t, version, "DELETE", None, ns, name, None, self._out(t, version, cur), dry_run
        )
        async with self._lock:
            latest = self._current(t, ns, name)
            if latest is None:
                raise not_found(t, name)
            if dry_run:
                return self._out(t, version, latest), warnings
            result = self._mark_deleted(t, latest)
            return self._out(t, version, result), warnings

    # ---------------------------------------------------------------- discovery tweaks

    def _get_resources(self) -> list[kmock.resource]:
        # Only registered types (kmock would also resurrect types from soft-deleted objects' keys).
        return [r for r in self._resources if (r.group, r.plural) in self._types]

    def _serve_openapi(self, request: rendering.Request) -> aiohttp.web.Response:
        # An *empty* OpenAPI document: kubectl then skips client-side schema checks for our types
        # (an empty protobuf message is a valid, empty openapi_v2.Document).
        if request.url.path.rstrip("/") == "/openapi/v2":
            if "protobuf" in (request.headers.get("Accept") or ""):
                return aiohttp.web.Response(body=b"", content_type="application/octet-stream")
            return aiohttp.web.json_response(
                {
                    "swagger": "2.0",
                    "info": {"title": "kmock-emulator", "version": "v0"},
                    "paths": {},
                    "definitions": {},
                }
            )
        path = request.url.path.rstrip("/")
        if path == "/openapi/v3":
            # One document per custom group-version, from the CRDs' schemas: what `kubectl
            # explain` reads (built-in types stay undescribed).
            return aiohttp.web.json_response(
                {
                    "paths": {
                        gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest}"}
                        for gv, (_, digest) in self._openapi_v3().items()
                    }
                }
            )
        found = self._openapi_v3().get(path.removeprefix("/openapi/v3/"))
        if found is not None:
            return aiohttp.web.json_response(found[0])
        return aiohttp.web.json_response(
            ApiError(404, "NotFound", "the server could not find the requested resource").status(),
            status=404,
        )

    def _openapi_v3(self) -> dict[str, tuple[dict, str]]:
        """`apis/G/V` → (its OpenAPI v3 document, a hash) for every served custom version."""
        docs: dict[str, dict] = {}
        for t in self._types.values():
            for version, schema in t.schemas.items():
                if not t.custom or version not in t.versions:
                    continue
                name = ".".join([*reversed(t.group.split(".")), version, t.kind])
                gvk = {"group": t.group, "version": version, "kind": t.kind}
                doc = docs.setdefault(
                    f"apis/{t.group}/{version}",
                    {
                        "openapi": "3.0.0",
                        "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
                        "paths": {},
                        "components": {"schemas": {}},
                    },
                )
                scope = "namespaces/{namespace}/" if t.namespaced else ""
                path = f"/apis/{t.group}/{version}/{scope}{t.plural}"
                doc["paths"][path] = {"get": {"x-kubernetes-group-version-kind": gvk}}
                doc["components"]["schemas"][name] = {
                    **schema,
                    "x-kubernetes-group-version-kind": [gvk],
                }
        return {
            gv: (doc, hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16])
            for gv, doc in docs.items()
        }

    async def _serve_apis(self, request: rendering.Request) -> dict:
        groups: dict[str, set[str]] = {}
        for t in self._types.values():
            if t.group:
                groups.setdefault(t.group, set()).update(t.versions)
        out = []
        for g in sorted(groups):
            vs = sorted(groups[g], key=kube_version_key)
            out.append(
                {
                    "name": g,
                    "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                    "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]},
                }
            )
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": out}

    async def _serve_group(self, request: rendering.Request) -> dict:
        data = await self._serve_apis(request)
        group = request.url.path.strip("/").split("/")[1]
        for g in data["groups"]:
            if g["name"] == group:
                return {"kind": "APIGroup", "apiVersion": "v1", **g}
        raise kmock.KubernetesResourceNotFoundError()

    async def _serve_version(self, request: rendering.Request) -> dict:
        parts = request.url.path.strip("/").split("/")
        group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
        ts = [t for t in self._types.values() if t.group == group and version in t.versions]
        if not ts and group:
            raise kmock.KubernetesResourceNotFoundError()
        resources = []
        for t in sorted(ts, key=lambda t: t.plural):
            resources.append(
                {
                    "name": t.plural,
                    "singularName": t.singular,
                    "namespaced": t.namespaced,
                    "kind": t.kind,
                    "verbs": sorted(t.verbs),
                    "shortNames": t.shortnames,
                    "categories": t.categories,
                }
            )
            if t.status_subresource:  # subresources carry no short names (kubectl warns otherwise)
                resources.append(
                    {
                        "name": f"{t.plural}/status",
                        "singularName": "",
                        "namespaced": t.namespaced,
                        "kind": t.kind,
                        "verbs": ["get", "patch", "update"],
                    }
                )
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources,
        }

    async def _serve_server_version(self, request: rendering.Request) -> dict:
        major, minor = self.server_version.split(".")[:2]
        return {
            "major": major,
            "minor": minor,
            "gitVersion": f"v{self.server_version}-kmock",
            "gitCommit": "",
            "gitTreeState": "clean",
            "buildDate": "2024-08-13T00:00:00Z",
            "goVersion": "go1.22",
            "compiler": "gc",
            "platform": "linux/amd64",
        }


# --------------------------------------------------------------------------------------------------
# CLI: serve over HTTP on 127.0.0.1.


def kubeconfig_text(url: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "kmock",
            "clusters": [{"name": "kmock", "cluster": {"server": url}}],
            "users": [{"name": "kmock", "user": {"token": "kmock"}}],
            "contexts": [
                {
                    "name": "kmock",
                    "context": {"cluster": "kmock", "user": "kmock", "namespace": "default"},
                }
            ],
        }
    )


async def serve(
    port: int, port_file: str | None, kubeconfig: str | None, server_version: str
) -> None:
    async with (
        Emulator(server_version=server_version) as emu,
        kmock.Server(emu, host="127.0.0.1", port=port or None) as srv,
    ):
        url = f"http://127.0.0.1:{srv.port}"
        if kubeconfig:
            with open(kubeconfig, "w") as f:
                f.write(kubeconfig_text(url))
        if port_file:
            tmp = port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(str(srv.port))
            os.replace(tmp, port_file)
        print(f"kmock-based Kubernetes emulator listening on {url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--kubeconfig", help="write a kubeconfig pointing at the emulator here")
    ap.add_argument(
        "--server-version", default="1.36.0", help="what /version reports (default: %(default)s)"
    )
    args = ap.parse_args()
    asyncio.run(serve(args.port, args.port_file, args.kubeconfig, args.server_version))


if __name__ == "__main__":
    main()
