import json

import pytest
from helpers import db_fingerprint, labels_with, write_jsonl

from annotator import store
from annotator.ingest import IngestError, detect_format, import_file


@pytest.fixture
def blank_db(tmp_path):
    return store.connect(tmp_path / "a.db")


def test_mast_human_file(blank_db, mast_human_path):
    result = import_file(blank_db, mast_human_path)
    assert result.format == "mad-human"
    assert (result.traces_seen, result.traces_added) == (19, 19)
    assert result.taxonomies_added == ["mast@draft-round-1", "mast@draft-round-2", "mast@draft-round-3"]
    assert result.duplicates == [("3", "8")]  # Round 1 trace 3 and Round 2 trace 8: one ChatDev body
    stats = store.database_stats(blank_db)
    assert stats["traces"] == 19
    assert {r["name"]: r["labelled_segments"] for r in stats["raters"]} == {
        "annotator_1": 19, "annotator_2": 19, "annotator_3": 19}
    versions = {(t["version"], t["modes"]) for t in stats["taxonomies"]}
    assert versions == {("1", 14), ("draft-round-1", 18), ("draft-round-2", 17), ("draft-round-3", 17)}
    mast = store.get_taxonomy(blank_db, "mast@1")
    # 19 traces x 14 modes x 3 annotators, less the two labels the file writes as NaN (missing).
    assert blank_db.execute("SELECT COUNT(*) FROM labels WHERE taxonomy_id = ?", [mast.id]).fetchone()[0] == 796
    rounds = dict(blank_db.execute("SELECT value, COUNT(*) FROM trace_tags WHERE key = 'round' GROUP BY value"))
    assert rounds == {"Round 1": 5, "Round 2": 5, "Round 3": 5, "Generlazability": 4}


def test_mast_human_labels_are_mapped_by_code(blank_db, mast_human_path):
    """Round 1 draft 4.3 'Lack of critical verification' must land on final 3.2, etc."""
    import_file(blank_db, mast_human_path)
    raw = json.loads(mast_human_path.read_text())
    record = next(r for r in raw if r["round"] == "Round 1" and any(
        a["annotator_1"] for a in r["annotations"] if a["failure mode"].startswith("4.3")))
    row = blank_db.execute(
        "SELECT l.value FROM labels l JOIN modes m ON m.id = l.mode_id JOIN taxonomies t ON t.id = m.taxonomy_id"
        " JOIN raters r ON r.id = l.rater_id JOIN segments s ON s.id = l.segment_id"
        " JOIN traces tr ON tr.id = s.trace_id"
        " WHERE t.version = '1' AND m.code = '3.2' AND r.name = 'annotator_1' AND tr.external_id = ?",
        [str(record["trace_id"])]).fetchone()
    assert row == (1,)


def test_reimport_adds_nothing(blank_db, tmp_path, mast_human_path):
    import_file(blank_db, mast_human_path)
    before = db_fingerprint(tmp_path / "a.db")
    again = import_file(blank_db, mast_human_path)
    assert (again.traces_added, again.labels_added) == (0, 0)
    rows = blank_db.execute("SELECT COUNT(*) FROM imports").fetchone()[0]
    assert rows == 2  # the log says it was imported twice; nothing else changed
    blank_db.execute("DELETE FROM imports WHERE id = 2")
    blank_db.conn.commit()
    assert db_fingerprint(tmp_path / "a.db") == before


def test_jsonl_text_and_messages_with_turn_segments(blank_db, tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [
        {"id": "a", "text": "**[Programmer]**\nwrite code\n\n**[Reviewer]**\nlooks fine\n",
         "metadata": {"framework": "ChatDev", "round": "pilot"}, "labels": {"ana": labels_with("3.3")}},
        {"id": "b", "messages": [{"name": "planner", "role": "assistant", "recipient": "coder",
                                  "content": "plan: <b>x</b>"},
                                 {"name": "coder", "role": "assistant", "content": "done"}],
         "labels": {"ana": labels_with(), "judge:gpt@abc": {"1.1": 1}}},
    ])
    result = import_file(blank_db, path, scheme="turn", tags={"batch": "1"})
    assert (result.format, result.traces_added) == ("jsonl", 2)
    trace_b = blank_db.execute("SELECT id FROM traces WHERE external_id = 'b'").fetchone()[0]
    turns = store.segments_of_trace(blank_db, trace_b, "turn")
    assert [t.speaker for t in turns] == ["planner", "coder"]
    assert [t.recipient for t in turns] == ["coder", None]
    assert "plan: <b>x</b>" in turns[0].text
    kinds = dict(blank_db.execute("SELECT name, kind FROM raters"))
    assert kinds == {"ana": "human", "judge:gpt@abc": "judge"}
    tags = dict(blank_db.execute("SELECT key, value FROM trace_tags WHERE trace_id = ?", [trace_b]))
    assert tags == {"batch": "1"}
    # trace-level labels stay on the whole-trace segment, which is not queued for annotators
    row = blank_db.execute("SELECT DISTINCT s.scheme, s.queued FROM labels l JOIN segments s ON s.id = l.segment_id")
    assert row.fetchall() == [("trace", 0)]


def test_text_file_is_one_trace(blank_db, tmp_path):
    path = tmp_path / "run-42.log"
    path.write_text("Agent (to Critic):\nhello\n")
    result = import_file(blank_db, path)
    assert (result.format, result.traces_added) == ("text", 1)
    assert blank_db.execute("SELECT external_id FROM traces").fetchone()[0] == "run-42"


def _mad_record(i, text="trajectory text", annotation=None):
    return {"mas_name": "ChatDev", "llm_name": "gpt-4o", "benchmark_name": "ProgramDev", "trace_id": i,
            "trace": {"key": f"k{i}", "index": i, "trajectory": text},
            "mast_annotation": annotation if annotation is not None else {"1.1": 1, "2.4": None, "3.3": 0}}


def test_mad_llm_labelled_file_becomes_a_judge_rater(blank_db, tmp_path):
    path = tmp_path / "MAD_full_dataset.json"
    path.write_text(json.dumps([_mad_record(i) for i in range(3)]))
    assert detect_format(path) == "mad"
    result = import_file(blank_db, path)
    assert result.traces_added == 3
    assert store.get_rater(blank_db, "judge:MAD_full_dataset").kind == "judge"
    # null is missing, never "absent": only the two non-null codes are stored per trace
    assert blank_db.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 6


def _bad(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


BAD_INPUTS = [
    ("malformed jsonl", "t.jsonl", '{"id": "a", "text": "x"}\n{"id": "b", "text": \n', "line 2: malformed JSON"),
    ("malformed json array", "m.json", json.dumps([_mad_record(0)])[:-30], "record 0"),
    ("unknown json shape", "u.json", '[{"foo": 1}]', "not of a known record shape"),
    ("record missing its trace", "n.jsonl", '{"id": "a", "metadata": {}}\n', "id a): missing its trace"),
    ("mad record missing trace", "mm.json", json.dumps([_mad_record(0), _mad_record(1, text="")]),
     "record 1 (id ChatDev/gpt-4o/1/k1): missing its trace"),
    ("unknown mode", "l.jsonl", json.dumps({"id": "a", "text": "x", "labels": {"ana": {"9.9": 1}}}) + "\n",
     "unknown mode(s) 9.9"),
    ("label not 0/1", "v.jsonl", json.dumps({"id": "a", "text": "x", "labels": {"ana": {"1.1": 2}}}) + "\n",
     "must be 0 or 1"),
    ("empty file", "e.jsonl", "", "the file is empty"),
    ("blank lines only", "b.jsonl", "\n\n", "the file is empty"),
    ("non-utf8 jsonl", "x.jsonl", b'{"id": "a", "text": "caf\xe9"}\n', "line 1: not valid UTF-8"),
    ("non-utf8 text", "x.txt", b"caf\xe9 au lait", "not valid UTF-8"),
    ("non-utf8 json", "x.json", b'[{"trace": "caf\xe9", "annotations": []}]', "UTF-8"),
]


@pytest.mark.parametrize("case, name, content, message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_one_line_and_changes_nothing(tmp_path, blank_db, case, name, content, message):
    good = write_jsonl(tmp_path / "good.jsonl", [{"id": "g", "text": "fine", "labels": {"ana": labels_with()}}])
    import_file(blank_db, good)
    before = db_fingerprint(tmp_path / "a.db")
    path = _bad(tmp_path, name, content)
    with pytest.raises(IngestError) as err:
        import_file(blank_db, path)
    text = str(err.value)
    assert str(path) in text and message in text and "\n" not in text
    assert db_fingerprint(tmp_path / "a.db") == before


def test_error_late_in_file_rolls_back_earlier_records(tmp_path, blank_db):
    records = [{"id": f"t{i}", "text": f"trace {i}"} for i in range(50)] + [{"id": "bad"}]
    path = write_jsonl(tmp_path / "late.jsonl", records)
    with pytest.raises(IngestError, match="line 51"):
        import_file(blank_db, path)
    assert blank_db.execute("SELECT COUNT(*) FROM traces").fetchone()[0] == 0


def test_directory_and_missing_path(tmp_path, blank_db):
    with pytest.raises(IngestError, match="is a directory"):
        import_file(blank_db, tmp_path)
    with pytest.raises(IngestError, match="no such file"):
        import_file(blank_db, tmp_path / "nope.jsonl")
    with pytest.raises(IngestError, match="unknown format 'xml'"):
        import_file(blank_db, tmp_path / "nope.jsonl", fmt="xml")
    with pytest.raises(IngestError, match="--segment 'sentences'"):
        import_file(blank_db, tmp_path / "nope.jsonl", scheme="sentences")


def test_50_mb_single_trace_is_refused(tmp_path, blank_db):
    path = tmp_path / "huge.jsonl"
    with open(path, "w") as handle:
        handle.write('{"id": "huge", "text": "' + "x" * 50_000_000 + '"}\n')
    before = db_fingerprint(tmp_path / "a.db")
    with pytest.raises(IngestError, match=r"huge.jsonl: line 1 \(id huge\): trace is 50.0M characters"):
        import_file(blank_db, path)
    assert db_fingerprint(tmp_path / "a.db") == before
