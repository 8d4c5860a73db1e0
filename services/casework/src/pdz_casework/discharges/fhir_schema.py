"""Generates ``fhir_r4b_schema.json``: the FHIR R4 (R4B models) structure of our discharge profile.

Run ``python -m pdz_casework.discharges.fhir_schema --refresh`` after upgrading ``fhir.resources``
or ``fhir_core`` (``--check`` tells whether the committed file is current). The file is read at
run time by :mod:`pdz_casework.discharges.conformance`, which validates a Bundle without building
the pydantic models.

What is read: the pydantic models of ``fhir.resources.R4B`` reachable from ``Bundle``,
``MessageHeader``, ``Organization``, ``Patient``, ``Encounter``, ``Condition`` and
``ServiceRequest`` (``Extension.value[x]`` reaches most datatypes), plus ``Resource`` (an entry
without ``resourceType``) and ``FHIRPrimitiveExtension`` (the ``_element`` siblings). For each
type and JSON element name: its kind, whether it is an array, whether the array may hold nulls,
whether the element must be present (pydantic's required fields) or must have a value or a
``_element`` extension (fhir_core's ``element_required`` / ``get_required_fields``), and its
choice group (``one_of_many``, ``one_of_many_required``). Also: the names of every resource type
fhir.resources knows (the others go to fhir.resources itself) and the exact constraints of each
primitive type, so a test notices when fhir_core changes a rule the validator copies.

Sources and licences: the models and the rules come from ``fhir.resources`` and ``fhir_core``
(Md Nazrul Islam, BSD licence, https://github.com/nazrulworld/fhir.resources), which are generated
from the HL7 FHIR R4B specification (4.3.0, CC0 "No Rights Reserved", https://hl7.org/fhir/R4B/).
The generated file is a derived fact table; it carries the same notice.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import types
import typing
from importlib import metadata
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("fhir_r4b_schema.json")
ROOTS = (
    "Bundle",
    "MessageHeader",
    "Organization",
    "Patient",
    "Encounter",
    "Condition",
    "ServiceRequest",
    "Resource",
    "FHIRPrimitiveExtension",
)
# The flags of an element (the second item of its entry), see ``conformance``.
LIST, REQUIRED, NULL_ITEMS, ANY_RESOURCE, NOT_NULL = 1, 2, 4, 8, 16
# Version prefix fhir_core gives R4B types in FHIR_TYPES_MAPS (its regex finds ".R4" first).
PREFIX = "R4."
CLASS_LINE = re.compile(r"^class (\w+)\(([\w.]+)\):", re.MULTILINE)


def _model_class(name: str) -> type[Any]:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(name)


def _primitive_name(annotation: Any) -> str | None:
    """The FHIR primitive of ``bool`` or an ``Annotated[..., <fhir_core marker>]``, else None."""
    from fhir_core.constraints import FHIR_PRIMITIVES_MAPS

    if annotation is bool:
        return "boolean"
    if typing.get_origin(annotation) is not typing.Annotated:
        return None
    found = [
        FHIR_PRIMITIVES_MAPS[type(meta)]
        for meta in annotation.__metadata__
        if type(meta) in FHIR_PRIMITIVES_MAPS
    ]
    if not found and typing.get_args(annotation)[0].__name__ == "UUID":
        return "uuid"
    if len(found) != 1:
        raise SystemExit(f"cannot tell the FHIR primitive of {annotation!r}")
    return str(found[0])


def _constraints(annotation: Any) -> dict[str, Any]:
    """The validation rules pydantic builds from an ``Annotated`` primitive, as plain data."""
    out: dict[str, Any] = {"python": typing.get_args(annotation)[0].__name__}
    for meta in annotation.__metadata__:
        items = list(meta) if hasattr(meta, "__iter__") else [meta]
        for item in items:
            for attr in ("pattern", "min_length", "max_length", "ge", "le", "uuid_version"):
                value = getattr(item, attr, None)
                if value is not None:
                    out[attr] = value.pattern if hasattr(value, "pattern") else value
            if type(item).__module__.startswith("fhir_core"):
                out["marker"] = type(item).__name__
    return out


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (annotation, False)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(annotation)
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0], len(rest) != len(args)
    return annotation, False


class Walker:
    def __init__(self) -> None:
        self.types: dict[str, dict[str, Any]] = {}
        self.primitives: dict[str, dict[str, Any]] = {}
        self.pending: list[type[Any]] = []

    def kind(self, annotation: Any) -> tuple[str, int]:
        """(kind, flags) of one field annotation."""
        inner, nullable = _unwrap(annotation)
        flags = 0 if nullable else NOT_NULL
        if typing.get_origin(inner) in (list, typing.List):  # noqa: UP006
            flags |= LIST
            inner, item_nullable = _unwrap(typing.get_args(inner)[0])
            if item_nullable:
                flags |= NULL_ITEMS
        primitive = _primitive_name(inner)
        if primitive is not None:
            if typing.get_origin(inner) is typing.Annotated:
                rules = _constraints(inner)
                if self.primitives.setdefault(primitive, rules) != rules:
                    raise SystemExit(f"two different rule sets for {primitive}")
            return primitive, flags
        klass_path = getattr(inner, "_model_klass", None)
        if klass_path is None:
            raise SystemExit(f"unknown annotation {annotation!r}")
        module, _, name = str(klass_path).rpartition(".")
        klass = getattr(importlib.import_module(module), name)
        from fhir_core.types import FhirElementOrResourceBase

        if issubclass(inner, FhirElementOrResourceBase):
            if name != "Resource":
                raise SystemExit(f"dynamic {name} elements are not supported")
            flags |= ANY_RESOURCE
        self.pending.append(klass)
        return klass.__name__, flags

    def walk(self, klass: type[Any]) -> None:
        self.pending.append(klass)
        while self.pending:
            current = self.pending.pop()
            if current.__name__ not in self.types:
                self.types[current.__name__] = self.describe(current)

    def describe(self, klass: type[Any]) -> dict[str, Any]:
        if klass.__resource_type__ != klass.__name__:
            raise SystemExit(f"{klass.__name__} has resource type {klass.__resource_type__}")
        elements: dict[str, list[Any]] = {}
        names: dict[str, str] = {}
        choices: dict[str, list[Any]] = {}
        for field_name, field in klass.model_fields.items():
            alias = field.alias or field_name
            if field_name != alias:
                names[field_name] = alias
            extra = field.json_schema_extra or {}
            if field_name == "fhir_comments":
                elements[alias] = ["fhir_comments", 0]
                continue
            kind, flags = self.kind(field.annotation)
            # fhir_core forbids nulls in arrays of objects but in ``_element`` ones; the table
            # says it with NULL_ITEMS, which must then agree with the field name.
            objects = flags & LIST and kind[0].isupper()  # (FHIR primitives are lower case)
            if objects and bool(flags & NULL_ITEMS) != field_name.endswith("__ext"):
                raise SystemExit(f"{klass.__name__}.{field_name}: nulls in the array?")
            if field.is_required():
                flags |= REQUIRED
            entry: list[Any] = [kind, flags]
            group = extra.get("one_of_many")
            if group:
                entry.append(group)
                choices.setdefault(group, [bool(extra.get("one_of_many_required")), []])
                choices[group][1].append(alias)
            elements[alias] = entry
        # What the model's validators run: compare with the schema hints, then keep the former.
        instance = klass.model_construct()
        required: list[list[str | None]] = []
        for name, ext in instance.get_required_fields():
            field = klass.model_fields[name]
            if not (field.json_schema_extra or {}).get("element_required"):
                raise SystemExit(f"{klass.__name__}.{name} required but not element_required")
            ext_alias = (klass.model_fields[ext].alias or ext) if ext else None
            required.append([field.alias or name, ext_alias])
        marked = sorted(
            f.alias or n
            for n, f in klass.model_fields.items()
            if (f.json_schema_extra or {}).get("element_required")
        )
        if marked != sorted(str(r[0]) for r in required):
            raise SystemExit(f"{klass.__name__}: element_required differs from the validator")
        declared = {
            g: sorted(klass.model_fields[m].alias or m for m in members)
            for g, members in instance.get_one_of_many_fields().items()
        }
        if declared != {g: sorted(v[1]) for g, v in choices.items()}:
            raise SystemExit(f"{klass.__name__}: one_of_many differs from the validator")
        out: dict[str, Any] = {"resource": bool(klass.has_resource_base()), "elements": elements}
        if names:
            out["names"] = names
        if required:
            out["required"] = required
        if choices:
            out["choices"] = choices
        return out


def resource_names() -> list[str]:
    """Every ``resourceType`` fhir_core can look up and validate as an R4B resource.

    The names FHIR_TYPES_MAPS holds whose class descends from ``Resource`` (fhir_core's
    ``has_resource_base``). Importing the 600 model classes to ask them takes seconds, so the
    hierarchy is read from the sources: ``class Patient(domainresource.DomainResource):``.
    """
    from fhir.resources import R4B
    from fhir.resources.R4B import fhirtypes  # noqa: F401  (fills FHIR_TYPES_MAPS)
    from fhir_core.constraints import FHIR_TYPES_MAPS

    bases: dict[str, str] = {}
    for source in Path(R4B.__file__).parent.glob("*.py"):
        for name, base in CLASS_LINE.findall(source.read_text(encoding="utf-8")):
            bases[name] = base.rpartition(".")[2]

    def is_resource(name: str) -> bool:
        while name in bases:
            if name == "Resource":
                return True
            name = bases[name]
        return False

    out = []
    for key, path in FHIR_TYPES_MAPS.items():
        module, _, klass = path.rpartition(".")
        if key.startswith(PREFIX) and key.endswith("Type") and ".R4B." in module:
            name = key[len(PREFIX) : -len("Type")]
            if name == klass and is_resource(klass):
                out.append(name)
    return sorted(out)


def build() -> dict[str, Any]:
    walker = Walker()
    for root in ROOTS:
        walker.walk(_model_class(root))
    return {
        "about": {
            "what": (
                "FHIR R4B element table for pdz_casework.discharges.conformance, generated by "
                "python -m pdz_casework.discharges.fhir_schema --refresh"
            ),
            "source": (
                f"fhir.resources {metadata.version('fhir.resources')} and fhir_core "
                f"{metadata.version('fhir_core')} (BSD licence, "
                "https://github.com/nazrulworld/fhir.resources), generated from HL7 FHIR R4B "
                "4.3.0 (CC0, https://hl7.org/fhir/R4B/)"
            ),
            "flags": {
                "list": LIST,
                "required": REQUIRED,
                "null_items": NULL_ITEMS,
                "any_resource": ANY_RESOURCE,
                "not_null": NOT_NULL,
            },
        },
        "primitives": dict(sorted(walker.primitives.items())),
        "resources": resource_names(),
        "types": dict(sorted(walker.types.items())),
    }


def render(table: dict[str, Any]) -> str:
    """One line per type: small, and diffs show which type changed."""
    lines = ["{"]
    for key in ("about", "primitives", "resources"):
        lines.append(f"{json.dumps(key)}: {json.dumps(table[key], sort_keys=True)},")
    lines.append('"types": {')
    type_lines = [
        f"{json.dumps(name)}: {json.dumps(spec, separators=(',', ':'))}"
        for name, spec in table["types"].items()
    ]
    lines.append(",\n".join(type_lines))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--refresh", action="store_true", help=f"rewrite {OUTPUT.name}")
    action.add_argument("--check", action="store_true", help=f"fail if {OUTPUT.name} is stale")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale: run with --refresh", file=sys.stderr)
            return 1
        print(f"{OUTPUT.name} is current")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
