"""Writes docs/import-format: the JSON Schema and the XLSX template of the import format.

uv run python -m pdz_plans.imports.docs docs/import-format
"""

from __future__ import annotations

import sys
from pathlib import Path

from pdz_plans.imports import document, xlsx


def template() -> bytes:
    return xlsx.write(
        {
            "territories": [{"code": "AMBITO-XX", "name": "Ambito XX", "kind": "ambito"}],
            "plan": {
                "code": "PDZ-AMBITO-XX-2025-2027",
                "ambito_code": "AMBITO-XX",
                "title": "Piano di Zona 2025-2027",
                "cycle_start_year": 2025,
                "cycle_end_year": 2027,
                "status": "draft",
            },
        }
    )


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/import-format")
    out.mkdir(parents=True, exist_ok=True)
    (out / "pdz-plan-1.schema.json").write_text(document.render(), encoding="utf-8")
    (out / "pdz-plan-1-template.xlsx").write_bytes(template())
    print(out)


if __name__ == "__main__":
    main()
