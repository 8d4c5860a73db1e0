"""FHIR R4 conformance of a discharge Bundle without building the fhir.resources models.

``check(data)`` walks the plain JSON with the element table in ``fhir_r4b_schema.json``
(generated from the fhir.resources R4B models by :mod:`.fhir_schema`) and returns every problem as
``{"name": "entry.1.resource.colour", "reason": "..."}``; an empty list when
``fhir.resources.R4B.bundle.Bundle.model_validate(data)`` would succeed. The names follow
pydantic's error locations joined with dots (array items by index); a choice group is named
``value[x]`` like in the FHIR specification.

What it reproduces of fhir.resources / fhir_core (BSD licence; FHIR itself is CC0):

- unknown elements (``extra="forbid"``; pydantic also accepts the Python field names, e.g.
  ``class_fhir`` or ``birthDate__ext``, unless the JSON name is there too);
- JSON types: object, array, string, number, boolean, and JSON text inside a string where an
  object is expected (fhir.resources parses it);
- every primitive format with fhir_core's rules: its regular expressions are applied with the
  semantics of pydantic's Rust engine (``\\s`` is Unicode White_Space, ``$`` only at the very end,
  unanchored patterns are searches), lengths, integer ranges, calendar dates, leap seconds,
  base64, uuid version 4;
- ``None`` inside arrays, required elements (pydantic's required fields and fhir_core's
  ``element_required``, satisfied by a ``_element`` extension), choice groups (``value[x]``),
  ``resourceType`` of the resource and of every nested object (fhir_core accepts the type name);
- resources: those in the table are walked here; a ``resourceType`` the table does not hold but
  fhir.resources knows (e.g. a ``Practitioner``) is validated, lazily, by fhir.resources itself,
  for that resource only; an unknown one is a problem (fhir.resources raises ``KeyError``).

Where fhir.resources leans on pydantic's lax conversions for values FHIR JSON never holds (a
string where FHIR wants a number or a boolean, e.g. ``"12"``, ``" 1_2 "``, ``"yes"``; a number
where it wants a date or a time, read as a Unix timestamp), the same leaf validator of
``pydantic_core`` is asked, imported on first need: the verdict stays the same without copying
its parser. No pydantic model is built.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

Problem = dict[str, str]
Check = Callable[[Any], str | None]

SCHEMA_FILE = "fhir_r4b_schema.json"
LIST, REQUIRED, NULL_ITEMS, ANY_RESOURCE, NOT_NULL = 1, 2, 4, 8, 16
OBJECT, RESOURCE, PRIMITIVE, COMMENTS = 0, 1, 2, 3
PRIMITIVE_EXTENSION = "FHIRPrimitiveExtension"

# --- primitive types ------------------------------------------------------------------------
# Unicode White_Space, what ``\s`` means to pydantic's (Rust) regex engine; Python's ``\s`` differs
# (it includes U+001C..U+001F), so the classes are spelled out.
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_WS = "[" + re.escape(WHITE_SPACE) + "]"
_NOT_WS = "[^" + re.escape(WHITE_SPACE) + "]"
# string ``[ \r\n\t\S]+`` (a search): at least one character that is not other white space.
_STRING_BLANK = "".join(c for c in WHITE_SPACE if c not in " \r\n\t")
_CODE = re.compile(f"{_NOT_WS}+(?:{_WS}{_NOT_WS}+)*")
_ID = re.compile(r"[A-Za-z0-9\-.]+")
_OID = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_DATE = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2]"
    r"[0-9]|3[0-1]))?)?"
)
_DATE_TIME = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|"
    r"3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|([+\-])((0[0-9]|"
    r"1[0-3]):[0-5][0-9]|14:00)))?)?)?"
)
_INSTANT = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|"
    r"3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|([+\-])((0[0-9]|"
    r"1[0-3]):[0-5][0-9]|14:00))"
)
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?")
_HEX = "[0-9a-fA-F]"
_UUID4 = f"{_HEX}{{8}}-{_HEX}{{4}}-4{_HEX}{{3}}-[89abAB]{_HEX}{{3}}-{_HEX}{{12}}"
# The forms pydantic reads (hyphenated, braced, urn:uuid:, 32 digits); version 4, RFC variant.
_UUID = re.compile(
    f"(?:urn:uuid:)?{_UUID4}|\\{{{_UUID4}\\}}|{_HEX}{{12}}4{_HEX}{{3}}[89abAB]{_HEX}{{15}}"
)
# The fhir_core / pydantic rules the functions below were written from. The generator records
# what the installed versions use; tests/test_fhir_conformance.py compares the two.
UPSTREAM_RULES: dict[str, dict[str, Any]] = {
    "base64Binary": {"marker": "Base64Binary", "python": "bytes"},
    "canonical": {"pattern": "\\S*", "python": "str"},
    "code": {"pattern": "^[^\\s]+(\\s[^\\s]+)*$", "python": "str"},
    "date": {"marker": "Date", "pattern": _DATE.pattern, "python": "date"},
    "dateTime": {"marker": "DateTime", "pattern": _DATE_TIME.pattern, "python": "datetime"},
    "decimal": {"marker": "Decimal", "pattern": f"^{_DECIMAL.pattern}$", "python": "Decimal"},
    "id": {"max_length": 255, "min_length": 1, "pattern": "^[A-Za-z0-9\\-.]+$", "python": "str"},
    "instant": {"marker": "Instant", "pattern": _INSTANT.pattern, "python": "datetime"},
    "integer": {"ge": -2147483648, "le": 2147483647, "python": "int"},
    "markdown": {"pattern": "\\s*(\\S|\\s)*", "python": "str"},
    "oid": {"pattern": f"^{_OID.pattern}$", "python": "str"},
    "positiveInt": {"ge": 1, "le": 2147483647, "python": "int"},
    "string": {"pattern": "[ \r\n\t\\S]+", "python": "str"},
    "time": {"marker": "Time", "pattern": _TIME.pattern, "python": "time"},
    "unsignedInt": {"ge": 0, "le": 2147483647, "python": "int"},
    "uri": {"pattern": "\\S*", "python": "str"},
    "url": {"marker": "Url", "python": "Union"},
    "uuid": {"python": "UUID", "uuid_version": 4},
    "xhtml": {"marker": "Xhtml", "python": "str"},
}


def _lone_surrogate(value: str) -> bool:
    """pydantic cannot hand such a string to its regex engine and rejects it."""
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _str_rules(value: Any, what: str) -> str | None:
    if type(value) is not str:
        return f"must be a JSON string ({what})"
    if _lone_surrogate(value):
        return "holds an unpaired surrogate (not valid Unicode)"
    return None


def _string(value: Any) -> str | None:
    if type(value) is str and value.strip(_STRING_BLANK) and value.isascii():
        return None  # the fast path: nearly every string
    wrong = _str_rules(value, "FHIR string")
    if wrong:
        return wrong
    if not value.strip(_STRING_BLANK):
        return "must not be empty or only white space"
    return None


def _searched(value: Any) -> str | None:
    # uri and canonical ``\S*``, markdown ``\s*(\S|\s)*``: searches that any string passes.
    if type(value) is str and value.isascii():
        return None
    return _str_rules(value, "FHIR uri or markdown")


def _plain_string(value: Any) -> str | None:
    # url and xhtml: fhir_core checks the type only (url accepts any string, even relative).
    return None if type(value) is str else "must be a JSON string"


def _code(value: Any) -> str | None:
    wrong = _str_rules(value, "FHIR code")
    if wrong:
        return wrong
    if _CODE.fullmatch(value) is None:
        return "not a FHIR code: no leading, trailing or repeated white space, not empty"
    return None


def _id(value: Any) -> str | None:
    wrong = _str_rules(value, "FHIR id")
    if wrong:
        return wrong
    if not 1 <= len(value) <= 255 or _ID.fullmatch(value) is None:
        return "not a FHIR id: 1 to 255 letters, digits, '-' or '.'"
    return None


def _oid(value: Any) -> str | None:
    wrong = _str_rules(value, "FHIR oid")
    if wrong:
        return wrong
    if _OID.fullmatch(value) is None:
        return "not a FHIR oid (urn:oid:1.2.3)"
    return None


def _uuid(value: Any) -> str | None:
    if type(value) is not str:
        return "must be a JSON string (a version 4 UUID)"
    if _UUID.fullmatch(value) is None:
        return "not a version 4 UUID"
    return None


def _base64(value: Any) -> str | None:
    wrong = _str_rules(value, "base64")
    if wrong:
        return wrong
    try:
        base64.b64decode(value.encode())
    except binascii.Error as exc:
        return f"not valid base64 ({exc})"
    return None


def _boolean(value: Any) -> str | None:
    if type(value) is bool:
        return None
    return _lax("bool", value, "must be true or false")


def _integer(low: int) -> Check:
    what = {0: "an integer from 0", 1: "an integer from 1"}.get(low, "a 32-bit integer")

    def check(value: Any) -> str | None:
        if type(value) is int:
            if low <= value <= 2147483647:
                return None
            return f"out of range: must be {what} to 2147483647"
        return _lax(f"int{low}", value, f"must be {what} to 2147483647")

    return check


def _decimal(value: Any) -> str | None:
    # fhir_core: the regular expression on str(value) (so true/false fail), then Decimal(value).
    kind = type(value)
    if kind is int or kind is float:
        return None if _DECIMAL.fullmatch(str(value)) else "must be a finite decimal number"
    if kind is not str or _DECIMAL.fullmatch(value) is None:
        return "must be a decimal number"
    try:
        decimal.Decimal(value)
    except decimal.InvalidOperation:
        return "a decimal number out of range"
    return None


def _calendar_date(value: str) -> bool:
    try:
        dt.date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return False
    return True


def _date(value: Any) -> str | None:
    if type(value) is str:
        if _DATE.fullmatch(value) is None:
            return "not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)"
        if len(value) == 10 and not _calendar_date(value):
            return "not a date of the calendar"
        return None
    return _lax("date", value, "must be a FHIR date string (YYYY-MM-DD)")


def _date_time(value: Any) -> str | None:
    if type(value) is str:
        if _DATE_TIME.fullmatch(value) is None:
            return "not a FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz)"
        if len(value) >= 10 and not _calendar_date(value):
            return "not a date of the calendar"
        return None
    return _lax("datetime", value, "must be a FHIR dateTime string")


def _instant(value: Any) -> str | None:
    if type(value) is str:
        if _INSTANT.fullmatch(value) is None:
            return "not a FHIR instant (YYYY-MM-DDThh:mm:ss.sss+zz:zz)"
        if not _calendar_date(value):
            return "not a date of the calendar"
        return None
    return _lax("datetime", value, "must be a FHIR instant string")


def _time(value: Any) -> str | None:
    if type(value) is str:
        return None if _TIME.fullmatch(value) else "not a FHIR time (hh:mm:ss)"
    return _lax("time", value, "must be a FHIR time string (hh:mm:ss)")


@cache
def _lax_validator(kind: str) -> Any:
    from pydantic_core import SchemaValidator, core_schema

    schemas: dict[str, Any] = {
        "bool": core_schema.bool_schema(),
        "int-2147483648": core_schema.int_schema(ge=-2147483648, le=2147483647),
        "int0": core_schema.int_schema(ge=0, le=2147483647),
        "int1": core_schema.int_schema(ge=1, le=2147483647),
        "date": core_schema.date_schema(),
        "datetime": core_schema.datetime_schema(),
        "time": core_schema.time_schema(),
    }
    return SchemaValidator(schemas[kind])


def _lax(kind: str, value: Any, reason: str) -> str | None:
    """pydantic's lax conversion, for values FHIR JSON does not hold (see the module doc)."""
    if isinstance(value, (dict, list)) or value is None:
        return reason
    try:
        _lax_validator(kind).validate_python(value)
    except ValueError:  # pydantic_core.ValidationError
        return reason
    return None  # (a number read as an instant is a UTC timestamp: it has its time zone)


PRIMITIVE_CHECKS: dict[str, Check] = {
    "base64Binary": _base64,
    "boolean": _boolean,
    "canonical": _searched,
    "code": _code,
    "date": _date,
    "dateTime": _date_time,
    "decimal": _decimal,
    "id": _id,
    "instant": _instant,
    "integer": _integer(-2147483648),
    "markdown": _searched,
    "oid": _oid,
    "positiveInt": _integer(1),
    "string": _string,
    "time": _time,
    "unsignedInt": _integer(0),
    "uri": _searched,
    "url": _plain_string,
    "uuid": _uuid,
    "xhtml": _plain_string,
}


# --- the element table ----------------------------------------------------------------------
@dataclass(slots=True)
class Element:
    key: str  # the JSON name (pydantic alias)
    name: str  # the Python field name, also accepted when ``key`` is absent
    kind: int
    target: str  # a type name (OBJECT) or a primitive name (PRIMITIVE)
    flags: int
    check: Check | None = None
    group: str | None = None

    def value(self, obj: dict[str, Any]) -> Any:
        if self.key in obj:
            return obj[self.key]
        return obj.get(self.name)

    def present(self, obj: dict[str, Any]) -> bool:
        return self.key in obj or self.name in obj


@dataclass(slots=True)
class TypeSpec:
    name: str
    resource: bool
    elements: dict[str, Element] = field(default_factory=dict)
    required: list[Element] = field(default_factory=list)
    element_required: list[tuple[Element, Element | None]] = field(default_factory=list)
    required_choices: list[str] = field(default_factory=list)  # groups that need a member


@dataclass(slots=True)
class Table:
    types: dict[str, TypeSpec]
    resources: frozenset[str]  # resourceType values fhir.resources can validate
    primitives: dict[str, dict[str, Any]]


def _element(key: str, entry: list[Any]) -> Element:
    kind_name, flags = entry[0], entry[1]
    group = entry[2] if len(entry) > 2 else None
    if kind_name == "fhir_comments":
        return Element(key, key, COMMENTS, kind_name, flags, group=group)
    if kind_name in PRIMITIVE_CHECKS:
        check = PRIMITIVE_CHECKS[kind_name]
        return Element(key, key, PRIMITIVE, kind_name, flags, check, group)
    kind = RESOURCE if flags & ANY_RESOURCE else OBJECT
    return Element(key, key, kind, kind_name, flags, group=group)


@cache
def table() -> Table:
    raw = json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text("utf-8"))
    types: dict[str, TypeSpec] = {}
    for type_name, spec in raw["types"].items():
        t = TypeSpec(type_name, spec["resource"])
        for key, entry in spec["elements"].items():
            t.elements[key] = _element(key, entry)
        for python_name, key in spec.get("names", {}).items():
            element = t.elements[key]
            element.name = python_name
            t.elements[python_name] = element
        for key in spec["elements"]:
            element = t.elements[key]
            if element.flags & REQUIRED:
                t.required.append(element)
        for key, ext in spec.get("required", []):
            t.element_required.append((t.elements[key], t.elements[ext] if ext else None))
        for group, (group_required, _members) in spec.get("choices", {}).items():
            if group_required:
                t.required_choices.append(group)
        types[type_name] = t
    return Table(types, frozenset(raw["resources"]), raw["primitives"])


# --- the walk -------------------------------------------------------------------------------
def check(data: Any) -> list[Problem]:
    """Every FHIR R4 conformance problem of a Bundle (``[]`` when fhir.resources accepts it)."""
    out: list[Problem] = []
    tab = table()
    if not isinstance(data, dict):
        out.append({"name": "", "reason": "the body must be a FHIR Bundle (a JSON object)"})
        return out
    try:
        _object(tab, data, tab.types["Bundle"], "", out)
    except RecursionError:  # pydantic gives up too
        out.append({"name": "", "reason": "the Bundle is nested too deeply"})
    return out


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _problem(out: list[Problem], name: str, reason: str) -> None:
    out.append({"name": name, "reason": reason})


def _object(tab: Table, obj: dict[str, Any], t: TypeSpec, path: str, out: list[Problem]) -> None:
    # FHIRAbstractModel.__init__: ``resourceType`` (else ``resource_type``) names the type.
    rt_key = "resourceType" if "resourceType" in obj else "resource_type"
    rt = obj.get(rt_key)
    if rt is not None and rt != t.name:
        _problem(out, _at(path, rt_key), f"must be {t.name}, not {rt!r}")
        return
    # FHIRPrimitiveExtension's "before" validator (its other one, no null in an array of
    # objects, is the ``NULL_ITEMS`` test below: only ``_element`` arrays may hold nulls).
    if t.name == PRIMITIVE_EXTENSION and all(
        obj.get(k) is None for k in ("id", "extension", "fhir_comments")
    ):
        _problem(out, path, "an element extension needs an id or an extension")
        return
    elements = t.elements
    chosen: dict[str, list[str]] | None = None  # choice group -> the members given
    for key, value in obj.items():
        if key == "resourceType" or key == "resource_type":
            continue
        found = elements.get(key)
        if found is None or (found.key != key and found.key in obj):
            _problem(out, _at(path, key), f"unknown element for FHIR R4 {t.name}")
            continue
        element = found
        if value is None:
            if element.flags & NOT_NULL and (element.flags & LIST or element.kind == PRIMITIVE):
                _problem(out, _at(path, key), "must not be null")
            continue
        if element.group is not None:
            if chosen is None:
                chosen = {}
            chosen.setdefault(element.group, []).append(key)
        if element.flags & LIST:
            if type(value) is not list:
                _problem(out, _at(path, key), "must be a JSON array")
                continue
            where = _at(path, key)
            for i, item in enumerate(value):
                if item is None:
                    if not element.flags & NULL_ITEMS:
                        _problem(out, f"{where}.{i}", "null is not allowed in this array")
                    continue
                _value(tab, element, item, f"{where}.{i}", out)
        elif element.kind == PRIMITIVE:
            reason = element.check(value)  # type: ignore[misc]
            if reason is not None:
                _problem(out, _at(path, key), reason)
        else:
            _value(tab, element, value, _at(path, key), out)
    # The "after" validators: required elements and choice groups.
    for element in t.required:
        if not element.present(obj):
            _problem(out, _at(path, element.key), "required")
    for element, ext in t.element_required:
        if element.value(obj) is None and not (ext is not None and _has_extension(ext.value(obj))):
            reason = (
                "required" if ext is None else f"required (a value, or an extension in {ext.key})"
            )
            _problem(out, _at(path, element.key), reason)
    for group, given in chosen.items() if chosen else ():
        if len(given) > 1:
            _problem(out, _at(path, f"{group}[x]"), f"only one of {', '.join(given)} may be given")
    for group in t.required_choices:
        if not chosen or group not in chosen:
            _problem(out, _at(path, f"{group}[x]"), f"required: one of {group}[x]")


def _has_extension(ext: Any) -> bool:
    """A ``_element`` sibling that stands in for a required value: it has extensions."""
    if isinstance(ext, str):
        ext = _json_object(ext)
    return isinstance(ext, dict) and bool(ext.get("extension"))


def _json_object(text: str) -> Any:
    """JSON text where an object is expected, read as fhir_core reads it (model_validate_json)."""
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if "\\u" in text and _lone_surrogate(json.dumps(parsed, ensure_ascii=False)):
        return None  # pydantic's JSON parser rejects an escaped unpaired surrogate
    return parsed


def _value(tab: Table, element: Element, value: Any, path: str, out: list[Problem]) -> None:
    kind = element.kind
    if kind == PRIMITIVE:
        reason = element.check(value)  # type: ignore[misc]
        if reason is not None:
            _problem(out, path, reason)
    elif kind == OBJECT:
        t = tab.types[element.target]
        if type(value) is dict:
            _object(tab, value, t, path, out)
        elif type(value) is str:
            # fhir_core parses JSON text given for an object (model_validate_json).
            parsed = _json_object(value)
            if isinstance(parsed, dict):
                _object(tab, parsed, t, path, out)
            else:
                _problem(out, path, f"must be a JSON object (FHIR {t.name})")
        else:
            _problem(out, path, f"must be a JSON object (FHIR {t.name})")
    elif kind == RESOURCE:
        _resource(tab, value, path, out)
    elif not (type(value) is str or (type(value) is list and all(type(c) is str for c in value))):
        _problem(out, path, "fhir_comments must be a string or an array of strings")


def _resource(tab: Table, value: Any, path: str, out: list[Problem]) -> None:
    if type(value) is str:
        # JSON text is read as the base Resource (fhir_core does not look at its resourceType).
        parsed = _json_object(value)
        if isinstance(parsed, dict):
            _object(tab, parsed, tab.types["Resource"], path, out)
        else:
            _problem(out, path, "must be a FHIR resource (a JSON object)")
        return
    if type(value) is not dict:
        _problem(out, path, "must be a FHIR resource (a JSON object)")
        return
    if "resourceType" not in value:
        _object(tab, value, tab.types["Resource"], path, out)
        return
    rt = value["resourceType"]
    spec = tab.types.get(rt) if type(rt) is str else None
    if spec is not None and spec.resource:
        _object(tab, value, spec, path, out)
    elif type(rt) is str and rt in tab.resources:
        _fallback(rt, value, path, out)
    else:
        _problem(out, _at(path, "resourceType"), f"unknown FHIR R4 resource type {rt!r}")


def _fallback(resource_type: str, value: dict[str, Any], path: str, out: list[Problem]) -> None:
    """A resource type outside the table: fhir.resources validates it (imported on first use)."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    try:
        get_fhir_model_class(resource_type).model_validate(value)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(p) for p in error["loc"] if p != "root"]
            _problem(out, ".".join([path, *loc]) if path else ".".join(loc), error["msg"])
    except Exception as exc:  # fhir_core raises KeyError, TypeError... for some inputs
        _problem(out, path, f"not a valid FHIR R4 {resource_type}: {exc!r}")
