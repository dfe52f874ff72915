"""CSV cells a spreadsheet will not run as formulas.

Excel, LibreOffice and Google Sheets treat a cell beginning with = + - @ (and, in some of them,
a leading tab or carriage return) as a formula: a criterion label, a follow-up's reference or
any other text someone typed could then run `=HYPERLINK(...)` or worse when a manager or an
auditor opens the file. Such text is prefixed with a single quote, which spreadsheets show as
text. Only strings are guarded: numbers are written as numbers, so a negative change stays -0.04
and the figures read back unchanged. The analysis export (`survey.reporting.dataset`) is left
as it is: its bytes are hashed into the report, and auditors re-run the numbers from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value`, with a quote before it when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


def safe_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: safe_cell(value) for key, value in row.items()}
