"""Unsure is not a label (issue 10, item 5): left out of agreement, gold and the judge lab by default.

A rater's labels on a segment count as unsure when her LATEST submission for it says so. The data
below is written out by hand, with the pairs each rule keeps; kappas are checked against scikit-learn.
"""

import csv
import io
import json

import pytest
from helpers import run_cli
from sklearn.metrics import cohen_kappa_score

from annotator import store
from annotator.core.taxonomy import load_taxonomy
from annotator.services.exports import write_export
from annotator.services.gold import build_gold
from annotator.services.judgelab import compare_judges
from annotator.services.report import report_for

# segment -> [(status, value of mode 1.1), ...] per rater, in the order submitted.
ANA = {1: [("done", 1), ("unsure", 1)],     # done, then marked unsure: left out
       2: [("done", 0)], 3: [("done", 1)], 4: [("done", 0)], 5: [("done", 1)], 6: [("done", 0)]}
BEN = {1: [("done", 1)], 2: [("done", 0)],
       3: [("unsure", 1), ("done", 0)],      # unsure, then settled: counted (with the settled value)
       4: [("unsure", 1)],                   # unsure: left out
       5: [("done", 1)], 6: [("done", 0)]}
JUDGE = {s: [("done", v)] for s, v in {1: 1, 2: 1, 3: 0, 4: 1, 5: 1, 6: 0}.items()}
# What each rule keeps of (ana, ben) per segment, written out from the rule (None: not counted).
EXCLUDE = {1: (None, 1), 2: (0, 0), 3: (1, 0), 4: (0, None), 5: (1, 1), 6: (0, 0)}
INCLUDE = {1: (1, 1), 2: (0, 0), 3: (1, 0), 4: (0, 1), 5: (1, 1), 6: (0, 0)}


@pytest.fixture
def unsure_db(tmp_path):
    path = tmp_path / "unsure.db"
    db = store.connect(path)
    tax = store.get_taxonomy_by_id(db, store.save_taxonomy(db, load_taxonomy("mast")))
    mode = tax.mode_ids["1.1"]
    segments = {}
    with store.write(db):
        for s in range(1, 7):
            trace_id, _ = store.insert_trace(db, store.TraceInput(f"t{s}", f"trace {s}", "test", "text", segments=[
                store.SegmentInput("trace", 0, "trace", 0, 7)]))
            segments[s] = store.trace_segment_id(db, trace_id)
        for name, kind, history in (("ana", "human", ANA), ("ben", "human", BEN), ("judge:m@1", "judge", JUDGE)):
            rater = store.ensure_rater(db, name, kind)
            for s, submissions in history.items():
                for status, value in submissions:
                    store.write_labels(db, store.LabelWrite(segments[s], rater, tax.id, {mode: value}, status=status))
    db.conn.close()
    return path, segments


def _expected(rule: dict) -> tuple[int, float]:
    pairs = [(a, b) for a, b in rule.values() if a is not None and b is not None]
    return len(pairs), cohen_kappa_score([a for a, _ in pairs], [b for _, b in pairs])


def _pair(report, a="ana", b="ben"):
    mode = next(m for m in report["modes"] if m["code"] == "1.1")
    return next(p for p in mode["pairs"] if (p["a"], p["b"]) == (a, b))


@pytest.mark.parametrize(("include", "rule"), [(False, EXCLUDE), (True, INCLUDE)])
def test_report_leaves_unsure_out_by_default(unsure_db, include, rule):
    path, _ = unsure_db
    db = store.connect(path)
    report = report_for(db, raters=["ana", "ben"], bootstrap=0, include_unsure=include)
    n, kappa = _expected(rule)
    assert _pair(report)["n"] == n and _pair(report)["kappa"] == pytest.approx(kappa)
    assert report["params"]["filters"]["unsure"] == ("include" if include else "exclude")


def test_cli_report_default_and_include(unsure_db):
    path, _ = unsure_db
    runs = {}
    for extra in ([], ["--unsure", "include"]):
        result = run_cli("report", "--format", "json", "--bootstrap", "0", "--raters", "ana,ben", *extra, db=path)
        assert result.exit_code == 0, result.output
        runs[bool(extra)] = json.loads(result.stdout)
    assert _pair(runs[False])["n"] == _expected(EXCLUDE)[0] == 4
    assert _pair(runs[True])["n"] == _expected(INCLUDE)[0] == 6
    assert run_cli("report", "--unsure", "maybe", db=path).exit_code != 0


@pytest.mark.parametrize(("include", "rule"), [(False, EXCLUDE), (True, INCLUDE)])
def test_gold_counts_only_sure_labels_by_default(unsure_db, include, rule):
    path, segments = unsure_db
    db = store.connect(path)
    build_gold(db, strategy="majority", include_unsure=include)
    got = {s: v for s, v in db.execute(
        "SELECT g.segment_id, g.value FROM gold g JOIN modes m ON m.id = g.mode_id WHERE m.code = '1.1'")}
    # Two raters: gold where both counted labels agree (a single label is not agreement).
    want = {segments[s]: a for s, (a, b) in rule.items() if a is not None and a == b}
    assert got == want


def test_cli_gold_build_takes_unsure(unsure_db):
    path, segments = unsure_db
    assert run_cli("gold", "build", "--unsure", "include", db=path).exit_code == 0
    db = store.connect(path)
    gold_segments = {r[0] for r in db.execute("SELECT segment_id FROM gold")}
    assert segments[1] in gold_segments  # ana's unsure 1 agrees with ben's 1


@pytest.mark.parametrize(("include", "rule"), [(False, EXCLUDE), (True, INCLUDE)])
def test_judge_lab_against_a_person_leaves_her_unsure_labels_out(unsure_db, include, rule):
    path, _ = unsure_db
    db = store.connect(path)
    result = compare_judges(db, ["judge:m@1"], against="ben", bootstrap=0, include_unsure=include)
    counted = [s for s, (_, b) in rule.items() if b is not None]
    judge = next(m for m in result["modes"] if m["code"] == "1.1")["judges"][0]
    assert result["segments"] == len(counted) and judge["n"] == len(counted)
    y_ref = [rule[s][1] for s in counted]
    y_judge = [JUDGE[s][-1][1] for s in counted]
    assert judge["kappa"] == pytest.approx(cohen_kappa_score(y_ref, y_judge))
    assert result["params"]["unsure"] == ("include" if include else "exclude")


def test_cli_judge_compare_takes_unsure(unsure_db):
    path, _ = unsure_db
    outs = [json.loads(run_cli("judge", "compare", "judge:m@1", "--against", "ben", "--bootstrap", "0", "--json",
                               *extra, db=path).stdout) for extra in ([], ["--unsure", "include"])]
    assert [o["segments"] for o in outs] == [5, 6]


def test_exports_carry_the_submission_status(unsure_db):
    path, segments = unsure_db
    db = store.connect(path)
    out = io.StringIO()
    write_export(db, "labels", "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    status = {(int(r["segment_id"]), r["rater"]): r["status"] for r in rows}
    assert status[(segments[1], "ana")] == "unsure" and status[(segments[4], "ben")] == "unsure"
    assert status[(segments[3], "ben")] == "done" and status[(segments[2], "ana")] == "done"
    out = io.StringIO()
    write_export(db, "labels", "jsonl", out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    records = {r["metadata"].get("source_trace", r["id"]): r for r in lines if "taxonomy_definition" not in r}
    assert records["t1"]["status"] == {"ana": "unsure", "ben": "done", "judge:m@1": "done"}
    assert records["t4"]["status"]["ben"] == "unsure"


def test_agreement_page_uses_the_same_default(unsure_db, monkeypatch):
    """The page's report is report_for's with its defaults: the unsure labels are left out there too."""
    from app_helpers import signed_in

    path, _ = unsure_db
    monkeypatch.setenv("ANNOTATOR_DB", str(path))
    db = store.connect(path)
    at = signed_in(store.add_user(db, "rita", "reviewer"), "views/agreement.py")
    assert not at.error
    # Every rater pair is shown on demand only (the page opens on the people's figures).
    next(t for t in at.toggle if t.key == "agreement_all_pairs").set_value(True).run()

    def ana_ben_n() -> int:
        table = next(d.value for d in at.dataframe if "pair" in d.value.columns)
        rows = table[table["mode"].str.startswith("1.1 ") & (table["pair"] == "ana vs ben")]
        return int(rows["n"].iloc[0])

    assert ana_ben_n() == 4
    at.checkbox[0].check()
    next(b for b in at.button if b.label == "Apply").click().run()
    assert ana_ben_n() == 6
