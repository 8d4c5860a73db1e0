"""Breaking changes between two OpenAPI documents (an oasdiff-style check, for CI).

Breaking for an existing client: an operation removed; a parameter or request property that
becomes required or appears as required; a request enum that loses values; a response property
removed or a response status removed; a property whose type changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Change:
    where: str
    what: str
    breaking: bool

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'change  '} {self.where}: {self.what}"


def _resolve(doc: dict[str, Any], schema: Any, depth: int = 0) -> dict[str, Any]:
    if not isinstance(schema, dict) or depth > 20:
        return {}
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _resolve(doc, doc.get("components", {}).get("schemas", {}).get(name, {}), depth + 1)
    return schema


def _json_schema(doc: dict[str, Any], node: dict[str, Any] | None) -> dict[str, Any]:
    content = (node or {}).get("content", {})
    for media, body in content.items():
        if "json" in media:
            return _resolve(doc, body.get("schema", {}))
    return {}


def _types(schema: dict[str, Any]) -> set[str]:
    t = schema.get("type")
    found = {t} if isinstance(t, str) else set(t or [])
    for alt in schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= _types(alt) if isinstance(alt, dict) else set()
    return found


def _compare_request(
    where: str,
    old_doc: dict[str, Any],
    new_doc: dict[str, Any],
    old: dict[str, Any],
    new: dict[str, Any],
    out: list[Change],
) -> None:
    old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(new_req - old_req):
        out.append(Change(where, f"request property '{name}' is now required", True))
    for name, prop in new.get("properties", {}).items():
        before = _resolve(old_doc, old.get("properties", {}).get(name))
        after = _resolve(new_doc, prop)
        if before and after:
            if (
                before.get("enum")
                and after.get("enum")
                and set(before["enum"]) - set(after["enum"])
            ):
                out.append(
                    Change(
                        where,
                        f"request property '{name}' no longer accepts "
                        f"{sorted(set(before['enum']) - set(after['enum']))}",
                        True,
                    )
                )
            if _types(before) and _types(after) and not _types(before) <= _types(after):
                out.append(Change(where, f"request property '{name}' changed type", True))


def _compare_response(
    where: str,
    old_doc: dict[str, Any],
    new_doc: dict[str, Any],
    old: dict[str, Any],
    new: dict[str, Any],
    out: list[Change],
) -> None:
    new_props = new.get("properties", {})
    for name, prop in old.get("properties", {}).items():
        if name not in new_props:
            out.append(Change(where, f"response property '{name}' removed", True))
            continue
        before, after = _resolve(old_doc, prop), _resolve(new_doc, new_props[name])
        if _types(before) and _types(after) and not _types(after) <= _types(before):
            out.append(Change(where, f"response property '{name}' changed type", True))


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    old_paths, new_paths = old.get("paths", {}), new.get("paths", {})
    for path, item in old_paths.items():
        for method in METHODS:
            if method not in item:
                continue
            where = f"{method.upper()} {path}"
            new_op = new_paths.get(path, {}).get(method)
            if new_op is None:
                changes.append(Change(where, "operation removed", True))
                continue
            op = item[method]
            old_params = {(p.get("in"), p.get("name")): p for p in op.get("parameters", [])}
            for p in new_op.get("parameters", []):
                key = (p.get("in"), p.get("name"))
                if p.get("required") and not old_params.get(key, {}).get("required"):
                    changes.append(
                        Change(where, f"parameter '{p.get('name')}' is now required", True)
                    )
            _compare_request(
                where,
                old,
                new,
                _json_schema(old, op.get("requestBody")),
                _json_schema(new, new_op.get("requestBody")),
                changes,
            )
            for status, response in op.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                if status not in new_op.get("responses", {}):
                    changes.append(Change(where, f"response {status} removed", True))
                    continue
                _compare_response(
                    where,
                    old,
                    new,
                    _json_schema(old, response),
                    _json_schema(new, new_op["responses"][status]),
                    changes,
                )
    for path, item in new_paths.items():
        for method in METHODS:
            if method in item and method not in old_paths.get(path, {}):
                changes.append(Change(f"{method.upper()} {path}", "operation added", False))
    return changes
