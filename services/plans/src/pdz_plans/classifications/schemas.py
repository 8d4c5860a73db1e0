from __future__ import annotations

from pydantic import BaseModel, Field


class SchemeIn(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    description: str | None = Field(None, max_length=2000)
    source: str | None = Field(None, max_length=500)


class SchemeOut(SchemeIn):
    code: str = Field(max_length=50)
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})


class CodeIn(BaseModel):
    label: str = Field(min_length=1, max_length=500)
    description: str | None = Field(None, max_length=2000)
    parent_code: str | None = Field(None, max_length=50)


class CodeOut(CodeIn):
    scheme: str = Field(max_length=50)
    code: str = Field(max_length=50)
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
