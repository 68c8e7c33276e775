import csv
import io
import json

from helpers import labels_with, run_cli, write_jsonl

from annotator import store
from annotator.ingest import import_file
from annotator.services.exports import write_export


def _source(tmp_path):
    return write_jsonl(tmp_path / "src.jsonl", [
        {"id": "a", "text": "=cmd|' /C calc'!A0\nAlice (to Bob):\nhi\n\nBob (to Alice):\nok\n",
         "metadata": {"framework": "AG2", "round": "r1"},
         "labels": {"ana": labels_with("1.1", "3.3"), "ben": labels_with("3.2"), "judge:m@v1": labels_with("3.3")}},
        {"id": "b", "messages": [{"name": "planner", "role": "assistant", "content": "plan"},
                                 {"name": "coder", "role": "assistant", "content": "code"}],
         "labels": {"ana": labels_with(), "ben": labels_with("2.2")}},
    ])


def test_labels_jsonl_round_trips_into_another_database(tmp_path):
    first = store.connect(tmp_path / "one.db")
    import_file(first, _source(tmp_path))
    out = tmp_path / "labels.jsonl"
    with open(out, "w") as handle:
        assert write_export(first, "labels", "jsonl", handle) == 2
    second = store.connect(tmp_path / "two.db")
    import_file(second, out)

    def cells(db):
        return sorted((r["trace_id"], r["rater"], r["rater_kind"], r["taxonomy"], r["mode"], r["value"])
                      for r in store.iter_label_rows(db))

    assert cells(first) == cells(second) and len(cells(first)) == 5 * 14
    definition, record = (json.loads(line) for line in out.read_text().splitlines()[:2])
    assert definition["taxonomy_definition"]["name"] == "mast"  # the taxonomy travels first
    assert record["metadata"] == {"framework": "AG2", "round": "r1"} and record["taxonomy"] == "mast@1"
    assert record["details"]["ana"]["1.1"]["rater_kind"] == "human"


def test_labels_csv_has_identity_kind_version_and_neutralised_text(tmp_path):
    db = store.connect(tmp_path / "one.db")
    import_file(db, _source(tmp_path), scheme="turn")
    buffer = io.StringIO()
    write_export(db, "labels", "csv", buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert {r["rater_kind"] for r in rows} == {"human", "judge"} and {r["taxonomy"] for r in rows} == {"mast@1"}
    buffer = io.StringIO()
    write_export(db, "segments", "csv", buffer)
    texts = [r["text"] for r in csv.DictReader(io.StringIO(buffer.getvalue()))]
    assert not any(t.startswith("=") for t in texts)  # a formula in a trace must not run in a spreadsheet
    assert sum(t.startswith("'=cmd|") for t in texts) == 2  # the whole trace and its first turn


def test_segments_jsonl_ids_and_cli_out_file(tmp_path):
    db_path = tmp_path / "one.db"
    import_file(store.connect(db_path), _source(tmp_path), scheme="turn")
    out = tmp_path / "segments.jsonl"
    done = run_cli("export", "segments", "--format", "jsonl", "--out", str(out), db=db_path)
    assert done.exit_code == 0, done.output
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert "a" in ids and "b/turn/0" in ids and "b/turn/1" in ids
    assert not (tmp_path / "segments.jsonl.partial").exists()
    empty = run_cli("export", "gold", "--format", "jsonl", db=db_path)
    assert empty.exit_code == 0 and empty.stdout == ""
