"""Every operation of every service shows an example request body and 2xx JSON response, valid
against its schema (the documents are built as `pdz docs openapi` builds them, no server)."""

import json
import subprocess
import sys
from typing import Any

import jsonschema
import pytest

from pdz_shared.examples import add_examples, example_for, missing_examples

SERVICES = ("plans", "indicators", "casework", "notifications")


def openapi(service: str) -> dict[str, Any]:
    # One process per service: their SQLModel tables share one metadata.
    run = subprocess.run(
        [sys.executable, "-c", "from pdz_shared.cli import app; app()", "docs", "openapi", service],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    doc: dict[str, Any] = json.loads(run.stdout)
    return doc


@pytest.fixture(scope="module", params=SERVICES)
def doc(request: pytest.FixtureRequest) -> dict[str, Any]:
    return openapi(request.param)


def examples(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            contents = [("request", op.get("requestBody", {}).get("content", {}))]
            contents += [(c, r.get("content", {})) for c, r in op["responses"].items()]
            for where, content in contents:
                for media_type, media in content.items():
                    if "example" in media and media_type.endswith("json"):
                        name = f"{method.upper()} {path} {where} {media_type}"
                        found.append((name, media.get("schema", {}), media["example"]))
    return found


def test_every_operation_has_examples(doc: dict[str, Any]) -> None:
    assert missing_examples(doc) == []


def test_examples_match_their_schemas(doc: dict[str, Any]) -> None:
    found = examples(doc)
    assert len(found) > 10
    for name, schema, example in found:
        root = {**schema, "components": doc["components"]}
        errors = [e.message for e in jsonschema.Draft202012Validator(root).iter_errors(example)]
        assert errors == [], name


def test_examples_are_from_the_sebino_demo(doc: dict[str, Any]) -> None:
    text = json.dumps([e for _, _, e in examples(doc)], ensure_ascii=False)
    assert "AMBITO-05-SEBINO" in text
    assert '"string"' not in text and "lorem" not in text.lower()


def test_a_required_field_without_example_is_reported() -> None:
    schemas = {
        "Thing": {
            "type": "object",
            "properties": {"colour": {"type": "string"}},
            "required": ["colour"],
        }
    }
    doc: dict[str, Any] = {
        "components": {"schemas": schemas},
        "paths": {
            "/things": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                        }
                    },
                    "responses": {
                        "201": {"content": {"application/json": {"schema": {"type": "object"}}}}
                    },
                }
            }
        },
    }
    add_examples(doc)
    assert missing_examples(doc) == [
        "POST /things: request body without an example",
        "POST /things: request application/json without an example (missing: Thing.colour)",
    ]
    schemas["Thing"]["properties"]["colour"]["examples"] = ["verde lago"]
    assert example_for({"$ref": "#/components/schemas/Thing"}, schemas) == (
        {"colour": "verde lago"},
        [],
    )
