"""Territory units through the API: auth, roles, problem+json, ETag, events in the outbox."""

from typing import Any

from sqlalchemy import text

from pdz_shared.testing.plugin import Harness

SEBINO = "AMBITO-05-SEBINO"


def unit(code: str, kind: str, **kw: Any) -> dict[str, Any]:
    return {"code": code, "name": kw.pop("name", code.title()), "kind": kind, **kw}


async def seed(h: Harness) -> None:
    admin = h.token(roles=["platform_admin"])
    async with h.client(admin) as c:
        for body in (
            unit("LOMBARDIA", "regione"),
            unit("ATS-BRESCIA", "ats", parent_codes=["LOMBARDIA"]),
            unit(SEBINO, "ambito", name="Sebino", parent_codes=["ATS-BRESCIA"]),
        ):
            assert (await c.post("/v1/territories", json=body)).status_code == 201


async def test_without_token_is_401_problem_json(harness: Harness) -> None:
    async with harness.client() as c:
        r = await c.get("/v1/territories")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 401 and body["title"] == "Autenticazione richiesta"
    assert body["instance"] == "/v1/territories"
    assert r.headers["www-authenticate"] == "Bearer"


async def test_problem_in_english_on_request(harness: Harness) -> None:
    async with harness.client(**{"Accept-Language": "en-GB,en;q=0.9,it;q=0.5"}) as c:
        r = await c.get("/v1/territories")
    assert r.json()["title"] == "Authentication required"


async def test_forged_and_expired_tokens_are_401(harness: Harness) -> None:
    import jwt

    forged = jwt.encode(
        {"sub": "x", "roles": ["platform_admin"], "aud": "pdz", "exp": 9999999999},
        "not-the-key",
        algorithm="HS256",
    )
    expired = harness.token(roles=["platform_admin"], ttl_seconds=-10)
    unsigned = jwt.encode(
        {"sub": "x", "roles": ["platform_admin"], "aud": "pdz", "exp": 9999999999},
        None,
        algorithm="none",
    )
    for token in (forged, expired, unsigned):
        async with harness.client(token) as c:
            r = await c.get("/v1/territories")
        assert r.status_code == 401, token
    async with harness.client(expired) as c:
        assert "scaduto" in (await c.get("/v1/territories")).json()["detail"]


async def test_wrong_role_is_403(harness: Harness) -> None:
    viewer = harness.token(roles=["udp_viewer"], ambiti=[SEBINO])
    async with harness.client(viewer) as c:
        r = await c.post("/v1/territories", json=unit("017085", "comune", ambito_code=SEBINO))
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


async def test_udp_admin_writes_only_own_ambito(harness: Harness) -> None:
    await seed(harness)
    other = harness.token(roles=["udp_admin"], ambiti=["AMBITO-99"])
    own = harness.token(roles=["udp_admin"], ambiti=[SEBINO])
    body = unit(
        "017085",
        "comune",
        name="Iseo",
        ambito_code=SEBINO,
        parent_codes=[SEBINO],
        istat_code="017085",
    )
    async with harness.client(other) as c:
        assert (await c.post("/v1/territories", json=body)).status_code == 403
    async with harness.client(own) as c:
        r = await c.post("/v1/territories", json=body)
        assert r.status_code == 201, r.text
        assert r.headers["location"] == "/v1/territories/017085"
        assert (await c.post("/v1/territories", json=body)).status_code == 409


async def test_validation_is_422_with_every_invalid_param(harness: Harness) -> None:
    async with harness.client(harness.token(roles=["platform_admin"])) as c:
        r = await c.post("/v1/territories", json={"code": "bad code!", "kind": "planet"})
    assert r.status_code == 422
    body = r.json()
    names = {p["name"] for p in body["invalid_params"]}
    assert names == {"body.code", "body.kind", "body.name"}
    assert r.headers["content-type"] == "application/problem+json"


async def test_unknown_parent_is_422(harness: Harness) -> None:
    async with harness.client(harness.token(roles=["platform_admin"])) as c:
        r = await c.post("/v1/territories", json=unit("X", "ats", parent_codes=["NOPE"]))
    assert r.status_code == 422
    assert r.json()["invalid_params"][0]["name"] == "parent_codes"


async def test_unknown_path_is_404_problem(harness: Harness) -> None:
    async with harness.client(harness.token(roles=["udp_viewer"])) as c:
        r = await c.get("/v1/territories/NOPE")
        assert r.status_code == 404 and r.json()["detail"].startswith("Unità territoriale")
        r = await c.get("/v1/nowhere")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


async def test_unhandled_error_is_500_problem_without_trace(harness: Harness) -> None:
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    harness.app.add_api_route("/test-boom", boom, include_in_schema=False)
    async with harness.client() as c:
        r = await c.get("/test-boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "secret" not in r.text and "Traceback" not in r.text


async def test_update_needs_current_etag(harness: Harness) -> None:
    await seed(harness)
    admin = harness.token(roles=["platform_admin"])
    change = {"name": "Ambito Sebino", "parent_codes": ["ATS-BRESCIA"]}
    async with harness.client(admin) as c:
        r = await c.get(f"/v1/territories/{SEBINO}")
        etag = r.headers["etag"]
        assert (await c.put(f"/v1/territories/{SEBINO}", json=change)).status_code == 428
        r = await c.put(f"/v1/territories/{SEBINO}", json=change, headers={"If-Match": etag})
        assert r.status_code == 200 and r.json()["version"] == 2
        stale = await c.put(f"/v1/territories/{SEBINO}", json=change, headers={"If-Match": etag})
        assert stale.status_code == 412
        assert stale.json()["current_etag"] == r.headers["etag"]


async def test_list_filters_and_paginates(harness: Harness) -> None:
    await seed(harness)
    async with harness.client(harness.token(roles=["udp_viewer"])) as c:
        r = await c.get("/v1/territories", params={"limit": 2})
        page = r.json()
        assert page["total"] == 3 and len(page["items"]) == 2
        assert r.headers["ratelimit-limit"]
        r = await c.get("/v1/territories", params={"parent": "ATS-BRESCIA"})
        assert [t["code"] for t in r.json()["items"]] == [SEBINO]
        r = await c.get("/v1/territories", params={"kind": "regione"})
        assert [t["code"] for t in r.json()["items"]] == ["LOMBARDIA"]


async def test_writes_and_their_events_commit_together(harness: Harness) -> None:
    await seed(harness)
    async with harness.factory() as s:
        rows = (
            await s.execute(text("SELECT type, key, topic, data->>'kind' FROM outbox ORDER BY id"))
        ).all()
    assert [tuple(r) for r in rows] == [
        ("it.pdz.plans.territory.created", "LOMBARDIA", "pdz.plans.territory.v1", "regione"),
        ("it.pdz.plans.territory.created", "ATS-BRESCIA", "pdz.plans.territory.v1", "ats"),
        ("it.pdz.plans.territory.created", SEBINO, "pdz.plans.territory.v1", "ambito"),
    ]
    # A failed write leaves no event behind.
    async with harness.client(harness.token(roles=["platform_admin"])) as c:
        r = await c.post("/v1/territories", json=unit("X", "ats", parent_codes=["NOPE"]))
        assert r.status_code == 422
    async with harness.factory() as s:
        assert (await s.execute(text("SELECT count(*) FROM outbox"))).scalar() == 3


async def test_status_and_metrics_are_public(harness: Harness) -> None:
    async with harness.client() as c:
        r = await c.get("/status")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["checks"] == {"database": True, "broker": True}
        m = await c.get("/metrics")
        assert m.status_code == 200 and "pdz_http_requests_total" in m.text


async def test_me(harness: Harness) -> None:
    async with harness.client(harness.token(roles=["udp_admin"], ambiti=[SEBINO], sub="anna")) as c:
        assert (await c.get("/v1/me")).json() == {
            "sub": "anna",
            "roles": ["udp_admin"],
            "ambiti": [SEBINO],
        }


async def test_idempotency_key_replays_the_first_answer(harness: Harness) -> None:
    admin = harness.token(roles=["platform_admin"])
    body = unit("LOMBARDIA", "regione")
    async with harness.client(admin, **{"Idempotency-Key": "create-lombardia-1"}) as c:
        first = await c.post("/v1/territories", json=body)
        again = await c.post("/v1/territories", json=body)
        other = await c.post("/v1/territories", json=unit("VENETO", "regione"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == "/v1/territories/LOMBARDIA"
    assert other.status_code == 422 and other.json()["code"] == "idempotency-key-reused"
    async with harness.factory() as s:
        assert (await s.execute(text("SELECT count(*) FROM territory_unit"))).scalar() == 1
        assert (await s.execute(text("SELECT count(*) FROM outbox"))).scalar() == 1
    # Without the key, a repeat is an ordinary conflict.
    async with harness.client(admin) as c:
        assert (await c.post("/v1/territories", json=body)).status_code == 409


async def test_list_sorts_in_sql_and_trims_fields(harness: Harness) -> None:
    await seed(harness)
    admin = harness.token(roles=["platform_admin"])
    async with harness.client(admin) as c:
        for code, name in (("017085", "Iseo"), ("016193", "Sarnico"), ("016128", "Lovere")):
            body = unit(code, "comune", name=name, ambito_code=SEBINO, parent_codes=[SEBINO])
            assert (await c.post("/v1/territories", json=body)).status_code == 201
        asc = await c.get("/v1/territories", params={"kind": "comune", "sort": "name"})
        desc = await c.get(
            "/v1/territories", params={"kind": "comune", "sort": "-name", "limit": 2}
        )
        trimmed = await c.get("/v1/territories", params={"kind": "comune", "fields": "name"})
        bad_sort = await c.get("/v1/territories", params={"sort": "-colour"})
        bad_fields = await c.get(
            "/v1/territories", params={"fields": "name,secret"}, headers={"Accept-Language": "en"}
        )
    assert [i["name"] for i in asc.json()["items"]] == ["Iseo", "Lovere", "Sarnico"]
    assert [i["name"] for i in desc.json()["items"]] == ["Sarnico", "Lovere"]
    assert desc.json()["total"] == 3
    assert trimmed.json()["items"][0] == {"code": "016128", "name": "Lovere"}
    assert bad_sort.status_code == 400
    assert bad_sort.headers["content-type"] == "application/problem+json"
    assert bad_sort.json()["code"] == "invalid-sort" and "-colour" in bad_sort.json()["detail"]
    assert bad_fields.status_code == 400 and bad_fields.json()["code"] == "invalid-fields"
    assert bad_fields.json()["detail"].startswith("Invalid fields: secret")
