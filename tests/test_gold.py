import json

import numpy as np
import pytest
from helpers import labels_with, run_cli, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from annotator import store
from annotator.ingest import import_file
from annotator.services.gold import adjudicate, assign_splits, build_gold, decide_gold, leaked_test_segments, split_gold


def _brute_force(cell: list[int], strategy: str) -> tuple[int, str]:
    given_ = [v for v in cell if v >= 0]
    if len(given_) < 2:
        return -1, ""
    if len(set(given_)) == 1:
        return given_[0], "unanimous"
    ones = sum(given_)
    if strategy == "majority" and 2 * ones != len(given_):
        return int(2 * ones > len(given_)), "majority"
    return -1, ""


@settings(max_examples=200, deadline=None)
@given(arrays(np.int8, st.tuples(st.integers(1, 6), st.integers(1, 5), st.integers(1, 4)),
              elements=st.sampled_from([-1, 0, 1])), st.sampled_from(["majority", "unanimous"]))
def test_decide_gold_matches_a_brute_force_rule(values, strategy):
    value, provenance = decide_gold(values, strategy)
    for i in range(values.shape[0]):
        for k in range(values.shape[2]):
            assert (value[i, k], provenance[i, k]) == _brute_force(list(values[i, :, k]), strategy)


@pytest.fixture
def demo_like(tmp_path):
    db = store.connect(tmp_path / "g.db")
    records = [
        {"id": "agree", "text": "t1", "labels": {"ana": labels_with("1.1"), "ben": labels_with("1.1"),
                                                 "chen": labels_with("1.1")}},
        {"id": "split", "text": "t2", "labels": {"ana": labels_with("3.2"), "ben": labels_with("3.3"),
                                                 "chen": labels_with("3.2")}},
        {"id": "tie", "text": "t3", "labels": {"ana": labels_with("2.2"), "ben": labels_with()}},
        {"id": "alone", "text": "t4", "labels": {"ana": labels_with("2.4"), "judge:m@1": labels_with()}},
    ]
    import_file(db, write_jsonl(tmp_path / "g.jsonl", records))
    return db


def _segment(db, external_id):
    trace = db.execute("SELECT id FROM traces WHERE external_id = ?", [external_id]).fetchone()[0]
    return store.trace_segment_id(db, trace)


def _gold(db, external_id):
    tax = store.get_taxonomy(db, "mast")
    return store.gold_of_segment(db, _segment(db, external_id), tax.id)


def test_build_gold_provenance_and_what_is_left_for_review(demo_like):
    result = build_gold(demo_like, strategy="majority")
    assert _gold(demo_like, "agree")["1.1"] == {**_gold(demo_like, "agree")["1.1"], "value": 1, "provenance": "unanimous"}
    split = _gold(demo_like, "split")
    assert (split["3.2"]["value"], split["3.2"]["provenance"]) == (1, "majority")
    assert (split["3.3"]["value"], split["3.3"]["provenance"]) == (0, "majority")
    assert "2.2" not in _gold(demo_like, "tie")  # 1 vs 1: a tie is for a reviewer
    assert _gold(demo_like, "alone") == {}  # one human (judges do not count) is not agreement
    assert (str(_segment(demo_like, "tie")), "2.2") in result.undecided
    unanimous = build_gold(demo_like, strategy="unanimous")
    assert "3.2" not in _gold(demo_like, "split") and unanimous.written < result.written


def test_adjudication_wins_over_rebuilding_and_records_who(demo_like):
    build_gold(demo_like)
    segment = _segment(demo_like, "tie")
    adjudicate(demo_like, segment, {"2.2": 1}, adjudicator="rita", note="asks nobody")
    build_gold(demo_like, strategy="unanimous")
    gold = _gold(demo_like, "tie")
    assert gold["2.2"]["value"] == 1 and gold["2.2"]["provenance"] == "adjudicated"
    assert gold["2.2"]["adjudicator"] == "rita" and gold["2.2"]["note"] == "asks nobody"
    assert gold["1.1"]["provenance"] == "unanimous"  # the other modes of the segment keep automatic gold


@pytest.mark.parametrize("segment, values, message", [
    ("missing", {"1.1": 1}, "no segment"),
    ("agree", {"9.9": 1}, "unknown mode"),
    ("agree", {"1.1": 2}, "must be 0 or 1"),
])
def test_adjudication_errors_change_nothing(demo_like, segment, values, message):
    segment_id = 10_000 if segment == "missing" else _segment(demo_like, segment)
    with pytest.raises(ValueError, match=message):
        adjudicate(demo_like, segment_id, values, adjudicator="rita")
    assert demo_like.execute("SELECT COUNT(*) FROM gold").fetchone()[0] == 0


def test_adjudicating_a_segment_nobody_labelled(demo_like):
    with store.write(demo_like):
        trace_id, _ = store.insert_trace(demo_like, store.TraceInput(
            "fresh", "new text", "x", "text", segments=[store.SegmentInput("trace", 0, "trace", 0, 8)]))
    with pytest.raises(ValueError, match="nothing to adjudicate"):
        adjudicate(demo_like, store.trace_segment_id(demo_like, trace_id), {"1.1": 1}, adjudicator="rita")


def test_split_is_seeded_stratified_and_never_moves(tmp_path):
    units = [(i, f"hash-{i}", "rare" if i < 10 else "common") for i in range(100)]
    first = assign_splits(units, test_fraction=0.3, seed=7)
    assert first == assign_splits(list(reversed(units)), test_fraction=0.3, seed=7)
    assert first != assign_splits(units, test_fraction=0.3, seed=8)
    assert sum(v == "test" for v in first.values()) == 30
    assert sum(first[i] == "test" for i in range(10)) == 3  # the rare stratum is split in proportion


def test_split_gold_keeps_existing_sides(demo_like):
    build_gold(demo_like)
    sizes = split_gold(demo_like, seed=1)
    tax = store.get_taxonomy(demo_like, "mast")
    before = store.get_split(demo_like, tax.id)
    assert sum(sizes.values()) == len(before) == 3  # "alone" has one human rater, hence no gold
    adjudicate(demo_like, _segment(demo_like, "alone"), {"2.4": 1}, adjudicator="rita")
    split_gold(demo_like, seed=99, test_fraction=0.9)
    after = store.get_split(demo_like, tax.id)
    assert {k: after[k] for k in before} == before and len(after) == 4


def test_leakage_finds_test_segments_in_examples(demo_like):
    build_gold(demo_like)
    adjudicate(demo_like, _segment(demo_like, "tie"), {"2.2": 0}, adjudicator="rita")
    split_gold(demo_like, test_fraction=0.5)
    tax = store.get_taxonomy(demo_like, "mast")
    test_ids = [s for s, side in store.get_split(demo_like, tax.id).items() if side == "test"]
    texts = [store.get_segment(demo_like, s).text for s in test_ids]
    assert leaked_test_segments(demo_like, texts + ["unrelated example"]) == sorted(test_ids)
    assert leaked_test_segments(demo_like, ["unrelated example"]) == []


def test_gold_cli_and_export_contract(tmp_path, mast_human_path):
    db = tmp_path / "m.db"
    run_cli("import", str(mast_human_path), db=db)
    done = run_cli("gold", "build", "--strategy", "majority", db=db)
    assert done.exit_code == 0 and "on 19 segments" in done.output, done.output
    lines = run_cli("export", "gold", "--format", "jsonl", db=db).stdout.splitlines()
    first = json.loads(lines[0])
    assert {"trace_id", "segment_id", "taxonomy", "mode", "value", "provenance"} <= set(first)
    assert first["taxonomy"] == "mast@1" and first["provenance"] in ("unanimous", "majority")
    assert len(lines) == 19 * 14  # three raters: majority always decides (annotator 3's NaN: 2 of 2 left)
    assert "dev:" in run_cli("gold", "split", db=db).output
    bad = run_cli("gold", "adjudicate", "1", "--set", "1.1=yes", "--by", "rita", db=db)
    assert bad.exit_code != 0 and "CODE=0|1" in bad.output


def test_gold_goes_stale_when_a_fourth_rater_disagrees_until_rebuilt_or_adjudicated(tmp_path):
    from annotator.services.report import report_for
    from annotator.services.review import contested_segments, describe_gold, load_review

    db = store.connect(tmp_path / "stale.db")
    path = write_jsonl(tmp_path / "three.jsonl", [
        {"id": "t1", "text": "one", "labels": {r: labels_with("1.1") for r in "abc"}},
        {"id": "t2", "text": "two", "labels": {"a": labels_with(), "b": labels_with("2.2"), "c": labels_with()}}])
    import_file(db, path)
    build_gold(db, strategy="unanimous")
    tax = store.get_taxonomy(db, "mast")
    seg1, seg2 = _segment(db, "t1"), _segment(db, "t2")
    assert store.stale_gold_segments(db, tax.id) == []
    adjudicate(db, seg2, {"2.2": 0}, adjudicator="rita")
    later = write_jsonl(tmp_path / "fourth.jsonl", [  # a fourth rater, after gold: disagrees on t1 and t2
        {"id": "t1", "text": "one", "labels": {"d": labels_with()}},
        {"id": "t2", "text": "two", "labels": {"d": labels_with("2.2")}}])
    import_file(db, later)
    assert store.stale_gold_segments(db, tax.id) == [seg1, seg2]
    assert _gold(db, "t1")["1.1"]["provenance"] == "unanimous" and _gold(db, "t1")["1.1"]["stale"] is True
    rows = list(store.iter_gold_rows(db, tax.id))
    assert {r["segment_id"] for r in rows if r["stale"]} == {seg1, seg2}
    exported = run_cli("export", "gold", "--format", "jsonl", db=tmp_path / "stale.db")
    assert all(json.loads(line)["stale"] for line in exported.stdout.splitlines())
    assert report_for(db, include_gold=True, bootstrap=0)["stale_gold_segments"] == [seg1, seg2]
    review = load_review(db, seg2, tax)
    assert review.stale_gold and describe_gold(review.gold["2.2"]) == "stale · – adjudicated by rita"
    assert [r.stale for r in contested_segments(db, tax) if r.segment_id == seg2] == [True]
    adjudicate(db, seg2, labels_with("2.2"), adjudicator="rita")  # re-adjudicated (every mode): up to date
    assert store.stale_gold_segments(db, tax.id) == [seg1]
    build_gold(db, strategy="unanimous")  # rebuilt: t1 is no longer unanimous, so it has no gold for 1.1
    assert store.stale_gold_segments(db, tax.id) == [] and "1.1" not in _gold(db, "t1")
    assert "stale_gold_segments" not in report_for(db, include_gold=True, bootstrap=0)
