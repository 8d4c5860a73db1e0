from __future__ import annotations

from pydantic import BaseModel, Field


class SchemeOut(BaseModel):
    code: str = Field(max_length=50)
    name: str = Field(max_length=300)
    description: str | None = Field(None, max_length=2000)
    source: str | None = Field(None, max_length=500)


class CodeOut(BaseModel):
    scheme: str = Field(max_length=50)
    code: str = Field(max_length=50)
    label: str = Field(max_length=500)
    description: str | None = Field(None, max_length=2000)
    parent_code: str | None = Field(None, max_length=50)
