"""Jinja2 rendering in a sandbox: templates are edited by users, so they may not reach Python."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError
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


def render(subject: str, body: str, context: dict[str, Any]) -> Rendered:
    try:
        out_subject = _env.from_string(subject).render(context)
        out_body = _env.from_string(body).render(context)
    except TemplateError as exc:
        raise RenderError(str(exc)) from exc
    # A subject is one line: header injection is impossible by construction.
    one_line = " ".join(out_subject.split())[:500]
    return Rendered(subject=one_line, body=out_body)
