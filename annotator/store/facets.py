"""Small reads for filters and caches of the Agreement page."""

from __future__ import annotations

import sqlite_utils


def trace_tag_values(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """Distinct (key, value) tags over all traces, for filters."""
    return [tuple(r) for r in db.execute("SELECT DISTINCT key, value FROM trace_tags ORDER BY key, value")]


def data_version(db: sqlite_utils.Database) -> tuple:
    """A cheap fingerprint that changes whenever labels, submissions or traces are added."""
    return tuple(db.execute(
        "SELECT (SELECT MAX(id) FROM submissions), (SELECT COUNT(*) FROM traces), (SELECT MAX(rowid) FROM labels),"
        " (SELECT MAX(id) FROM taxonomies), (SELECT COUNT(*) || MAX(created_at) FROM gold)").fetchone())
