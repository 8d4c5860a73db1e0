from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class ClassificationScheme(SQLModel, table=True):
    """A classification scheme (macro-aree 2025-27, aree 2021-23, schede PPT, LEPS, ...)."""

    __tablename__ = "classification_scheme"

    code: str = Field(max_length=50, primary_key=True)
    name: str = Field(max_length=300)
    description: str | None = Field(default=None, max_length=2000)
    source: str | None = Field(default=None, max_length=500)
    version: int = Field(default=1)


class ClassificationCode(SQLModel, table=True):
    """One code of a scheme, with its label as written and optional aliases."""

    __tablename__ = "classification_code"
    __table_args__ = (UniqueConstraint("scheme", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    scheme: str = Field(max_length=50, foreign_key="classification_scheme.code", index=True)
    code: str = Field(max_length=50)
    label: str = Field(max_length=500)
    description: str | None = Field(default=None, max_length=2000)
    parent_code: str | None = Field(default=None, max_length=50)
    position: int = Field(default=0)
    version: int = Field(default=1)
