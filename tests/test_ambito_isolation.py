"""Cross-ambito probes: a token for another ambito never reads or changes Sebino's data.

The OpenAPI documents of the four services are walked. Every operation is either probed or
listed in ``NOT_SCOPED`` with the reason it holds no ambito's private data (health, the caller's
own token, preferences and inbox, the territory and published plans, which are public by
design, global catalogues): a new endpoint fails this test until it is one or the other.

The probes, with a token holding every role but for another ambito:
- a list answers without a single Sebino record (or refuses);
- an operation on a Sebino record (read or write, with a body that Sebino could send) answers
  403 or 404, or exactly as for a record that does not exist;
- nothing is written: every Sebino record reads the same afterwards, and no audit row names the
  other ambito's caller.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
from stack_helpers import discharge_bundle, full_case, unique_cf

from pdz_shared.auth import mint_token
from pdz_shared.settings import CommonSettings

SEBINO, OTHER = "AMBITO-05-SEBINO", "AMBITO-06-MONTE-ORFANO"
PORTS = {"plans": 8001, "indicators": 8002, "casework": 8003, "notifications": 8004}
ROLES = [
    "udp_admin",
    "udp_viewer",
    "pua_operator",
    "social_worker",
    "uvm_member",
    "asst_system",
    "cartella_sociale_system",
]
METHODS = ("get", "post", "put", "delete", "patch")
PUBLIC_PLAN = "published plans are public by design"
PUBLIC_TERRITORY = "the territory is public by design"
PUBLIC_VALUES = "indicator values are public by design (counts of 1-4 suppressed elsewhere)"
GLOBAL = "global catalogue managed by platform_admin, no ambito's data"
OWN = "the caller's own data (by token subject), never another's"

# (service, METHOD, path) -> why it is not probed. "*" is any service.
NOT_SCOPED: dict[tuple[str, str, str], str] = {
    ("*", "GET", "/status"): "service health",
    ("*", "GET", "/v1/me"): "the caller's own token",
    ("plans", "GET", "/v1/territories"): PUBLIC_TERRITORY,
    ("plans", "GET", "/v1/territories/{code}"): PUBLIC_TERRITORY,
    ("plans", "GET", "/v1/territories/{code}/population"): PUBLIC_TERRITORY,
    ("plans", "GET", "/v1/plans"): PUBLIC_PLAN,
    ("plans", "GET", "/v1/plans/{plan_id}"): PUBLIC_PLAN,
    ("plans", "GET", "/v1/plans/{plan_id}/history"): PUBLIC_PLAN,
    ("plans", "GET", "/v1/plans/{plan_id}/objectives"): PUBLIC_PLAN,
    ("plans", "GET", "/v1/plans/{plan_id}/budget"): PUBLIC_PLAN,
    ("plans", "GET", "/v1/plans/{plan_id}/evaluation"): PUBLIC_PLAN,
    ("plans", "GET", "/v1/plans/{plan_id}/export"): PUBLIC_PLAN,
    ("plans", "GET", "/v1/objectives/{objective_id}"): PUBLIC_PLAN,
    ("plans", "GET", "/v1/objectives/{objective_id}/indicators"): PUBLIC_PLAN,
    ("plans", "GET", "/v1/indicator-definitions"): PUBLIC_PLAN,
    ("plans", "GET", "/v1/indicator-definitions/{indicator_id}"): PUBLIC_PLAN,
    ("plans", "GET", "/v1/classifications"): GLOBAL,
    ("plans", "GET", "/v1/classifications/{scheme}"): GLOBAL,
    ("plans", "PUT", "/v1/classifications/{scheme}"): GLOBAL,
    ("plans", "PUT", "/v1/classifications/{scheme}/codes/{code}"): GLOBAL,
    ("indicators", "POST", "/v1/expressions/validate"): "a stateless check of a formula",
    ("indicators", "GET", "/v1/indicators"): PUBLIC_VALUES,
    ("indicators", "GET", "/v1/indicators/{code}"): PUBLIC_VALUES,
    ("indicators", "GET", "/v1/indicators/{code}/values"): PUBLIC_VALUES,
    ("indicators", "GET", "/v1/indicators/{code}/chart.png"): PUBLIC_VALUES,
    ("indicators", "GET", "/v1/plans/{plan_id}/scorecard"): PUBLIC_VALUES,
    ("notifications", "POST", "/v1/templates"): GLOBAL,
    ("notifications", "GET", "/v1/templates"): GLOBAL,
    ("notifications", "GET", "/v1/templates/{template_id}"): GLOBAL,
    ("notifications", "PUT", "/v1/templates/{template_id}"): GLOBAL,
    ("notifications", "POST", "/v1/templates/{template_id}/preview"): GLOBAL,
    ("notifications", "GET", "/v1/preferences"): OWN,
    ("notifications", "PUT", "/v1/preferences/{channel}/{event_type}"): OWN,
    ("notifications", "POST", "/v1/inbox/mark-all-read"): OWN,
}
# Bodies Sebino could send, for the POSTs probed (PUT and PATCH send Sebino's own record).
BODIES: dict[tuple[str, str], Any] = {
    ("casework", "/v1/cases/{case_id}/transitions"): {"to_status": "closed", "reason": "x"},
    ("casework", "/v1/cases/{case_id}/triage"): {
        "answers": [{"item": "autonomia_funzionale", "value": 1}]
    },
    ("casework", "/v1/cases/{case_id}/evaluations"): {
        "kind": "preliminary",
        "scheduled_for": "2026-04-01T10:00:00+01:00",
    },
    ("casework", "/v1/cases/{case_id}/pai"): {"goals": ["Altro obiettivo"]},
    ("casework", "/v1/cases/{case_id}/consents"): {
        "purpose": "presa_in_carico",
        "legal_basis": "consenso",
        "state": "withdrawn",
    },
    ("casework", "/v1/external-systems/{system}/comuni/{comune_code}"): {
        "ambito_code": OTHER,
        "name": "Presa da un altro ambito",
    },
    ("casework", "/v1/cases/{case_id}/external-links/{system}"): {"external_id": "HIJACK"},
    ("casework", "/v1/discharges/{discharge_id}/transition"): {
        "destination": "domicilio",
        "discharged_on": "2026-03-10",
        "arrived_on": "2026-03-10",
        "outcome": "Preso da un altro ambito",
    },
    ("plans", "/v1/plans/{plan_id}/objectives"): {"code": "HIJACK", "title": "Altro"},
    ("plans", "/v1/objectives/{objective_id}/indicators"): {"code": "HIJACK", "name": "Altro"},
    ("indicators", "/v1/indicators/{code}/missing-value-policy"): {"missing_value_policy": "zero"},
    ("notifications", "/v1/inbox/{item_id}"): {"read": True},
}
# Lists whose Sebino totals must not move while the other ambito probes.
TOTALS = [
    ("plans", "/v1/plans"),
    ("plans", "/v1/territories"),
    ("casework", "/v1/cases"),
    ("casework", "/v1/discharges"),
    ("casework", "/v1/external-systems"),
    ("notifications", "/v1/rules"),
    ("notifications", "/v1/webhooks"),
    ("notifications", "/v1/recipients"),
    ("indicators", "/v1/reported-values"),
]
GHOSTS = {"uuid": str(uuid.uuid4()), "code": "GHOST-CODE", "sub": "ghost-sub"}
VOLATILE = ("updated_at", "computed_at", "watermark", "overdue", "deadlines", "timestamps")


def creations(ids: dict[tuple[str, str], Any], run: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Requests that would create a record in Sebino (collection POSTs): httpx keywords."""
    comune = ids[("comune", "")]
    event = "it.pdz.casework.discharge.received"
    return {
        ("plans", "/v1/plans"): {
            "json": {
                "code": f"PDZ-HIJACK-{run}",
                "ambito_code": SEBINO,
                "title": "Piano di un altro ambito",
                "cycle_start_year": 2097,
                "cycle_end_year": 2099,
            }
        },
        ("plans", "/v1/territories"): {
            "json": {
                "code": f"COMUNE-HIJACK-{run}",
                "name": "Comune aggiunto da un altro ambito",
                "kind": "comune",
                "ambito_code": SEBINO,
                "parent_codes": [SEBINO],
            }
        },
        ("plans", "/v1/plan-imports"): {"json": ids[("collection", "plans /v1/plan-imports")]},
        ("casework", "/v1/cases"): {
            "json": {
                "ambito_code": SEBINO,
                "source": "sportello",
                "person": {
                    "codice_fiscale": unique_cf(f"hijack-{run}"),
                    "given_name": "Altra",
                    "family_name": "Persona",
                },
            }
        },
        ("casework", "/v1/discharges"): {
            "content": discharge_bundle(f"HIJACK-{run}"),
            "headers": {"Content-Type": "application/fhir+json"},
        },
        ("notifications", "/v1/rules"): {
            "json": {
                "code": f"hijack-{run}",
                "description": "Regola per Sebino da un altro ambito",
                "event_type": event,
                "channels": ["inbox"],
                "roles": ["pua_operator"],
                "template_key": event,
                "ambito_code": SEBINO,
            }
        },
        ("notifications", "/v1/webhooks"): {
            "json": {
                "url": "https://altro.example.it/eventi",
                "event_types": [event],
                "ambito_code": SEBINO,
                "secret": "h" * 32,
            }
        },
        ("indicators", "/v1/reported-values"): {
            "json": {"metric": "posti_sad", "territory_code": comune, "period": "2026", "value": 9}
        },
        ("indicators", "/v1/reported-values/upload"): {
            "content": f"metric,territory_code,period,value\nposti_sad,{comune},2026,9\n".encode(),
            "headers": {"Content-Type": "text/csv"},
        },
    }


def mentions(body: Any, value: str) -> bool:
    if isinstance(body, dict):
        return any(mentions(v, value) for v in body.values())
    if isinstance(body, list):
        return any(mentions(v, value) for v in body)
    return bool(body == value)


def stable(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: stable(v) for k, v in body.items() if k not in VOLATILE}
    if isinstance(body, list):
        return [stable(v) for v in body]
    return body


def url(service: str, path: str) -> str:
    return f"http://127.0.0.1:{PORTS[service]}{path}"


async def sebino_records(
    http: httpx.AsyncClient, sebino: dict[str, str], common: CommonSettings
) -> dict[tuple[str, str], str]:
    """The Sebino record behind each path parameter, per service."""
    run = uuid.uuid4().hex[:8]
    casework = httpx.AsyncClient(base_url=url("casework", ""), headers=sebino, timeout=30)
    async with casework:
        case = await full_case(casework, run, SEBINO)
    ids = {("casework", k): v for k, v in case.items()}
    ids[("casework", "ambito_code")] = SEBINO

    async def get(service: str, path: str, **params: Any) -> Any:
        r = await http.get(url(service, path), headers=sebino, params=params)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    plan = next(p for p in (await get("plans", "/v1/plans"))["items"] if p["ambito_code"] == SEBINO)
    objective = (await get("plans", f"/v1/plans/{plan['id']}/objectives"))["items"][0]
    definition = next(
        d
        for d in (await get("plans", "/v1/indicator-definitions", limit=500))["items"]
        if d.get("ambito_code") == SEBINO
    )
    ids |= {
        ("plans", "plan_id"): plan["id"],
        ("plans", "objective_id"): objective["id"],
        ("plans", "indicator_id"): definition["id"],
        ("plans", "code"): case["comune_code"],
        ("plans", "year"): "2024",
        ("indicators", "plan_id"): plan["id"],
        ("indicators", "code"): definition["code"],
    }
    comune = f"COMUNE-ISOLATION-{run}"
    r = await http.post(
        url("plans", "/v1/territories"),
        headers=sebino,
        json={
            "code": comune,
            "name": "Comune di prova",
            "kind": "comune",
            "ambito_code": SEBINO,
            "parent_codes": [SEBINO],
        },
    )
    assert r.status_code == 201, r.text
    value = {"metric": "posti_sad", "territory_code": comune, "period": "2025", "value": 3}
    async with asyncio.timeout(30):  # the comune reaches indicators through Kafka
        while (
            r := await http.post(
                url("indicators", "/v1/reported-values"), headers=sebino, json=value
            )
        ).status_code == 422:
            await asyncio.sleep(0.2)
    assert r.status_code == 201, r.text
    ids[("indicators", "value_id")] = r.json()["id"]
    r = await http.post(
        url("notifications", "/v1/rules"),
        headers=sebino,
        json={
            "code": f"isolation-{run}",
            "description": "Regola di Sebino",
            "event_type": "it.pdz.casework.discharge.received",
            "channels": ["inbox"],
            "roles": ["pua_operator"],
            "template_key": "it.pdz.casework.discharge.received",
            "ambito_code": SEBINO,
            "enabled": False,
        },
    )
    assert r.status_code == 201, r.text
    ids[("notifications", "rule_id")] = r.json()["id"]
    r = await http.post(
        url("notifications", "/v1/webhooks"),
        headers=sebino,
        json={
            "url": "https://cartella.example.it/eventi",
            "event_types": ["it.pdz.casework.discharge.received"],
            "ambito_code": SEBINO,
            "active": False,
            "secret": "s" * 32,
        },
    )
    assert r.status_code == 201, r.text
    ids[("notifications", "webhook_id")] = r.json()["id"]
    recipients = [
        r
        for r in (await get("notifications", "/v1/recipients", limit=500))["items"]
        if SEBINO in r["ambiti"]
    ]
    ids[("notifications", "sub")] = recipients[0]["sub"]

    # A message in the inbox of a Sebino recipient, and a delivery: the discharge's notices.
    def reader(r: dict[str, Any]) -> dict[str, str]:
        token = mint_token(common, sub=r["sub"], roles=r["roles"], ambiti=[SEBINO])
        return {"Authorization": f"Bearer {token}"}

    inbox: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(60):
            while not (inbox and deliveries):
                await asyncio.sleep(0.3)
                deliveries = (await get("notifications", "/v1/deliveries"))["items"]
                for r in recipients:
                    inbox = (
                        await http.get(url("notifications", "/v1/inbox"), headers=reader(r))
                    ).json()["items"]
                    if inbox:
                        break
    except TimeoutError:
        raise AssertionError(f"no Sebino notices: inbox {inbox}, deliveries {deliveries}") from None
    export = await get("plans", f"/v1/plans/{plan['id']}/export")
    ids[("collection", "plans /v1/plan-imports")] = export
    ids[("comune", "")] = comune
    ids[("notifications", "item_id")] = inbox[0]["id"]
    ids[("notifications", "delivery_id")] = deliveries[0]["id"]
    return ids


async def test_another_ambito_sees_and_touches_nothing(stack: Any, common: CommonSettings) -> None:
    def auth(sub: str, ambito: str) -> dict[str, str]:
        return {
            "Authorization": "Bearer " + mint_token(common, sub=sub, roles=ROLES, ambiti=[ambito])
        }

    sebino, other = auth("as-sebino", SEBINO), auth("as-monte-orfano", OTHER)
    async with httpx.AsyncClient(timeout=30) as http:
        ids = await sebino_records(http, sebino, common)
        operations: list[tuple[str, str, str]] = []
        for service in PORTS:
            doc = (await http.get(url(service, "/openapi.json"))).json()
            for path, item in doc["paths"].items():
                operations += [(service, m.upper(), path) for m in METHODS if m in item]
        known = {(s, m, p) for s, m, p in operations} | {("*", m, p) for _, m, p in operations}
        assert not set(NOT_SCOPED) - known, f"listed but gone: {set(NOT_SCOPED) - known}"

        def fill(service: str, path: str, ghost: bool) -> str | None:
            def one(m: re.Match[str]) -> str:
                name = m.group(1)
                value = ids.get((service, name))
                if value is None:
                    raise KeyError(f"{service} {path}: no Sebino record for {{{name}}}")
                if not ghost or name in ("year", "ambito_code"):
                    return value
                try:
                    uuid.UUID(value)
                    return GHOSTS["uuid"]
                except ValueError:
                    return GHOSTS["sub"] if name in ("sub", "system") else GHOSTS["code"]

            return re.sub(r"{([^}]+)}", one, path)

        # Every Sebino record read by Sebino, before and after the probes.
        async def snapshot() -> dict[str, Any]:
            out: dict[str, Any] = {}
            for service, method, path in operations:
                if method != "GET" or "{" not in path or path.endswith(("/audit", ".png")):
                    continue
                try:
                    target = fill(service, path, ghost=False)
                except KeyError:
                    continue
                r = await http.get(url(service, str(target)), headers=sebino)
                if r.status_code == 200 and "json" in r.headers.get("content-type", ""):
                    out[f"{service} {target}"] = stable(r.json())
            return out

        async def totals() -> dict[str, int]:
            out = {}
            for service, path in TOTALS:
                r = await http.get(url(service, path), headers=sebino, params={"limit": 1})
                out[f"{service} {path}"] = int(r.json()["total"])
            return out

        create = creations(ids, uuid.uuid4().hex[:8])
        before, totals_before = await snapshot(), await totals()
        unprobed, wrong, probed = [], [], 0
        for service, method, path in operations:
            if (service, method, path) in NOT_SCOPED or ("*", method, path) in NOT_SCOPED:
                continue
            if "{" not in path:
                if method != "GET":
                    if (service, path) not in create:
                        unprobed.append(f"{service} {method} {path}")
                        continue
                    kw = create[(service, path)]
                    r = await http.post(
                        url(service, path), **{**kw, "headers": {**other, **kw.get("headers", {})}}
                    )
                    probed += 1
                    if path.endswith("/upload") and r.status_code == 200:
                        # A bulk upload reports per row: every row refused, nothing created.
                        report = r.json()
                        if report["created"] == 0 and report["rejected"] == report["rows_total"]:
                            continue
                    if r.status_code not in (403, 404):
                        wrong.append(f"{service} POST {path}: {r.status_code} {r.text[:300]}")
                    continue
                r = await http.get(url(service, path), headers=other, params={"limit": 500})
                probed += 1
                if r.status_code not in (200, 403, 404):
                    wrong.append(f"{service} GET {path}: {r.status_code} {r.text[:300]}")
                elif r.status_code == 200 and mentions(r.json(), SEBINO):
                    wrong.append(f"{service} GET {path} shows Sebino data")
                continue
            try:
                target, ghost = fill(service, path, False), fill(service, path, True)
            except KeyError as exc:
                unprobed.append(str(exc))
                continue
            kw: dict[str, Any] = {"headers": {**other, "If-Match": "*"}}
            if method in ("PUT", "PATCH"):
                own = await http.get(url(service, str(target)), headers=sebino)
                kw["json"] = BODIES.get(
                    (service, path), own.json() if own.status_code == 200 else {}
                )
            elif method == "POST":
                kw["json"] = BODIES.get((service, path), {})
            foreign = await http.request(method, url(service, str(target)), **kw)
            nowhere = await http.request(method, url(service, str(ghost)), **kw)
            probed += 1
            if foreign.status_code in (403, 404):
                continue
            # Otherwise a Sebino record must be indistinguishable from one that does not exist.
            if foreign.status_code < 400 or foreign.status_code != nowhere.status_code:
                wrong.append(
                    f"{service} {method} {path}: {foreign.status_code} (ghost "
                    f"{nowhere.status_code}) {foreign.text[:300]}"
                )
        after, totals_after = await snapshot(), await totals()
        changed = sorted(k for k in before if before[k] != after.get(k))
        changed += [k for k in totals_before if totals_before[k] != totals_after[k]]
        trail = await http.get(
            url("casework", f"/v1/cases/{ids[('casework', 'case_id')]}/audit"),
            headers=sebino,
            params={"limit": 500},
        )
        intruders = [a for a in trail.json()["items"] if a["sub"] == "as-monte-orfano"]
    assert not unprobed, "operations neither probed nor listed in NOT_SCOPED:\n" + "\n".join(
        unprobed
    )
    assert not wrong, "\n".join(wrong)
    assert not changed, f"Sebino records changed by another ambito: {changed}"
    assert not intruders, intruders
    assert probed > 50
    assert len(before) > 20
