"""Counts for `annotator stats` and the Data page. Cheap aggregate queries only."""

from __future__ import annotations

import sqlite_utils

from annotator.store.taxonomies import list_taxonomies


def _scalar(db: sqlite_utils.Database, sql: str) -> int:
    return db.execute(sql).fetchone()[0]


def database_stats(db: sqlite_utils.Database) -> dict:
    """What is in the database: the `stats --json` document of the CLI contract."""
    labelled = dict(db.execute(
        "SELECT rater_id, COUNT(DISTINCT segment_id) FROM submissions WHERE status = 'done' GROUP BY rater_id"
    ).fetchall())
    raters = [
        {"name": name, "kind": kind, "labelled_segments": labelled.get(rater_id, 0)}
        for rater_id, name, kind in db.execute("SELECT id, name, kind FROM raters ORDER BY id")
    ]
    by_scheme = dict(db.execute("SELECT scheme, COUNT(*) FROM segments GROUP BY scheme").fetchall())
    return {
        "traces": _scalar(db, "SELECT COUNT(*) FROM traces"),
        "segments": _scalar(db, "SELECT COUNT(*) FROM segments"),
        "segments_by_scheme": by_scheme,
        "labels": _scalar(db, "SELECT COUNT(*) FROM labels"),
        "gold_labels": _scalar(db, "SELECT COUNT(*) FROM gold"),
        "raters": raters,
        "taxonomies": [
            {"name": t.name, "version": t.version, "modes": t.modes, "draft": t.is_draft, "labels": t.labels}
            for t in list_taxonomies(db)
        ],
    }
