import sqlite3
import threading

import pytest

from annotator import store
from annotator.core.taxonomy import load_taxonomy
from annotator.store.schema import applied_migrations, apply_migrations, migrations


def test_blank_database_gets_every_migration(tmp_path):
    db = store.connect(tmp_path / "a.db")
    assert applied_migrations(db) == [m.name for m in migrations._migrations]
    tables = set(db.table_names())
    assert {"taxonomies", "modes", "traces", "segments", "labels", "submissions", "judge_calls", "gold"} <= tables
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migrating_from_the_previous_schema_keeps_data(tmp_path):
    """Build the database as the first release left it, add data, then upgrade."""
    path = tmp_path / "old.db"
    db = store.connect(path, migrate=False)
    migrations.apply(db, stop_before="m002_judge_and_gold")
    assert "judge_calls" not in db.table_names()
    taxonomy_id = store.save_taxonomy(db, load_taxonomy("mast"))
    db.conn.close()

    db = store.connect(path)  # applies the rest
    assert "judge_calls" in db.table_names() and "gold" in db.table_names()
    assert store.get_taxonomy(db, "mast").id == taxonomy_id
    apply_migrations(db)  # idempotent
    assert len(applied_migrations(db)) == len(migrations._migrations)


def test_taxonomy_versions_are_immutable(tmp_path):
    db = store.connect(tmp_path / "a.db")
    mast = load_taxonomy("mast")
    assert store.save_taxonomy(db, mast) == store.save_taxonomy(db, mast)
    changed = type(mast)(name=mast.name, version=mast.version, modes=mast.modes[:-1])
    with pytest.raises(store.StoreError, match="versions are immutable"):
        store.save_taxonomy(db, changed)


def test_latest_version_skips_drafts(tmp_path):
    db = store.connect(tmp_path / "a.db")
    mast = load_taxonomy("mast")
    store.save_taxonomy(db, mast)
    draft = type(mast)(name="mast", version="draft-x", modes=mast.modes[:3], is_draft=True)
    store.save_taxonomy(db, draft)
    assert store.get_taxonomy(db, "mast").taxonomy.version == "1"
    assert store.get_taxonomy(db, "mast@draft-x").taxonomy.is_draft
    with pytest.raises(store.StoreError, match="no taxonomy 'other'"):
        store.get_taxonomy(db, "other")


def _one_segment(db):
    tax = store.get_taxonomy(db, "mast")
    with store.write(db):
        trace_id, _ = store.insert_trace(db, store.TraceInput(
            external_id="t1", text="hello world", source="x", format="text",
            segments=[store.SegmentInput("trace", 0, "trace", 0, 11)]))
    return tax, store.trace_segment_id(db, trace_id)


def test_write_labels_is_idempotent_and_keeps_history(tmp_path):
    db = store.connect(tmp_path / "a.db")
    store.save_taxonomy(db, load_taxonomy("mast"))
    tax, segment_id = _one_segment(db)
    rater = store.ensure_rater(db, "ana", "human")
    values = {mode_id: 0 for mode_id in tax.mode_ids.values()}
    first = store.LabelWrite(segment_id, rater, tax.id, values)
    assert store.write_labels(db, first) == 14
    assert store.write_labels(db, first) == 0
    changed = {**values, tax.mode_ids["3.2"]: 1}
    assert store.write_labels(db, store.LabelWrite(segment_id, rater, tax.id, changed)) == 1
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 14
    assert db.execute("SELECT value FROM labels WHERE mode_id = ?", [tax.mode_ids["3.2"]]).fetchone()[0] == 1


def test_failed_write_leaves_nothing(tmp_path):
    db = store.connect(tmp_path / "a.db")
    store.save_taxonomy(db, load_taxonomy("mast"))
    tax, segment_id = _one_segment(db)
    rater = store.ensure_rater(db, "ana", "human")
    bad = {tax.mode_ids["1.1"]: 1, 999_999: 1}  # unknown mode id violates the foreign key
    with pytest.raises(sqlite3.IntegrityError):
        store.write_labels(db, store.LabelWrite(segment_id, rater, tax.id, bad))
    assert db.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_concurrent_writers_never_see_locked(tmp_path):
    path = tmp_path / "a.db"
    db = store.connect(path)
    store.save_taxonomy(db, load_taxonomy("mast"))
    tax, segment_id = _one_segment(db)
    errors = []

    def writer(n: int) -> None:
        try:
            conn = store.connect(path)
            rater = store.ensure_rater(conn, f"r{n}", "human")
            for k in range(20):
                values = {m: (k + n) % 2 for m in tax.mode_ids.values()}
                store.write_labels(conn, store.LabelWrite(segment_id, rater, tax.id, values))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [t for t in threads if t.is_alive()], "a writer was still blocked after 60 s"
    assert errors == []
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 8 * 20
    assert db.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 8 * 14


def test_rater_keeps_its_kind(tmp_path):
    db = store.connect(tmp_path / "a.db")
    store.ensure_rater(db, "judge:x", "judge")
    with pytest.raises(store.StoreError, match="exists as a judge rater"):
        store.ensure_rater(db, "judge:x", "human")
    with pytest.raises(store.StoreError, match="kind must be one of"):
        store.ensure_rater(db, "y", "robot")


def test_segment_text_is_sliced_from_the_trace(tmp_path):
    db = store.connect(tmp_path / "a.db")
    text = "é" * 5 + "abc" + "😀" * 3
    with store.write(db):
        trace_id, _ = store.insert_trace(db, store.TraceInput(
            external_id="u", text=text, source="x", format="text",
            segments=[store.SegmentInput("trace", 0, "trace", 0, len(text)),
                      store.SegmentInput("turn", 0, "turn", 5, 8, "bot"),
                      store.SegmentInput("turn", 1, "turn", 8, len(text))]))
    segments = store.segments_of_trace(db, trace_id, "turn")
    assert [s.text for s in segments] == ["abc", "😀" * 3]  # character offsets, not bytes
    assert segments[0].content_hash == store.content_hash("abc")
