"""Import of a plan file: warnings for every anomaly, 422 for unusable files, dry run."""

from __future__ import annotations

import json
from typing import Any

import yaml
from plan_fixtures import AMBITO, small_plan

from pdz_shared.testing.plugin import Harness


def codes(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(w["location"], w["code"]) for w in report["warnings"]]


async def upload(c: Any, doc: Any, *, dry_run: bool = False, name: str = "plan.yaml") -> Any:
    content = yaml.safe_dump(doc, allow_unicode=True) if not isinstance(doc, bytes) else doc
    return await c.post(
        "/v1/plan-imports",
        files={"file": (name, content, "application/yaml")},
        data={"dry_run": "true" if dry_run else "false"},
    )


async def test_import_reports_every_anomaly(harness: Harness) -> None:
    admin = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(admin) as c:
        r = await upload(c, small_plan())
    assert r.status_code == 200, r.text
    report = r.json()
    print(json.dumps(report["warnings"], indent=1, ensure_ascii=False))
    assert report["counts"]["plans"]["created"] == 1
    assert report["counts"]["objectives"]["created"] == 2
    found = codes(report)
    assert ("plan.approved_on", "impossible-date") in found
    assert ("objectives[0].title", "html-in-text") in found
    assert ("objectives[1].title", "blank") in found
