"""Hostile inputs (tests/hostile/corpus.yaml) against the running services.

Every refused request answers a 4xx application/problem+json with type, title, status and
detail, and writes nothing (the counters named by the entry read the same before and after).
Accepted hostile strings are stored and returned byte for byte, never evaluated; exported
spreadsheet cells that a spreadsheet would run as formulas are inert.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import csv
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml
from stack_helpers import unique_cf

from pdz_shared.auth import mint_token
from pdz_shared.errors import PROBLEM_TYPE_BASE
from pdz_shared.settings import CommonSettings

REPO = Path(__file__).resolve().parents[1]
CORPUS: list[dict[str, Any]] = yaml.safe_load((REPO / "tests/hostile/corpus.yaml").read_text())
SAMPLE = REPO / "services/casework/samples/dimissione-protetta-sebino.json"
SEBINO = "AMBITO-05-SEBINO"
PORTS = {"plans": 8001, "indicators": 8002, "casework": 8003, "notifications": 8004}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@")


def url(service: str, path: str) -> str:
    return f"http://127.0.0.1:{PORTS[service]}{path}"


# ------------------------------------------------------------------ bodies


def substitute(value: Any, marks: dict[str, str]) -> Any:
    if isinstance(value, str):
        for k, v in marks.items():
            value = value.replace(k, v)
        return value
    if isinstance(value, list):
        return [substitute(v, marks) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, marks) for k, v in value.items()}
    return value


def _walk(doc: Any, dotted: str) -> tuple[Any, str | int]:
    *parents, last = dotted.split(".")
    for p in parents:
        doc = doc[int(p)] if isinstance(doc, list) else doc[p]
    return doc, int(last) if isinstance(doc, list) else last


def bundle_bytes(spec: dict[str, Any], marks: dict[str, str]) -> bytes:
    data = json.loads(SAMPLE.read_text())
    # A fresh encounter each time: an accepted Bundle must never be an old one replayed.
    data["entry"][3]["resource"]["identifier"][0]["value"] = f"HOSTILE-{marks['<run>']}"
    for dotted, value in (spec.get("set") or {}).items():
        parent, key = _walk(data, dotted)
        parent[key] = copy.deepcopy(value)
    for dotted in spec.get("delete") or []:
        parent, key = _walk(data, dotted)
        del parent[key]
    raw = json.dumps(data).encode()
    return raw[: spec["truncate"]] if "truncate" in spec else raw


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buf.getvalue()


def xlsx_without_plan() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Altro"
    ws.append(["=1+1", "x"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_deep_json_cell(depth: int) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Piano"
    ws.append(["campo", "valore"])
    objectives = wb.create_sheet("Obiettivi")
    objectives.append(["code", "title", "answers"])
    objectives.append(["OB-1", "Obiettivo", "[" * depth + "]" * depth])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def big_json(megabytes: int) -> bytes:
    filler = b"a" * (megabytes * 1024 * 1024)
    return b'{"resourceType": "Bundle", "padding": "' + filler + b'"}'


def body_of(spec: dict[str, Any] | None, marks: dict[str, str]) -> tuple[bytes | None, str | None]:
    """The bytes of a corpus body, and the Content-Type it implies (multipart only)."""
    if spec is None:
        return None, None
    if "json" in spec:
        return json.dumps(substitute(spec["json"], marks)).encode(), None
    if "text" in spec:
        return substitute(spec["text"], marks).encode(), None
    gen = spec["generator"]
    if gen == "bundle":
        return bundle_bytes(spec, marks), None
    if gen == "raw_bytes":
        return bytes.fromhex(spec["hex"]), None
    if gen == "nested_json":
        return b"[" * spec["depth"] + b"]" * spec["depth"], None
    if gen == "huge_integer":
        return b'{"resourceType": "Bundle", "total": ' + b"7" * spec["digits"] + b"}", None
    if gen == "big_json":
        return big_json(spec["megabytes"]), None
    if gen == "zip_garbage":
        return b"PK\x03\x04" + bytes(range(256)) * 40, None
    if gen == "zip_not_xlsx":
        return zip_of({"readme.txt": b"not a workbook", "[Content_Types].xml": b"<x/>"}), None
    if gen == "xlsx_without_plan":
        return xlsx_without_plan(), None
    if gen == "xlsx_deep_json_cell":
        return xlsx_deep_json_cell(spec["depth"]), None
    if gen == "multipart":
        content, _ = body_of(spec["content"], marks)
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{spec["field"]}"; '
            f'filename="{spec["filename"]}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        return (
            head + (content or b"") + f"\r\n--{boundary}--\r\n".encode(),
            f"multipart/form-data; boundary={boundary}",
        )
    raise AssertionError(f"unknown generator {gen}")


# ------------------------------------------------------------------ tokens


def tokens(common: CommonSettings) -> dict[str, str | None]:
    def bearer(token: str) -> str:
        return f"Bearer {token}"

    def token(*roles: str, **kw: Any) -> str:
        return mint_token(common, sub="hostile", roles=roles, ambiti=[SEBINO], **kw)

    good = token("udp_admin")
    head, payload, _ = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-platform-key-" + "x" * 32, algorithm="HS256")
    none = jwt.encode(claims, None, algorithm="none")
    hs512 = jwt.encode(claims, common.signing_secret(), algorithm="HS512")
    wrong_aud = jwt.encode({**claims, "aud": "someone-else"}, common.signing_secret())
    not_list = jwt.encode({**claims, "roles": "platform_admin"}, common.signing_secret())
    return {
        "none": None,
        "asst": bearer(token("asst_system")),
        "pua": bearer(token("pua_operator", "social_worker")),
        "udp_admin": bearer(good),
        "admin": bearer(token("platform_admin")),
        "expired": bearer(token("udp_admin", "pua_operator", ttl_seconds=-60)),
        "forged": bearer(forged),
        "unsigned": bearer(f"{head}.{payload}."),
        "alg_none": bearer(none),
        "hs512": bearer(hs512),
        "garbage": bearer("not.a.jwt"),
        "basic": "Basic " + base64.b64encode(b"admin:admin").decode(),
        "wrong_audience": bearer(wrong_aud),
        "roles_not_list": bearer(not_list),
    }


# ------------------------------------------------------------------ the stack's state


@dataclass
class World:
    http: httpx.AsyncClient
    auth: dict[str, str | None]
    ids: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        value = self.auth[who]
        return {"Authorization": value} if value else {}

    async def total(self, service: str, path: str, **params: Any) -> int:
        r = await self.http.get(
            url(service, path), params={"limit": 1, **params}, headers=self.headers("admin")
        )
        assert r.status_code == 200, (path, r.text)
        return int(r.json()["total"])

    async def counters(self, names: list[str]) -> dict[str, Any]:
        probes: dict[str, Callable[[], Awaitable[Any]]] = {
            "discharges": lambda: self.total("casework", "/v1/discharges"),
            "cases": lambda: self.total("casework", "/v1/cases"),
            "plans": lambda: self.total("plans", "/v1/plans"),
            "territories": lambda: self.total("plans", "/v1/territories"),
            "indicator_definitions": lambda: self.total("plans", "/v1/indicator-definitions"),
            "rules": lambda: self.total("notifications", "/v1/rules"),
            "reported_values": lambda: self.total("indicators", "/v1/reported-values"),
            "template": self.template,
        }
        return {n: await probes[n]() for n in names}

    async def template(self) -> Any:
        r = await self.http.get(
            url("notifications", f"/v1/templates/{self.ids['template_id']}"),
            headers=self.headers("admin"),
        )
        return r.json()


@pytest.fixture(scope="module")
async def world(stack: Any, common: CommonSettings) -> AsyncIterator[World]:
    async with httpx.AsyncClient(timeout=60) as http:
        w = World(http, tokens(common))
        plans = await http.get(url("plans", "/v1/plans"), headers=w.headers("udp_admin"))
        plan = next(p for p in plans.json()["items"] if p["ambito_code"] == SEBINO)
        objectives = await http.get(
            url("plans", f"/v1/plans/{plan['id']}/objectives"), headers=w.headers("udp_admin")
        )
        templates = await http.get(
            url("notifications", "/v1/templates"),
            params={"key": "it.pdz.casework.discharge.received", "language": "it"},
            headers=w.headers("admin"),
        )
        w.ids = {
            "plan_id": plan["id"],
            "objective_id": objectives.json()["items"][0]["id"],
            "template_id": templates.json()["items"][0]["id"],
            "nowhere": str(uuid.uuid4()),
        }
        yield w


def dotted(doc: Any, path: str) -> Any:
    for part in path.split("."):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def sent_value(body: Any, path: str) -> Any:
    return dotted(body, path)


def inert_csv(content: bytes) -> Iterator[str]:
    for row in csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"):
        yield from row


def inert_xlsx(content: bytes) -> Iterator[tuple[Any, str]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield cell.value, cell.data_type


async def check_export(w: World, entry: dict[str, Any], marks: dict[str, str]) -> None:
    spec = substitute(entry["export"], marks)
    path = spec["path"]
    headers = {**w.headers("udp_admin"), "Accept": spec["accept"]}
    async with asyncio.timeout(30):
        while True:  # the indicator reaches the indicators service through Kafka
            r = await w.http.get(url(spec["service"], path), headers=headers)
            if r.status_code != 404:
                break
            await asyncio.sleep(0.2)
    assert r.status_code == 200, r.text
    if spec["accept"] == "text/csv":
        cells = list(inert_csv(r.content))
        for value in spec["cells"]:
            assert value not in cells, f"{value!r} exported as a live formula"
            assert "'" + value in cells, f"{value!r} not in the export: {cells}"
        assert not [c for c in cells if c.startswith(FORMULA_START)], cells
    else:
        cells = list(inert_xlsx(r.content))
        formulas = [(v, t) for v, t in cells if t == "f"]
        assert not formulas, f"exported as formulas: {formulas}"
        values = [v for v, _ in cells]
        for value in spec["cells"]:
            assert value in values, f"{value!r} not exported verbatim"


@pytest.mark.parametrize("entry", CORPUS, ids=[e["id"] for e in CORPUS])
async def test_hostile_input(world: World, entry: dict[str, Any]) -> None:
    w = world
    run = uuid.uuid4().hex[:8].upper()
    marks = {"<run>": run, "<cf>": unique_cf(run)}
    path = entry["path"].format(**w.ids)
    body, implied_type = body_of(entry.get("body"), marks)
    headers = {**w.headers(entry.get("token", "admin")), **entry.get("headers", {})}
    if ctype := entry.get("content_type", implied_type):
        headers["Content-Type"] = ctype
    content: Any = body
    if body is not None and entry["body"].get("chunked"):

        async def chunks(data: bytes = body) -> AsyncIterator[bytes]:
            for i in range(0, len(data), 256 * 1024):
                yield data[i : i + 256 * 1024]

        content = chunks()
    before = await w.counters(entry.get("unchanged", []))
    try:
        r = await w.http.request(
            entry["method"], url(entry["service"], path), headers=headers, content=content
        )
    except httpx.WriteError:
        pytest.fail("the server closed the connection instead of answering")
    expect = entry["expect"]
    assert r.status_code == expect["status"], (r.status_code, r.text[:2000])
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), r.headers
        problem = r.json()
        for key in ("type", "title", "status", "detail"):
            assert problem.get(key), (key, problem)
        assert problem["status"] == r.status_code
        if "type" in expect:
            assert problem["type"] == PROBLEM_TYPE_BASE + expect["type"], problem
    for text in entry.get("contains", []):
        assert text in r.text, (text, r.text[:2000])
    for text in entry.get("absent", []):
        assert text not in r.text, (text, r.text[:2000])
    after = await w.counters(entry.get("unchanged", []))
    assert after == before, f"something was written: {before} -> {after}"
    if fields := entry.get("verbatim"):
        sent = json.loads(body or b"{}")
        stored = await w.http.get(
            url(entry["service"], r.headers["location"]), headers=w.headers(entry["token"])
        )
        assert stored.status_code == 200, stored.text
        for name in fields:
            assert dotted(r.json(), name) == sent_value(sent, name), name
            assert dotted(stored.json(), name) == sent_value(sent, name), name
    if "export" in entry:
        marks["{location}"] = r.headers["location"]
        await check_export(w, entry, marks)
