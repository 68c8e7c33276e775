"""Taxonomy versions, their modes, and mappings between versions."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from annotator.core.errors import UserError
from annotator.core.taxonomy import Mapping, Mode, Taxonomy, parse_ref
from annotator.store.db import inserted_id, now, write


class StoreError(UserError, ValueError):
    """A request the database cannot honour; the message says what and why."""


@dataclass(frozen=True)
class StoredTaxonomy:
    id: int
    taxonomy: Taxonomy
    mode_ids: dict[str, int]  # code -> modes.id


def save_taxonomy(db: sqlite_utils.Database, taxonomy: Taxonomy, *, parent_id: int | None = None) -> int:
    """Store a taxonomy version; return its id. Idempotent for identical content.

    A version is immutable: saving different content under an existing NAME@VERSION is an error.
    """
    row = db.execute(
        "SELECT id, fingerprint FROM taxonomies WHERE name = ? AND version = ?",
        [taxonomy.name, taxonomy.version],
    ).fetchone()
    if row is not None:
        if row[1] != taxonomy.fingerprint:
            raise StoreError(
                f"taxonomy {taxonomy.ref} already exists with different content; "
                "versions are immutable, give the new content a new version"
            )
        return row[0]
    with write(db):
        cur = db.execute(
            "INSERT INTO taxonomies (name, version, fingerprint, description, is_draft, parent_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [taxonomy.name, taxonomy.version, taxonomy.fingerprint, taxonomy.description,
             int(taxonomy.is_draft), parent_id, now()],
        )
        taxonomy_id = inserted_id(cur)
        db.conn.executemany(
            "INSERT INTO modes (taxonomy_id, code, name, category, definition, aliases, note, position)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(taxonomy_id, m.code, m.name, m.category, m.definition, json.dumps(list(m.aliases)), m.note, i)
             for i, m in enumerate(taxonomy.modes)],
        )
    return taxonomy_id


def _taxonomy_from_row(db: sqlite_utils.Database, row: tuple) -> StoredTaxonomy:
    taxonomy_id, name, version, description, is_draft, parent_ref = row
    mode_rows = db.execute(
        "SELECT id, code, name, category, definition, aliases, note FROM modes"
        " WHERE taxonomy_id = ? ORDER BY position",
        [taxonomy_id],
    ).fetchall()
    modes = tuple(
        Mode(code=r[1], name=r[2], category=r[3], definition=r[4], aliases=tuple(json.loads(r[5])), note=r[6])
        for r in mode_rows
    )
    taxonomy = Taxonomy(name=name, version=version, modes=modes, description=description,
                        is_draft=bool(is_draft), parent=parent_ref)
    return StoredTaxonomy(id=taxonomy_id, taxonomy=taxonomy, mode_ids={r[1]: r[0] for r in mode_rows})


_SELECT_TAXONOMY = (
    "SELECT t.id, t.name, t.version, t.description, t.is_draft,"
    " (SELECT p.name || '@' || p.version FROM taxonomies p WHERE p.id = t.parent_id)"
    " FROM taxonomies t"
)


def get_taxonomy(db: sqlite_utils.Database, ref: str) -> StoredTaxonomy:
    """Find `NAME@VERSION`, or the latest non-draft version of `NAME`. Raises StoreError if absent."""
    name, version = parse_ref(ref)
    if version is None:
        row = db.execute(
            _SELECT_TAXONOMY + " WHERE t.name = ? ORDER BY t.is_draft, t.id DESC LIMIT 1", [name]
        ).fetchone()
    else:
        row = db.execute(_SELECT_TAXONOMY + " WHERE t.name = ? AND t.version = ?", [name, version]).fetchone()
    if row is None:
        known = ", ".join(f"{t.name}@{t.version}" for t in list_taxonomies(db)) or "none; run 'annotator init'"
        raise StoreError(f"no taxonomy {ref!r} in the database (known: {known})")
    return _taxonomy_from_row(db, row)


def get_taxonomy_by_id(db: sqlite_utils.Database, taxonomy_id: int) -> StoredTaxonomy:
    row = db.execute(_SELECT_TAXONOMY + " WHERE t.id = ?", [taxonomy_id]).fetchone()
    if row is None:
        raise StoreError(f"no taxonomy with id {taxonomy_id}")
    return _taxonomy_from_row(db, row)


@dataclass(frozen=True)
class TaxonomySummary:
    id: int
    name: str
    version: str
    modes: int
    is_draft: bool
    fingerprint: str
    labels: int
    parent: str | None = None  # NAME@VERSION it was refined from


def list_taxonomies(db: sqlite_utils.Database) -> list[TaxonomySummary]:
    """Every stored taxonomy version with its mode and label counts and its parent."""
    rows = db.execute(
        "SELECT t.id, t.name, t.version, (SELECT COUNT(*) FROM modes m WHERE m.taxonomy_id = t.id),"
        " t.is_draft, t.fingerprint,"
        " (SELECT COUNT(*) FROM labels l WHERE l.taxonomy_id = t.id),"
        " (SELECT p.name || '@' || p.version FROM taxonomies p WHERE p.id = t.parent_id)"
        " FROM taxonomies t ORDER BY t.name, t.is_draft DESC, t.id"
    ).fetchall()
    return [TaxonomySummary(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6], r[7]) for r in rows]


def save_mapping(db: sqlite_utils.Database, mapping: Mapping, *, kind: str = "same") -> None:
    """Store how codes of `mapping.source` map onto `mapping.target` (both must exist). Idempotent."""
    source = get_taxonomy(db, mapping.source)
    target = get_taxonomy(db, mapping.target)
    with write(db):
        db.conn.executemany(
            "INSERT OR IGNORE INTO mode_mappings (source_taxonomy_id, target_taxonomy_id, source_code,"
            " target_code, kind) VALUES (?, ?, ?, ?, ?)",
            [(source.id, target.id, code, to, kind if to is not None else "retire")
             for code, to in mapping.codes.items()],
        )


def get_mapping(db: sqlite_utils.Database, source_id: int, target_id: int) -> dict[str, str | None]:
    """Stored code mapping from one taxonomy version to another ({} when none is stored)."""
    rows = db.execute(
        "SELECT source_code, target_code FROM mode_mappings"
        " WHERE source_taxonomy_id = ? AND target_taxonomy_id = ?",
        [source_id, target_id],
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def taxonomy_exists(db: sqlite_utils.Database, ref: str) -> bool:
    name, version = parse_ref(ref)
    sql, args = "SELECT 1 FROM taxonomies WHERE name = ?", [name]
    if version is not None:
        sql, args = sql + " AND version = ?", args + [version]
    return db.execute(sql, args).fetchone() is not None


def get_mapping_rows(db: sqlite_utils.Database, source_id: int, target_id: int) -> list[tuple[str, str | None, str]]:
    """(old code, new code or None, kind) rows stored between two versions."""
    return db.execute(
        "SELECT source_code, target_code, kind FROM mode_mappings"
        " WHERE source_taxonomy_id = ? AND target_taxonomy_id = ? ORDER BY id", [source_id, target_id]).fetchall()
