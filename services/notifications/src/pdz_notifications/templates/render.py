"""Jinja2 rendering in a sandbox: templates are edited by users, so they may not reach Python."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

_env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class RenderError(ValueError):
    pass


def check(source: str) -> None:
    """Raises RenderError when the template does not parse."""
    try:
        _env.parse(source)
    except TemplateError as exc:
        raise RenderError(str(exc)) from exc


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    """Compiling is most of the cost of a render: each source is compiled once per process.

    A template is immutable once compiled and renders reentrantly; an edited template is a new
    source, hence a new entry. A source that does not compile raises (and is not cached).
    """
    return _env.from_string(source)


@lru_cache(maxsize=1024)
def _names(source: str) -> frozenset[str]:
    return frozenset(meta.find_undeclared_variables(_env.parse(source)))


def uses(name: str, *sources: str) -> bool:
    """Whether any of the templates reads the context variable ``name`` (True if unparsable)."""
    try:
        return any(name in _names(s) for s in sources)
    except TemplateError:
        return True


def render(subject: str, body: str, context: dict[str, Any]) -> Rendered:
    try:
        out_subject = _compiled(subject).render(context)
        out_body = _compiled(body).render(context)
    except TemplateError as exc:
        raise RenderError(str(exc)) from exc
    # A subject is one line: header injection is impossible by construction.
    one_line = " ".join(out_subject.split())[:500]
    return Rendered(subject=one_line, body=out_body)
