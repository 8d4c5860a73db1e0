"""Exports to spreadsheets: text a spreadsheet would run as a formula stays text.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or line break before them) is a
formula to Excel and LibreOffice when they open a CSV file ("CSV injection"): ``safe_cell``
prefixes such text with an apostrophe. In an XLSX file a cell has a type: ``inert_formulas``
turns the cells that openpyxl typed as formulas (any text starting with ``=``) back into text,
so the value is kept exactly and an export read back gives the same string.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, prefixed with an apostrophe (CSV)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def inert_formulas(worksheets: Iterable[Any]) -> None:
    """Every cell of the openpyxl ``worksheets`` typed as a formula becomes a text cell."""
    for ws in worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
