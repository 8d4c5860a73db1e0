"""conformance.check gives the verdict of fhir.resources' Bundle.model_validate, without its models.

Pure functions: no database, no broker (the module overrides the package's autouse ``clean``).

No case is known where the two verdicts differ; the equivalence tests below have no exclusions.
Two places where they could, and what is done about them:

- fhir.resources raises ``KeyError``/``TypeError``/``AttributeError`` instead of a
  ValidationError for some inputs (an unknown or non-string ``resourceType`` of an entry, a number
  in a ``url`` element); ``check`` reports a problem. Both reject the Bundle: the equivalence counts
  any exception as "rejected".
- JSON text inside a string where an object is expected: fhir_core parses it with pydantic's JSON
  parser, ``check`` with ``json.loads`` (escaped unpaired surrogates rejected like pydantic does).
  The variants below include such strings; a fuzzer of JSON syntax could still find a difference.
"""

from __future__ import annotations

import base64
import copy
import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.narrative import Narrative
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from pdz_casework.discharges import conformance, fhir_schema
from pdz_casework.discharges.conformance import PRIMITIVE_CHECKS, check

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "dimissione-protetta-sebino.json"
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(autouse=True)
def clean() -> None:
    """These tests use no database: replaces the package's autouse fixture that truncates it."""


def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    return data


def rich() -> dict[str, Any]:
    """The sample with many more elements and types, still valid, so that mutations reach them."""
    data = sample()
    data["meta"] = {
        "lastUpdated": "2026-03-02T11:20:00.123+01:00",
        "profile": ["https://pdz.example.it/fhir/StructureDefinition/dimissione"],
        "tag": [{"system": "urn:oid:2.16.840.1.113883.2.9", "code": "x", "userSelected": True}],
    }
    data["identifier"] = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:1"}
    entries = data["entry"]
    header = entries[0]["resource"]
    header["reason"] = {"coding": [{"code": "new", "version": "1.0"}]}
    header["_language"] = {"extension": [{"url": "https://x.it/e", "valueCode": "it"}]}
    header["language"] = "it-IT"
    organization = entries[1]["resource"]
    organization["telecom"] = [{"system": "phone", "value": "030 1234", "rank": 1}]
    organization["active"] = True
    organization["alias"] = ["ASST", None]
    organization["_alias"] = [None, {"extension": [{"url": "https://x.it/e", "valueString": "a"}]}]
    patient = entries[2]["resource"]
    patient["text"] = {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml">L</div>',
    }
    patient["contained"] = [{"resourceType": "Organization", "id": "mmg", "name": "Studio"}]
    patient["extension"] = [
        {"url": "https://x.it/e/1", "valueBoolean": False},
        {"url": "https://x.it/e/2", "valueInteger": -3},
        {"url": "https://x.it/e/3", "valueDecimal": 1.5},
        {"url": "https://x.it/e/4", "valueDateTime": "2026-02-24T08:00:00Z"},
        {"url": "https://x.it/e/5", "valueUuid": "urn:uuid:6f1c2d3e-0001-4a5b-9c8d-000000000009"},
        {"url": "https://x.it/e/6", "valueBase64Binary": "UERaIGFtYml0bw=="},
        {"url": "https://x.it/e/7", "valueOid": "urn:oid:2.16.840.1"},
        {"url": "https://x.it/e/8", "valueTime": "10:30:00"},
        {"url": "https://x.it/e/9", "valueInstant": "2026-02-24T08:00:00.5+01:00"},
        {"url": "https://x.it/e/10", "valuePeriod": {"start": "2026", "end": "2026-04"}},
        {"url": "https://x.it/e/11", "valueQuantity": {"value": 70, "unit": "kg", "code": "kg"}},
        {"url": "https://x.it/e/12", "valueUnsignedInt": 0, "id": "e12"},
        {"url": "https://x.it/e/13", "valuePositiveInt": 4},
        {"url": "https://x.it/e/14", "valueMarkdown": "**Sì**", "valueUrl": None},
        {"url": "https://x.it/e/15", "extension": [{"url": "a", "valueId": "a-1.b"}]},
    ]
    patient["name"][0]["given"] = ["Luigi", None]
    patient["name"][0]["_given"] = [
        None,
        {"extension": [{"url": "https://x.it/e", "valueString": "G"}]},
    ]
    patient["_birthDate"] = {"extension": [{"url": "https://x.it/e", "valueCode": "approx"}]}
    patient["deceasedBoolean"] = False
    patient["multipleBirthInteger"] = 2
    patient["telecom"] = [{"system": "email", "value": "l@example.it", "period": {"start": "2020"}}]
    patient["contact"] = [
        {
            "relationship": [{"text": "figlia"}],
            "name": {"family": "Bonetti", "given": ["Anna"]},
            "telecom": [{"system": "phone", "value": "333"}],
        }
    ]
    patient["communication"] = [{"language": {"coding": [{"code": "it"}]}, "preferred": True}]
    patient["maritalStatus"] = {"text": "vedovo"}
    patient["active"] = True
    patient["meta"] = {"versionId": "2", "security": [{"code": "N"}]}
    encounter = entries[3]["resource"]
    encounter["statusHistory"] = [{"status": "planned", "period": {"start": "2026-02-20"}}]
    encounter["classHistory"] = [{"class": {"code": "IMP"}, "period": {"end": "2026-02-24"}}]
    encounter["priority"] = {"coding": [{"code": "R"}]}
    encounter["participant"] = [{"individual": {"reference": "Practitioner/p1"}}]
    encounter["diagnosis"] = [{"condition": {"reference": "urn:uuid:c"}, "rank": 1}]
    encounter["length"] = {"value": 14, "unit": "d", "system": "http://unitsofmeasure.org"}
    encounter["location"] = [{"location": {"display": "Medicina"}, "status": "active"}]
    encounter["extension"] = [
        {
            "url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate",
            "valueDateTime": "2026-03-09",
        }
    ]
    condition = entries[4]["resource"]
    condition["clinicalStatus"] = {"coding": [{"code": "active"}]}
    condition["onsetDateTime"] = "2026-02-23T22:10:00+01:00"
    condition["recordedDate"] = "2026-02-24"
    condition["note"] = [{"text": "Caduta in casa", "authorString": "dr. Rossi"}]
    condition["stage"] = [{"summary": {"text": "II"}}]
    request = entries[5]["resource"]
    request["occurrencePeriod"] = {"start": "2026-03-09"}
    request["authoredOn"] = "2026-03-02T11:00:00+01:00"
    request["quantityQuantity"] = {"value": 3, "comparator": "<"}
    request["priority"] = "urgent"
    request["requester"] = {"identifier": {"value": "x"}, "display": "COT"}
    request["fhir_comments"] = ["generated"]
    entries.append({"request": {"method": "GET", "url": "Patient?x=1"}, "search": {"score": 0.5}})
    return data


def fhir_accepts(data: Any) -> bool:
    try:
        Bundle.model_validate(data)
    except Exception:  # a ValidationError, or KeyError/TypeError for some resourceType values
        return False
    return True


def test_the_sample_and_the_rich_variant_conform() -> None:
    for data in (sample(), rich()):
        assert fhir_accepts(data)
        assert check(data) == []


def test_the_committed_table_is_what_the_generator_writes() -> None:
    path = fhir_schema.OUTPUT
    assert path.read_text(encoding="utf-8") == fhir_schema.render(fhir_schema.build())


def test_the_resource_types_are_those_fhir_core_validates_as_resources() -> None:
    listed = conformance.table().resources
    assert len(listed) == 143
    for name in [
        "Bundle",
        "Patient",
        "Practitioner",
        "Resource",
        "DomainResource",
        "Meta",
        "Coding",
    ]:
        assert (name in listed) == get_fhir_model_class(name).has_resource_base()
    assert "PatientContact" not in listed
    assert "Patientx" not in listed


def test_the_validator_copies_the_rules_the_installed_fhir_core_uses() -> None:
    assert conformance.table().primitives == conformance.UPSTREAM_RULES
    assert set(conformance.table().primitives) == set(PRIMITIVE_CHECKS) - {"boolean"}


# --- the mutations -----------------------------------------------------------------------------

Path_ = tuple[str | int, ...]


def nodes(value: Any, path: Path_ = ()) -> list[Path_]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(nodes(item, (*path, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(nodes(item, (*path, i)))
    return out


def get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


# fmt: off
ODD_VALUES: list[Any] = [
    None, "", " ", "x", "a  b", " a", "\u00a0", "\x0b", "\x1c", "a\ud800", "é", "2026-02-30",
    "2026-13-01", "2026", "2026-02", "2026-02-24T10:00:00Z", "2026-02-24T10:00",
    "2026-02-24T24:00:00Z", "2016-12-31T23:59:60Z", "10:00", "10:00:00", "23:59:60", "24:00:00",
    0, 1, -1, 2, 2**31, -(2**31) - 1, 1.0, 1.5, -0.0, 1e300, 86400, True, False, "true", "yes",
    "no", "12", " 12 ", "1_2", "0-1", "1.0", "1e5", "01", "urn:oid:1.2", "urn:oid:3",
    "urn:uuid:6f1c2d3e-0001-4a5b-9c8d-000000000001", "6f1c2d3e-0001-1a5b-9c8d-000000000001",
    "YQ==", "YQ", "a" * 256, "a.b-c", [], [None], [1], ["x"], [{}], {}, {"extension": []},
    {"id": "x"}, {"resourceType": "Meta"}, '{"id": "x"}', '{"resourceType": "Patient"}',
    '{"id": "\\ud800"}', "[1]", "{", "null",
]
# fmt: on
# fmt: off
KEYS = [
    "colour", "resourceType", "resource_type", "fhir_comments", "id", "extension", "class_fhir",
    "birthDate__ext", "_birthDate", "_status", "status__ext", "_url", "url", "valueString",
    "valueCode", "_valueCode", "value", "deceasedDateTime", "eventUri", "div", "text",
    "contained", "modifierExtension", "_given", "given", "system", "code",
]
# fmt: on
RESOURCES: list[Any] = [
    {"resourceType": "Patient"},
    {"resourceType": "Patient", "birthDate": "2020-02-30"},
    {"resourceType": "Practitioner", "name": [{"family": "R"}]},
    {"resourceType": "Practitioner", "gender": " male"},
    {"resourceType": "Practitioner", "colour": 1},
    {"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
    {"resourceType": "Observation", "code": {"text": "x"}},
    {"resourceType": "DomainResource", "text": {"status": "empty", "div": "<div/>"}},
    {"resourceType": "Resource", "id": "r"},
    {"resourceType": "Patientx"},
    {"resourceType": "Meta"},
    {"resourceType": "PatientContact"},
    {"resourceType": None},
    {"resourceType": 5},
    {"id": "no-type"},
    {"resource_type": "Patient"},
    {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"id": "x"}}]},
    {"resourceType": "Bundle", "entry": []},
    {"resourceType": "Encounter", "status": "planned", "class": None},
    {"resourceType": "Encounter", "status": "planned"},
]


CHOICE_PREFIXES = ("value", "deceased", "multipleBirth", "onset", "occurrence", "event")
SIBLINGS: dict[str, Any] = {"String": "x", "Boolean": True, "DateTime": "2020", "Code": "c"}


def choice_member(obj: dict[str, Any]) -> str | None:
    """A choice group ``obj`` has a member of (``valueCode`` -> ``value``), if any."""
    for key in obj:
        for prefix in CHOICE_PREFIXES:
            if key.startswith(prefix) and key[len(prefix) : len(prefix) + 1].isupper():
                return prefix
    return "value" if "url" in obj else None


REPLACEMENTS: list[Any] = [
    None,
    "",
    "\x0b",
    0,
    1.5,
    True,
    [],
    {},
    "2026-02-30",
    "a  b",
    '{"id": "x"}',
]


def single_mutations(data: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """Every single mutation of every node: (what, the new Bundle, where a problem must show)."""
    out: list[tuple[str, dict[str, Any], str]] = []

    def variant(what: str, path: Path_, where: Path_, change: Any) -> None:
        copied = copy.deepcopy(data)
        change(copied, get(copied, path))
        out.append((f"{what} at {dotted(path)}", copied, dotted(where)))

    def put(parent: Path_, key: str | int, value: Any) -> Any:
        return lambda d, _: get(d, parent).__setitem__(key, copy.deepcopy(value))

    def drop(parent: Path_, key: str) -> Any:
        return lambda d, _: get(d, parent).pop(key)

    for path in nodes(data):
        target = get(data, path)
        if path:
            key, parent = path[-1], path[:-1]
            if isinstance(key, str):
                variant("delete", path, parent, drop(parent, key))
            for value in REPLACEMENTS:
                variant(f"replace with {value!r}", path, parent, put(parent, key, value))
            variant("wrap", path, parent, put(parent, key, [target]))
            if isinstance(target, list) and target:
                variant("unwrap", path, parent, put(parent, key, target[0]))
        if isinstance(target, list):
            variant("null item", path, path, lambda _, t: t.append(None))
        if isinstance(target, dict):
            variant("unknown key", path, path, lambda _, t: t.update(colour=1))
            variant("resourceType", path, path, lambda _, t: t.update(resourceType="Coding"))
            for name in [k for k in target if not k.startswith("_")]:
                variant(
                    f"_{name}", path, path, lambda _, t, k=name: t.update({f"_{k}": {"id": "e"}})
                )
                variant(
                    f"{name}__ext", path, path, lambda _, t, k=name: t.update({f"{k}__ext": {}})
                )
            if "class" in target:
                variant("class_fhir", path, path, lambda _, t: t.update(class_fhir=t["class"]))
            group = choice_member(target)
            for suffix, value in SIBLINGS.items() if group else []:
                variant(
                    f"{group}{suffix}",
                    path,
                    path,
                    lambda _, t, k=f"{group}{suffix}", v=value: t.update({k: v}),
                )
    return out


@st.composite
def mutations(draw: st.DrawFn, data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """1 to 3 random mutations; returns the new Bundle and, per mutation, where a problem shows."""
    data = copy.deepcopy(data)
    where: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        paths = nodes(data)
        objects = [p for p in paths if isinstance(get(data, p), dict)]
        action = draw(
            st.sampled_from(
                ["key", "replace", "delete", "wrap", "unwrap", "choice", "resource", "null", "type"]
            )
        )
        if action == "key":
            path = draw(st.sampled_from(objects))
            target = get(data, path)
            new_key = draw(st.sampled_from(KEYS) | st.sampled_from([f"{k}__ext" for k in target]))
            target[new_key] = draw(st.sampled_from([*ODD_VALUES, *RESOURCES]))
            where.append(dotted(path))
        elif action in ("replace", "delete", "wrap", "unwrap") and len(paths) > 1:
            path = draw(st.sampled_from(paths[1:]))
            parent, key, target = get(data, path[:-1]), path[-1], get(data, path)
            where.append(dotted(path[:-1]))
            if action == "replace":
                parent[key] = draw(
                    st.sampled_from(ODD_VALUES)
                    | st.text(max_size=6)
                    | st.integers(-(2**33), 2**33)
                    | st.floats(allow_nan=True, allow_infinity=True)
                )
            elif action == "delete" and isinstance(parent, dict):
                del parent[key]
            elif action == "wrap":
                parent[key] = [target]
            elif isinstance(target, list) and target:
                parent[key] = target[0]
        elif action == "choice":
            with_choice = [p for p in objects if choice_member(get(data, p))]
            if with_choice:
                path = draw(st.sampled_from(with_choice))
                target = get(data, path)
                suffix = draw(st.sampled_from(sorted(SIBLINGS)))
                target[f"{choice_member(target)}{suffix}"] = SIBLINGS[suffix]
                where.append(dotted(path))
        elif action == "resource":
            entries = data.setdefault("entry", [])
            if isinstance(entries, list):
                entries.append({"resource": copy.deepcopy(draw(st.sampled_from(RESOURCES)))})
            where.append("")
        elif action == "null":
            lists = [p for p in paths if isinstance(get(data, p), list)]
            if lists:
                path = draw(st.sampled_from(lists))
                get(data, path).append(None)
                where.append(dotted(path))
        elif action == "type":
            path = draw(st.sampled_from(objects))
            get(data, path)["resourceType"] = draw(
                st.sampled_from(["Patient", "Meta", "Coding", "x", None])
            )
            where.append(dotted(path))
    return data, where


def near(name: str, where: str) -> bool:
    return not where or name == where or name.startswith(f"{where}.") or where.startswith(name)


def test_same_verdict_as_fhir_resources_on_every_single_mutation_of_the_sample() -> None:
    variants = single_mutations(sample())
    assert len(variants) > 1500
    rejected = 0
    for what, data, where in variants:
        problems = check(data)
        assert (problems == []) == fhir_accepts(data), (what, problems)
        if problems:
            rejected += 1
            assert any(near(p["name"], where) for p in problems), (what, problems)
    assert rejected > len(variants) // 2


@seed(20260302)
@SETTINGS
@given(mutations(rich()))
def test_same_verdict_as_fhir_resources_on_mutated_bundles(
    variant: tuple[dict[str, Any], list[str]],
) -> None:
    data, where = variant
    problems = check(data)
    assert (problems == []) == fhir_accepts(data), problems
    if problems and len(where) == 1:
        assert any(near(p["name"], where[0]) for p in problems), (where, problems)


@seed(20260303)
@SETTINGS
@given(mutations(sample()))
def test_same_verdict_as_fhir_resources_on_the_plain_sample(
    variant: tuple[dict[str, Any], list[str]],
) -> None:
    data, _ = variant
    assert (check(data) == []) == fhir_accepts(data), check(data)


# --- primitives, one at a time ---------------------------------------------------------------

PRIMITIVE_FIELDS = {
    name: f"value{name[0].upper()}{name[1:]}" for name in PRIMITIVE_CHECKS if name != "xhtml"
}
REGEXES = {
    "code": r"[a-z]{1,3}( [a-z]{1,2})?",
    "id": r"[A-Za-z0-9.\-]{1,8}",
    "oid": r"urn:oid:[0-2](\.(0|[1-9][0-9]{0,2})){1,3}",
    "decimal": r"-?(0|[1-9][0-9]{0,3})(\.[0-9]{1,3})?([eE][+-]?[0-9]{1,3})?",
    "date": r"[0-9]{4}(-[01][0-9](-[0-3][0-9])?)?",
    "dateTime": r"[0-9]{4}-[01][0-9]-[0-3][0-9](T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{1,9})?"
    r"(Z|[+-][01][0-9]:[0-5][0-9]))?",
    "instant": r"[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{1,3})?"
    r"(Z|[+-][01][0-9]:[0-5][0-9])",
    "time": r"[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{1,9})?",
    "uuid": r"(urn:uuid:)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-f]{4}-[0-9a-fA-F]{4}-[0-9a-f]{12}",
    "base64Binary": r"[A-Za-z0-9+/= ]{0,9}",
    "integer": r"[ +\-]?[0-9_]{1,11}(\.0?)? ?",
    "boolean": r"(?i)(t|f|y|n|yes|no|on|off|true|false|0|1|2)",
}


def values(name: str) -> st.SearchStrategy[Any]:
    regex = REGEXES.get(name, REGEXES["integer"] if name.endswith(("Int", "integer")) else "")
    strategies: list[st.SearchStrategy[Any]] = [
        st.text(max_size=8),
        st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000a", max_size=4),
        st.integers(-(2**40), 2**40),
        st.floats(),
        st.booleans(),
        st.sampled_from(ODD_VALUES),
    ]
    if regex:
        strategies.append(st.from_regex(regex, fullmatch=True))
        strategies.append(st.from_regex(regex, fullmatch=True).map(lambda s: s + " "))
    return st.one_of(strategies)


def fhir_primitive_accepts(name: str, value: Any) -> bool:
    try:
        if name == "xhtml":
            Narrative.model_validate({"status": "generated", "div": value})
        else:
            Extension.model_validate({"url": "u", PRIMITIVE_FIELDS[name]: value})
    except Exception:
        return False
    return True


@pytest.mark.parametrize("name", sorted(PRIMITIVE_CHECKS))
def test_each_primitive_accepts_what_fhir_core_accepts(name: str) -> None:
    @seed(zlib.crc32(name.encode()))
    @settings(max_examples=100, deadline=None, database=None)
    @given(values(name))
    def same(value: Any) -> None:
        if value is None:  # an absent value: the element is simply not there
            return
        ours = PRIMITIVE_CHECKS[name](value) is None
        assert ours == fhir_primitive_accepts(name, value), (name, value)

    same()


# fmt: off
EDGES: list[Any] = [
    *ODD_VALUES, "a" * 255, "a" * 256, "1" * 255 + ".", "1e999999999999999999",
    "1e99999999999999999999", "-0", "0.0", "1E+5", ".5", "5.", 2147483647, 2147483648,
    -2147483648, -2147483649, "2147483647", "2147483648", "+1", " 0 ", "0.000", "1_000_000",
    "\u0661", 86399.5, -86400, 2e10 + 1, "2020-02-29", "2021-02-29", "2020-04-31", "0001-01-01",
    "0000",
    "2020-06-30T23:59:60Z", "2020-02-30T10:00:00Z", "2020-01-01T10:00:00.123456789+14:00",
    "2020-01-01T10:00:00+14:01", "{6f1c2d3e-0001-4a5b-9c8d-000000000001}",
    "6f1c2d3e00014a5b9c8d000000000001", "URN:UUID:6f1c2d3e-0001-4a5b-9c8d-000000000001", "YQ==\n",
    "Y Q = =", "!!!!", "é", "a\u00a0b", "a\x1cb", "\u2028", "a\n", "urn:oid:1.2\n",
    "urn:oid:1.02", "On", "OFF", "tRuE",
]
# fmt: on


@pytest.mark.parametrize("name", sorted(PRIMITIVE_CHECKS))
def test_each_primitive_on_the_edge_cases(name: str) -> None:
    for value in EDGES:
        if value is not None:
            ours = PRIMITIVE_CHECKS[name](value) is None
            assert ours == fhir_primitive_accepts(name, value), (name, value)


def test_base64_is_decoded_the_way_pydantic_decodes_it() -> None:
    assert base64.b64decode(b"!!!!") == b""  # pydantic drops what is not base64, so do we
    assert PRIMITIVE_CHECKS["base64Binary"]("!!!!") is None
    assert PRIMITIVE_CHECKS["base64Binary"]("YQ") is not None


# --- the problem names -----------------------------------------------------------------------


def names(data: dict[str, Any]) -> list[str]:
    return [p["name"] for p in check(data)]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["entry"][1]["resource"].update(colour="red"), ["entry.1.resource.colour"]),
        (
            lambda d: d["entry"][2]["resource"].update(birthDate="1935-02-30"),
            ["entry.2.resource.birthDate"],
        ),
        (
            lambda d: d["entry"][2]["resource"]["name"][0].update(given=["Luigi", ""]),
            ["entry.2.resource.name.0.given.1"],
        ),
        (
            lambda d: d["entry"][2]["resource"]["address"][0]["extension"][0].update(
                valueString="x"
            ),
            ["entry.2.resource.address.0.extension.0.value[x]"],
        ),
        (lambda d: d["entry"][3]["resource"].pop("status"), ["entry.3.resource.status"]),
        (lambda d: d["entry"][3]["resource"].pop("class"), ["entry.3.resource.class"]),
        (lambda d: d["entry"][3]["resource"].update(period=[]), ["entry.3.resource.period"]),
        (
            lambda d: d["entry"][3]["resource"].update(identifier={}),
            ["entry.3.resource.identifier"],
        ),
        (lambda d: d["entry"][0]["resource"].pop("eventCoding"), ["entry.0.resource.event[x]"]),
        (
            lambda d: d["entry"][0]["resource"]["eventCoding"].update(code="a  b"),
            ["entry.0.resource.eventCoding.code"],
        ),
        (lambda d: d.update(id="dimissione_1"), ["id"]),
        (lambda d: d.update(timestamp="2026-03-02"), ["timestamp"]),
        (lambda d: d.update(type=None), ["type"]),
        (lambda d: d.update(resourceType="Patient"), ["resourceType"]),
        (lambda d: d["entry"].append(None), ["entry.6"]),
        (
            lambda d: d["entry"].append({"resource": {"resourceType": "Patientx"}}),
            ["entry.6.resource.resourceType"],
        ),
        (
            lambda d: d["entry"].append({"resource": {"resourceType": "Practitioner", "x": 1}}),
            ["entry.6.resource.x"],
        ),
        (
            lambda d: d["entry"][2]["resource"].update(contained=[{"resourceType": "Meta"}]),
            ["entry.2.resource.contained.0.resourceType"],
        ),
        (
            lambda d: d["entry"][2]["resource"]["name"][0].update(_family={}),
            ["entry.2.resource.name.0._family"],
        ),
    ],
)
def test_problem_names_point_at_the_offending_element(change: Any, expected: list[str]) -> None:
    data = sample()
    change(data)
    assert not fhir_accepts(data)
    assert names(data) == expected


def test_reasons_are_plain_english() -> None:
    data = sample()
    data["entry"][3]["resource"]["status"] = "in progress "
    data["entry"][3]["resource"]["period"]["start"] = "24/02/2026"
    reasons = {p["name"]: p["reason"] for p in check(data)}
    assert reasons == {
        "entry.3.resource.status": (
            "not a FHIR code: no leading, trailing or repeated white space, not empty"
        ),
        "entry.3.resource.period.start": (
            "not a FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz)"
        ),
    }


def test_a_resource_outside_the_table_is_checked_by_fhir_resources_alone() -> None:
    data = sample()
    data["entry"].append({"resource": {"resourceType": "Practitioner", "gender": " male"}})
    assert check(data) == [
        {
            "name": "entry.6.resource.gender",
            "reason": "String should match pattern '^[^\\s]+(\\s[^\\s]+)*$'",
        }
    ]


def test_not_an_object() -> None:
    assert names([]) == [""]  # type: ignore[arg-type]
    assert check("x") == [{"name": "", "reason": "the body must be a FHIR Bundle (a JSON object)"}]
