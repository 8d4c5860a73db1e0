"""Sorting (`sort`) and sparse fieldsets (`fields`) for the list endpoints.

Each list endpoint declares a :class:`Listing`: the model its rows come from, the schema of its
items, the fields it may be sorted by (an explicit allowlist), its default order and its key (the
stable tiebreak, and the identifier that a sparse fieldset always keeps). The endpoint takes the
parsed :class:`ListQuery` as a dependency, passes ``ListQuery.order_by`` to the SQL query (ORDER BY
before LIMIT/OFFSET, never a sort in Python) and answers with ``ListQuery.page(...)`` (or
``respond`` for a page of its own, like the inbox's). An unknown name in `sort` or `fields` is a
400 problem+json.
"""

# No `from __future__ import annotations` here: FastAPI reads the `Query` metadata of the
# dependency built in `Listing._dependency` from its live annotations.

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pdz_shared.errors import BadRequest
from pdz_shared.http import Page, PageParams

_MAX_PARAM = 1000
P = TypeVar("P", bound=BaseModel)  # Page[...], or a page with more (the inbox's unread count)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")]


def _param(description: str, pattern: str, example: str) -> Any:
    # The pattern documents the grammar; the dependency checks it, answering 400 (not 422).
    return Query(
        description=description,
        max_length=_MAX_PARAM,
        json_schema_extra={"pattern": pattern},
        examples=[example],
    )


def _alternatives(names: Sequence[str]) -> str:
    return "|".join(re.escape(n) for n in names)


@dataclass(frozen=True)
class ListQuery:
    """What the caller asked of a list: the order and, when given, the fields of the items."""

    listing: "Listing"
    sort: tuple[tuple[str, bool], ...]
    fields: tuple[str, ...] | None = None

    @property
    def order_by(self) -> list[Any]:
        """ORDER BY clauses: the requested fields, then the key as a stable tiebreak (in the
        direction of the first field)."""
        return self.listing.order_by(self.sort)

    def page(self, items: list[Any], total: int, page: PageParams) -> Page[Any] | JSONResponse:
        """The page of these items, trimmed when fields were requested."""
        return self.respond(Page(items=items, total=total, limit=page.limit, offset=page.offset))

    def respond(self, page: P) -> P | JSONResponse:
        """The page as is, or with its items trimmed to the requested fields (plus the key)."""
        return page if self.fields is None else self.json(page)

    def json(self, page: BaseModel) -> JSONResponse:
        """The page as a JSON response, its items trimmed when fields were requested."""
        body = page.model_dump(mode="json", by_alias=True)
        if self.fields is not None:
            keep = set(self.fields) | set(self.listing.identifier)
            body["items"] = [{k: v for k, v in i.items() if k in keep} for i in body["items"]]
        return JSONResponse(body)


class Listing:
    """The sorting and field rules of one list endpoint."""

    def __init__(
        self,
        model: Any,
        item: type[BaseModel],
        *,
        sort: Sequence[str],
        default: str,
        key: Sequence[str] = ("id",),
        identifier: Sequence[str] | None = None,
        columns: Mapping[str, Any] | None = None,
    ) -> None:
        extra = dict(columns or {})
        self.columns: dict[str, Any] = {n: extra.get(n, getattr(model, n, None)) for n in sort}
        missing = [n for n, c in self.columns.items() if c is None]
        if missing:
            raise ValueError(f"{model!r} has no column for {missing}")
        self.key_columns = [extra.get(k, getattr(model, k)) for k in key]
        self.key = tuple(key)
        self.fields = tuple(item.model_fields)
        self.identifier = tuple(k for k in (identifier or key) if k in self.fields)
        self.default = self.parse_sort(default)
        self.query = self._dependency(default)

    # ------------------------------------------------------------------ parsing

    def parse_sort(self, value: str | None) -> tuple[tuple[str, bool], ...]:
        if value is None:
            return self.default
        wanted: list[tuple[str, bool]] = []
        for token in _split(value):
            name = token.removeprefix("-")
            if name not in self.columns:
                raise BadRequest(
                    f"Ordinamento non valido: '{token}'. Campi ammessi: {', '.join(self.columns)}",
                    f"Invalid sort: '{token}'. Allowed fields: {', '.join(self.columns)}",
                    code="invalid-sort",
                    invalid_params=[
                        {"name": "sort", "reason": f"unknown field '{token}'", "type": "enum"}
                    ],
                )
            if all(name != seen for seen, _ in wanted):
                wanted.append((name, token.startswith("-")))
        return tuple(wanted)

    def parse_fields(self, value: str | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        names = _split(value)
        unknown = [n for n in names if n not in self.fields]
        if unknown:
            raise BadRequest(
                f"Campi non validi: {', '.join(unknown)}. Campi ammessi: {', '.join(self.fields)}",
                f"Invalid fields: {', '.join(unknown)}. Allowed fields: {', '.join(self.fields)}",
                code="invalid-fields",
                invalid_params=[
                    {"name": "fields", "reason": f"unknown field '{n}'", "type": "enum"}
                    for n in unknown
                ],
            )
        return tuple(dict.fromkeys(names))

    def order_by(self, sort: Sequence[tuple[str, bool]]) -> list[Any]:
        clauses = [
            (self.columns[n].desc() if desc else self.columns[n].asc()).nulls_last()
            for n, desc in sort
        ]
        named = {n for n, _ in sort}
        descending = bool(sort) and sort[0][1]
        for name, column in zip(self.key, self.key_columns, strict=True):
            if name not in named:
                clauses.append(column.desc() if descending else column.asc())
        return clauses

    # ------------------------------------------------------------------ the query parameters

    def _dependency(self, default: str) -> Any:
        names, fields = _alternatives(list(self.columns)), _alternatives(self.fields)
        sort_pattern = rf"^-?({names})(,-?({names}))*$"
        fields_pattern = rf"^({fields})(,({fields}))*$"
        sort_doc = (
            "Ordinamento: campi separati da virgola, `-` davanti per l'ordine decrescente "
            f"(predefinito `{default}`; a parità, per chiave). "
            f"Campi ammessi: {', '.join(self.columns)}. Un campo diverso risponde 400."
        )
        fields_doc = (
            "Campi degli elementi da restituire, separati da virgola (sparse fieldset): gli "
            f"elementi contengono solo questi, più {', '.join(self.identifier) or 'nessun altro'}"
            ", e gli altri campi dello schema mancano. Campi ammessi: "
            f"{', '.join(self.fields)}. Un campo diverso risponde 400."
        )
        example_fields = ",".join(dict.fromkeys([*self.identifier, *self.fields[:2]]))
        listing = self

        sort_q = _param(sort_doc, sort_pattern, default)
        fields_q = _param(fields_doc, fields_pattern, example_fields)

        def list_query(
            sort: Annotated[str | None, sort_q] = None,
            fields: Annotated[str | None, fields_q] = None,
        ) -> ListQuery:
            return ListQuery(listing, listing.parse_sort(sort), listing.parse_fields(fields))

        return list_query


async def paged(
    session: AsyncSession,
    query: Select[Any],
    order_by: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """One page of a single-entity query in the requested order, and the count of all its rows."""
    count = select(func.count()).select_from(query.order_by(None).subquery())
    total = int((await session.execute(count)).scalar_one())
    rows = query.order_by(None).order_by(*order_by).limit(limit).offset(offset)
    result = await session.execute(rows)
    return list(result.scalars().all()), total
