"""CSV cells that are safe to open in a spreadsheet: untrusted text never becomes a formula."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: object) -> str:
    """Neutralise spreadsheet formulas in untrusted text (OWASP advice: prefix with a quote)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cell(value: object) -> str | int | float:
    """A value as a CSV cell: None is empty, lists join with ';', text is neutralised."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(csv_text(v) for v in value)
    if isinstance(value, int | float):
        return value
    return csv_text(value)  # text, and anything else as its text
