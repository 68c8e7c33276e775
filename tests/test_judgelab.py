import json

import pytest
from helpers import ALL_CODES, labels_with, run_cli, write_jsonl
from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support

from annotator import store
from annotator.ingest import import_file
from annotator.services.gold import build_gold, split_gold
from annotator.services.judgelab import compare_judges, judge_errors, leaked_examples, prompt_diff

V1, V2 = "judge:m@aaaaaaaaaaaa", "judge:m@bbbbbbbbbbbb"


def _records(n=30):
    records = []
    for i in range(n):
        truth = ["1.1"] if i % 3 == 0 else (["3.3"] if i % 4 == 0 else [])
        v1 = ["1.1"] if i % 2 == 0 else []          # a noisy first prompt
        v2 = truth + (["3.2"] if i % 7 == 0 else [])  # a better second one that over-flags 3.2
        records.append({"id": f"t{i}", "text": f"trace body {i}", "labels": {
            "ana": labels_with(*truth), "ben": labels_with(*truth), V1: labels_with(*v1), V2: labels_with(*v2)}})
    return records


@pytest.fixture
def lab(tmp_path):
    db = store.connect(tmp_path / "lab.db")
    import_file(db, write_jsonl(tmp_path / "lab.jsonl", _records()))
    build_gold(db)
    return db


def _column(rater, code):
    """A rater's labels of one mode on t0..t29, straight from the records imported (not read back)."""
    return [record["labels"][rater][code] for record in _records()]


def test_compare_matches_sklearn_per_mode(lab):
    result = compare_judges(lab, [V1, V2], bootstrap=100)
    assert result["segments"] == 30 and result["against"] == "gold"
    kappas = scores = 0
    for mode in result["modes"]:
        gold = _column("ana", mode["code"])  # gold is unanimous: ana and ben agree everywhere
        for judge in mode["judges"]:
            said = _column(judge["rater"], mode["code"])
            if len(set(gold) | set(said)) > 1:
                assert judge["kappa"] == pytest.approx(cohen_kappa_score(gold, said))
                kappas += 1
            else:
                assert judge["kappa"] is None
            if sum(said) and sum(gold):
                p, r, f, _ = precision_recall_fscore_support(gold, said, average="binary", zero_division=0)
                assert (judge["precision"], judge["recall"], judge["f1"]) == pytest.approx((p, r, f))
                scores += 1
    assert kappas >= 4 and scores >= 3  # 1.1 and 3.3 for both judges, 3.2 for v2; P/R/F1 where both have positives
    one = next(m for m in result["modes"] if m["code"] == "1.1")
    assert one["judges"][1]["kappa_change"] == pytest.approx(one["judges"][1]["kappa"] - one["judges"][0]["kappa"])


def test_compare_against_a_rater_and_by_split(lab):
    by_ben = compare_judges(lab, [V2], against="ben", bootstrap=0)
    assert by_ben["segments"] == 30
    with pytest.raises(ValueError, match="no dev/test split yet"):
        compare_judges(lab, [V2], split="test", bootstrap=0)
    sizes = split_gold(lab, test_fraction=0.3)
    test = compare_judges(lab, [V2], split="test", bootstrap=0)
    dev = compare_judges(lab, [V2], split="dev", bootstrap=0)
    assert (test["segments"], dev["segments"]) == (sizes["test"], sizes["dev"])


def test_compare_against_empty_gold_is_a_clear_error(tmp_path):
    db = store.connect(tmp_path / "e.db")
    import_file(db, write_jsonl(tmp_path / "e.jsonl", _records(5)))
    with pytest.raises(ValueError, match="no gold labels"):
        compare_judges(db, [V1], bootstrap=0)
    done = run_cli("judge", "compare", V1, db=tmp_path / "e.db")
    assert done.exit_code != 0 and "no gold labels" in done.output


def test_errors_drill_down(lab):
    rows = judge_errors(lab, V2, "3.2")
    assert rows and all(r["error"] == "false positive" for r in rows)
    assert {r["trace_id"] for r in rows} == {f"t{i}" for i in range(30) if i % 7 == 0}
    assert rows[0]["text"].startswith("trace body")
    misses = judge_errors(lab, V1, "1.1")
    assert {r["error"] for r in misses} == {"false positive", "false negative"}


def test_prompt_diff_and_leakage(lab):
    split_gold(lab, test_fraction=0.5)
    tax = store.get_taxonomy(lab, "mast")
    test_segment = next(s for s, side in store.get_split(lab, tax.id).items() if side == "test")
    leaked_text = store.get_segment(lab, test_segment).text
    front = f"---\nname: p\nexamples:\n  - text: {json.dumps(leaked_text)}\n    labels: {{'1.1': 1}}\n---\n"
    store.save_prompt(lab, version="aaaaaaaaaaaa", name="p", path="p1.md", text=front + "Decide.\n")
    store.save_prompt(lab, version="bbbbbbbbbbbb", name="p", path="p2.md", text="---\nname: p\n---\nDecide well.\n")
    lab.execute("UPDATE raters SET prompt_version = substr(name, -12) WHERE kind = 'judge'")
    lab.conn.commit()
    diff = prompt_diff(lab, "aaaaaaaaaaaa", "bbbbbbbbbbbb")
    assert "-Decide." in diff and "+Decide well." in diff
    assert leaked_examples(lab, V1) == [test_segment] and leaked_examples(lab, V2) == []
    result = compare_judges(lab, [V1, V2], bootstrap=0)
    assert result["leakage"] == {V1: [test_segment], V2: []}
    cli = run_cli("judge", "compare", V1, V2, "--bootstrap", "0", db=lab_path(lab))
    assert "WARNING" in cli.stderr and str(test_segment) in cli.stderr


def lab_path(db):
    return db.execute("PRAGMA database_list").fetchone()[2]


def test_cli_json(lab):
    done = run_cli("judge", "compare", V1, V2, "--json", "--bootstrap", "50", db=lab_path(lab))
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert [m["code"] for m in result["modes"]] == ALL_CODES and result["raters"] == [V1, V2]


def test_overall_mean_kappa_is_the_judges_own_not_the_peoples(lab):
    """The report's headline averages are among people only; the lab's overall kappa is the judge's against the
    reference (gold here: no pair of people in that report), averaged over modes where it is defined."""
    result = compare_judges(lab, [V1, V2], bootstrap=0)
    for overall in result["overall"]:
        kappas = []
        for code in {m["code"] for m in result["modes"]}:
            gold, said = _column("ana", code), _column(overall["rater"], code)
            if len(set(gold) | set(said)) > 1:
                kappas.append(cohen_kappa_score(gold, said))
        assert overall["mean_kappa"] == pytest.approx(sum(kappas) / len(kappas))
        assert overall["mean_kappa_modes_covered"] == len(kappas)
