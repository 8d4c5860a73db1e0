"""The documented import format (docs/import-format) matches the files and the exports."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from plan_fixtures import AMBITO, small_plan
from test_plan_import import upload

from pdz_plans.imports import document
from pdz_plans.imports.docs import template
from pdz_shared.testing.plugin import Harness

REPO = Path(__file__).parents[3]
DOCS = REPO / "docs" / "import-format"
DEMO = REPO / "services" / "plans" / "demo"


def test_committed_schema_is_current() -> None:
    assert (DOCS / "pdz-plan-1.schema.json").read_text(encoding="utf-8") == document.render()


def test_demo_files_follow_the_format() -> None:
    for path in sorted(DEMO.glob("*.yaml")):
        document.PlanDocument.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    document.PlanDocument.model_validate(small_plan())


async def test_exports_follow_the_format_and_the_template_imports(harness: Harness) -> None:
    admin = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(admin) as c:
        report = (await upload(c, small_plan())).json()
        exported = (await c.get(f"/v1/plans/{report['plan_id']}/export")).json()
        document.PlanDocument.model_validate(json.loads(json.dumps(exported)))
    admin_xx = harness.token(roles=["udp_admin"], ambiti=["AMBITO-XX"])
    async with harness.client(admin_xx) as c:
        r = await upload(c, template(), name="template.xlsx")
        assert r.status_code == 200, r.text
        assert r.json()["plan_code"] == "PDZ-AMBITO-XX-2025-2027"
