"""`export labels --format jsonl` (no --taxonomy) round-trips into a fresh database: one record per
(segment, taxonomy), the taxonomy versions travel with the file, and every label row comes back."""

from __future__ import annotations

import json

import pytest
from helpers import run_cli

from annotator import store
from annotator.services.demo import build_demo

# Every label as a reader of the database sees it, read with SQL written here (not the exporter's).
LABEL_ROWS = (
    "SELECT t.external_id, s.scheme, s.idx, r.name, r.kind, tx.name || '@' || tx.version, m.code, l.sample,"
    " l.value, COALESCE(l.rationale, ''), COALESCE(l.evidence, '')"
    " FROM labels l JOIN segments s ON s.id = l.segment_id JOIN traces t ON t.id = s.trace_id"
    " JOIN raters r ON r.id = l.rater_id JOIN modes m ON m.id = l.mode_id JOIN taxonomies tx ON tx.id = l.taxonomy_id"
    " WHERE l.sample = 0"
)


def label_rows(path) -> list[tuple]:
    db = store.connect(path, migrate=False)
    try:
        return sorted(db.execute(LABEL_ROWS).fetchall())
    finally:
        db.conn.close()


def segment_taxonomy_pairs(path) -> int:
    db = store.connect(path, migrate=False)
    try:
        return db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT segment_id, taxonomy_id FROM labels)").fetchone()[0]
    finally:
        db.conn.close()


def export_and_reimport(tmp_path, source) -> tuple:
    out = tmp_path / "labels.jsonl"
    exported = run_cli("export", "labels", "--format", "jsonl", "--out", str(out), db=source)
    assert exported.exit_code == 0, exported.output
    fresh = tmp_path / "fresh.db"  # no init: the taxonomies come with the file
    imported = run_cli("import", str(out), db=fresh)
    assert imported.exit_code == 0, imported.output
    return out, fresh, imported


def test_mast_human_labels_round_trip_row_by_row(tmp_path, mast_human_path):
    source = tmp_path / "mast.db"
    assert run_cli("import", str(mast_human_path), db=source).exit_code == 0
    out, fresh, imported = export_and_reimport(tmp_path, source)
    lines = out.read_text(encoding="utf-8").splitlines()
    definitions = [json.loads(x) for x in lines if x.startswith('{"taxonomy_definition"')]
    records = [json.loads(x) for x in lines if not x.startswith('{"taxonomy_definition"')]
    assert {f"{d['taxonomy_definition']['name']}@{d['taxonomy_definition']['version']}" for d in definitions} == {
        "mast@1", "mast@draft-round-1", "mast@draft-round-2", "mast@draft-round-3"}
    assert len(records) == segment_taxonomy_pairs(source)  # one record per (segment, taxonomy)
    assert len({(r["id"], r["taxonomy"]) for r in records}) == len(records)
    # the whole trace text once per (trace, taxonomy): 177 MB before, for a 2.6 MB file
    assert out.stat().st_size < 3 * mast_human_path.stat().st_size
    before, after = label_rows(source), label_rows(fresh)
    assert len(before) > 1000 and before == after
    # the file has one pair of traces with the same body; a trace's records for each taxonomy are no such pair
    assert imported.output.count("have the same trace body") == 1


def test_demo_labels_round_trip_with_rationales_and_evidence(tmp_path):
    source = tmp_path / "demo.db"
    build_demo(source)
    _, fresh, _ = export_and_reimport(tmp_path, source)
    before, after = label_rows(source), label_rows(fresh)
    assert before == after
    assert any(row[10] for row in before)  # the judge's evidence made the trip
    kinds = {row[4] for row in after}
    assert kinds == {"human", "judge"}


def test_importing_twice_adds_nothing(tmp_path):
    source = tmp_path / "demo.db"
    build_demo(source)
    out, fresh, _ = export_and_reimport(tmp_path, source)
    again = run_cli("import", str(out), db=fresh)
    assert again.exit_code == 0 and "0 labels added" in again.output


@pytest.mark.parametrize("definition, message", [
    ({"name": "x"}, "version"),
    ({"name": "a@b", "version": "1", "modes": [{"code": "A", "name": "n", "category": "c", "definition": "d"}]},
     "must not contain '@'"),
    ("mast", "expected a mapping"),
])
def test_a_bad_taxonomy_line_is_one_line_naming_file_and_line(tmp_path, definition, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"taxonomy_definition": definition}) + "\n", encoding="utf-8")
    db = tmp_path / "bad.db"
    result = run_cli("import", str(path), db=db)
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert f"{path}: line 1" in line and message in line


def test_labels_of_a_taxonomy_nobody_defined_name_it(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"id": "t1", "text": "hi", "taxonomy": "mine@2", "labels": {"ann": {"A": 1}}}) + "\n",
                    encoding="utf-8")
    result = run_cli("import", str(path), db=tmp_path / "x.db")
    assert result.exit_code == 1 and "unknown taxonomy 'mine@2'" in result.stderr and "init" in result.stderr
