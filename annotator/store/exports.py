"""Row streams for exports: labels, gold and segments, joined with what a reader needs to use them."""

from __future__ import annotations

from collections.abc import Iterator

import sqlite_utils

LABEL_COLUMNS = ("trace_id", "segment_id", "segment_scheme", "segment_index", "rater", "rater_kind", "taxonomy",
                 "mode", "sample", "value", "rationale", "evidence", "stale", "created_at", "updated_at", "status")
GOLD_COLUMNS = ("trace_id", "segment_id", "taxonomy", "mode", "value", "provenance", "adjudicator", "note",
                "created_at")
SEGMENT_COLUMNS = ("trace_id", "segment_id", "scheme", "index", "kind", "start", "end", "speaker", "recipient",
                   "framework", "benchmark", "llm", "content_hash", "text")


def iter_label_rows(db: sqlite_utils.Database, taxonomy_id: int | None = None) -> Iterator[dict]:
    """Every label with rater identity and kind, taxonomy version, rationale, evidence, times and the status of
    the rater's latest submission for that segment (done | unsure; None for labels written without one)."""
    where, args = ("WHERE l.taxonomy_id = ?", [taxonomy_id]) if taxonomy_id is not None else ("", [])
    sql = (
        "SELECT t.external_id, l.segment_id, s.scheme, s.idx, r.name, r.kind, tx.name || '@' || tx.version,"
        " m.code, l.sample, l.value, l.rationale, l.evidence, l.stale, l.created_at, l.updated_at,"
        " (SELECT su.status FROM submissions su WHERE su.rater_id = l.rater_id AND su.taxonomy_id = l.taxonomy_id"
        " AND su.segment_id = l.segment_id ORDER BY su.id DESC LIMIT 1)"
        " FROM labels l JOIN segments s ON s.id = l.segment_id JOIN traces t ON t.id = s.trace_id"
        " JOIN raters r ON r.id = l.rater_id JOIN modes m ON m.id = l.mode_id"
        f" JOIN taxonomies tx ON tx.id = l.taxonomy_id {where}"
        " ORDER BY l.segment_id, r.id, m.position, l.sample"
    )
    for row in db.execute(sql, args):
        yield dict(zip(LABEL_COLUMNS, row))


def iter_gold_rows(db: sqlite_utils.Database, taxonomy_id: int | None = None) -> Iterator[dict]:
    """Every gold label with its provenance."""
    where, args = ("WHERE g.taxonomy_id = ?", [taxonomy_id]) if taxonomy_id is not None else ("", [])
    sql = (
        "SELECT t.external_id, g.segment_id, tx.name || '@' || tx.version, m.code, g.value, g.provenance,"
        " g.adjudicator, g.note, g.created_at"
        " FROM gold g JOIN segments s ON s.id = g.segment_id JOIN traces t ON t.id = s.trace_id"
        " JOIN modes m ON m.id = g.mode_id JOIN taxonomies tx ON tx.id = g.taxonomy_id"
        f" {where} ORDER BY g.segment_id, m.position"
    )
    for row in db.execute(sql, args):
        yield dict(zip(GOLD_COLUMNS, row))


def iter_segment_rows(db: sqlite_utils.Database) -> Iterator[dict]:
    """Every segment with its trace's metadata and its text."""
    sql = (
        'SELECT t.external_id, s.id, s.scheme, s.idx, s.kind, s.start, s."end", s.speaker, s.recipient,'
        " t.framework, t.benchmark, t.llm, s.content_hash, substr(t.text, s.start + 1, s.\"end\" - s.start)"
        " FROM segments s JOIN traces t ON t.id = s.trace_id ORDER BY t.id, s.scheme, s.idx"
    )
    for row in db.execute(sql):
        yield dict(zip(SEGMENT_COLUMNS, row))


def trace_tags_by_external_id(db: sqlite_utils.Database) -> dict[str, dict[str, str]]:
    tags: dict[str, dict[str, str]] = {}
    for external_id, key, value in db.execute(
            "SELECT t.external_id, tt.key, tt.value FROM trace_tags tt JOIN traces t ON t.id = tt.trace_id"):
        tags.setdefault(external_id, {})[key] = value
    return tags
