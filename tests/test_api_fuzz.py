"""Schemathesis over every API through the gateway's merged OpenAPI (bounded).

For every operation, generated requests must never get a 5xx; responses must conform to the
documented schemas and status codes; every error must be problem+json. Runs with a token of an
administrator of the Sebino ambito. All failures are collected and reported together.
"""

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pdz_shared.auth import mint_token
from pdz_shared.settings import CommonSettings

GATEWAY = "http://127.0.0.1:8000"
EXAMPLES = 6


def problem_json_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= 400:
        value = response.headers.get("content-type", [""])
        value = value[0] if isinstance(value, list) else value
        assert value.startswith("application/problem+json"), (
            f"{response.status_code} answered with {value!r}"
        )
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    problem_json_errors,
]
# `fields` trims the items of a list to the fields asked for (documented on the parameter).
TRIMMED_CHECKS = [c for c in CHECKS if c is not response_schema_conformance]


def test_every_operation_survives_generated_input(stack: Any, common: CommonSettings) -> None:
    schema = schemathesis.openapi.from_url(f"{GATEWAY}/openapi.json")
    token = mint_token(
        common,
        sub="fuzzer",
        ambiti=["AMBITO-05-SEBINO"],
        roles=["platform_admin", "udp_admin", "pua_operator", "social_worker", "uvm_member"],
    )
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            if case.method.upper() in ("PUT", "PATCH", "DELETE"):
                headers["If-Match"] = "*"
            response = case.call(base_url=GATEWAY, headers=headers)
            trimmed = bool((case.query or {}).get("fields"))
            case.validate_response(response, checks=TRIMMED_CHECKS if trimmed else CHECKS)

        try:
            run()
        except Exception as exc:  # every operation is tried; failures are reported together
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:1500]
    assert operations > 50
    assert not failures, "\n\n".join(f"== {k}\n{v}" for k, v in sorted(failures.items()))
