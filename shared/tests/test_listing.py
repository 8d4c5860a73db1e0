"""pdz_shared.listing: `sort` and `fields` parsed, turned into ORDER BY, items trimmed, 400s."""

from datetime import datetime
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import column, select, table
from sqlalchemy.dialects import postgresql

from pdz_shared.errors import BadRequest
from pdz_shared.http import Page, install_error_handlers
from pdz_shared.listing import Listing, ListQuery

COMUNI = table("comune", column("id"), column("name"), column("population"), column("created_at"))


class ComuneOut(BaseModel):
    id: str
    name: str
    population: int
    created_at: datetime


LISTING = Listing(
    COMUNI.c, ComuneOut, sort=("name", "population", "created_at"), default="name", key=("id",)
)
ROWS = [
    ComuneOut(id="017085", name="Iseo", population=9200, created_at=datetime(2026, 1, 2)),
    ComuneOut(id="016193", name="Sarnico", population=6700, created_at=datetime(2026, 1, 3)),
]


def sql(query: ListQuery) -> str:
    stmt = select(COMUNI).order_by(*query.order_by)
    return str(stmt.compile(dialect=postgresql.dialect())).split("ORDER BY ")[1]


def test_sort_parses_directions_and_adds_the_key_as_tiebreak() -> None:
    q = ListQuery(LISTING, LISTING.parse_sort("-population,name"))
    assert q.sort == (("population", True), ("name", False))
    assert sql(q) == (
        "comune.population DESC NULLS LAST, comune.name ASC NULLS LAST, comune.id DESC"
    )


def test_default_order_and_repeated_fields() -> None:
    assert LISTING.parse_sort(None) == (("name", False),)
    assert sql(ListQuery(LISTING, LISTING.parse_sort(None))).endswith("comune.id ASC")
    assert LISTING.parse_sort("name,-name") == (("name", False),)


@pytest.mark.parametrize("value", ["colour", "-id", "", "name,", "name;drop", "--name"])
def test_unknown_sort_field_is_a_bad_request(value: str) -> None:
    with pytest.raises(BadRequest) as err:
        LISTING.parse_sort(value)
    assert err.value.code == "invalid-sort"
    assert (
        err.value.detail_it and "Campi ammessi: name, population, created_at" in err.value.detail_it
    )
    assert err.value.detail_en and err.value.detail_en.startswith("Invalid sort")


def test_fields_are_checked_against_the_item_schema() -> None:
    assert LISTING.parse_fields(None) is None
    assert LISTING.parse_fields("name, name,population") == ("name", "population")
    with pytest.raises(BadRequest) as err:
        LISTING.parse_fields("name,secret,colour")
    assert err.value.code == "invalid-fields"
    assert [p["name"] for p in err.value.invalid_params or []] == ["fields", "fields"]


def test_respond_trims_items_but_keeps_the_identifier() -> None:
    page: Page[ComuneOut] = Page(items=ROWS, total=2, limit=50, offset=0)
    assert ListQuery(LISTING, LISTING.default).respond(page) is page
    trimmed = ListQuery(LISTING, LISTING.default, ("name",)).respond(page)
    assert isinstance(trimmed, JSONResponse)
    assert trimmed.body.startswith(b'{"items":[{"id":"017085","name":"Iseo"}')


def test_model_without_a_listed_column_is_refused() -> None:
    with pytest.raises(ValueError, match="no column"):
        Listing(COMUNI.c, ComuneOut, sort=("name", "nope"), default="name")


def app() -> FastAPI:
    application = FastAPI()
    install_error_handlers(application)

    @application.get("/comuni", response_model=Page[ComuneOut])
    def list_comuni(
        listing: Annotated[ListQuery, Depends(LISTING.query)],
    ) -> Page[ComuneOut] | JSONResponse:
        rows = sorted(ROWS, key=lambda r: r.name, reverse=listing.sort[0][1])
        return listing.respond(Page(items=rows, total=2, limit=50, offset=0))

    return application


async def test_query_parameters_in_openapi_and_400_problem_json() -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await check_api(client)


async def check_api(client: httpx.AsyncClient) -> None:
    params: dict[str, Any] = {
        p["name"]: p
        for p in (await client.get("/openapi.json")).json()["paths"]["/comuni"]["get"]["parameters"]
    }
    assert params["sort"]["schema"]["pattern"] == (
        "^-?(name|population|created_at)(,-?(name|population|created_at))*$"
    )
    assert "Campi ammessi: name, population, created_at" in params["sort"]["description"]
    assert "id" in params["fields"]["schema"]["pattern"]
    r = await client.get("/comuni", params={"sort": "-name", "fields": "population"})
    assert r.json()["items"] == [
        {"id": "016193", "population": 6700},
        {"id": "017085", "population": 9200},
    ]
    bad = await client.get("/comuni", params={"sort": "nome"}, headers={"Accept-Language": "en"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["code"] == "invalid-sort"
    assert (
        bad.json()["detail"] == "Invalid sort: 'nome'. Allowed fields: name, population, created_at"
    )
    bad = await client.get("/comuni", params={"fields": "name,segreto"})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("Campi non validi: segreto")
