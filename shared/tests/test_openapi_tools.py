"""The breaking-change check and the gateway's merged document."""

import copy
from typing import Any

from pdz_shared.openapi import merge_openapi
from pdz_shared.openapi_diff import diff


def doc() -> dict[str, Any]:
    return {
        "paths": {
            "/v1/cases": {
                "get": {
                    "parameters": [{"in": "query", "name": "status", "required": False}],
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Page"}
                                }
                            }
                        }
                    },
                },
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/CaseIn"}}
                        }
                    },
                    "responses": {
                        "201": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Case"}
                                }
                            }
                        }
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "Page": {
                    "type": "object",
                    "properties": {"items": {"type": "array"}, "total": {"type": "integer"}},
                },
                "CaseIn": {
                    "type": "object",
                    "required": ["comune"],
                    "properties": {
                        "comune": {"type": "string"},
                        "source": {"type": "string", "enum": ["sportello", "mmg", "comune"]},
                    },
                },
                "Case": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "status": {"type": "string"}},
                },
            }
        },
    }


def breaking(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [c.what for c in diff(old, new) if c.breaking]


def test_identical_documents_have_no_changes() -> None:
    assert diff(doc(), doc()) == []


def test_each_kind_of_breaking_change_is_found() -> None:
    new = copy.deepcopy(doc())
    del new["components"]["schemas"]["Page"]["properties"]["total"]
    new["components"]["schemas"]["CaseIn"]["required"].append("source")
    new["components"]["schemas"]["CaseIn"]["properties"]["source"]["enum"].remove("mmg")
    new["components"]["schemas"]["Case"]["properties"]["id"]["type"] = "integer"
    new["paths"]["/v1/cases"]["get"]["parameters"][0]["required"] = True
    assert sorted(breaking(doc(), new)) == sorted(
        [
            "response property 'total' removed",
            "request property 'source' is now required",
            "request property 'source' no longer accepts ['mmg']",
            "response property 'id' changed type",
            "parameter 'status' is now required",
        ]
    )
    gone = copy.deepcopy(doc())
    del gone["paths"]["/v1/cases"]["post"]
    assert breaking(doc(), gone) == ["operation removed"]


def test_additions_are_not_breaking() -> None:
    new = copy.deepcopy(doc())
    new["components"]["schemas"]["Case"]["properties"]["opened_at"] = {"type": "string"}
    new["components"]["schemas"]["CaseIn"]["properties"]["source"]["enum"].append("online")
    new["paths"]["/v1/people"] = {"get": {"responses": {}}}
    changes = diff(doc(), new)
    assert [c.breaking for c in changes] == [False]
    assert changes[0].where == "GET /v1/people"


def test_merge_prefixes_paths_schemas_and_operation_ids() -> None:
    a = doc()
    a["paths"]["/v1/cases"]["get"]["operationId"] = "list_cases"
    a["paths"]["/v1/cases"]["get"]["tags"] = ["cases"]
    a["paths"]["/status"] = {"get": {"operationId": "get_status", "tags": ["operations"]}}
    a["components"]["schemas"]["Problem"] = {"type": "object"}
    b = copy.deepcopy(a)
    merged = merge_openapi({"casework": a, "plans": b})
    assert set(merged["paths"]) == {"/status", "/casework/v1/cases", "/plans/v1/cases"}
    op = merged["paths"]["/plans/v1/cases"]["get"]
    assert op["operationId"] == "plans_list_cases"
    assert (
        op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        == "#/components/schemas/PlansPage"
    )
    assert {"CaseworkPage", "PlansPage", "Problem"} <= set(merged["components"]["schemas"])
    assert {t["name"] for t in merged["tags"]} == {"casework:cases", "plans:cases", "operations"}
