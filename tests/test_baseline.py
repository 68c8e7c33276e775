"""`annotator judge baseline`: the TF-IDF + logistic regression rater, checked against scikit-learn written out
here (not the module's pipeline), its name, its refusals, and its place in judge compare and the report."""

import hashlib
import json
import random
import sqlite3

import numpy as np
import pytest
from helpers import db_fingerprint, labels_with, run_cli, write_jsonl
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from annotator import store
from annotator.ingest import import_file
from annotator.judge import baseline
from annotator.services.gold import adjudicate, build_gold, split_gold
from annotator.services.judgelab import compare_judges
from annotator.services.report import report_for

JUDGE = "judge:synthetic@000000000000"
TRAINED = ("1.1", "1.3")  # the synthetic modes with enough positives; the others have none
WORDS = ["plan", "write", "code", "test", "run", "check", "file", "step", "agent", "reply", "answer", "task", "user", "data", "list", "value"]


def _records(n=30):
    """Traces whose failures leave a cue in the text (with noise), labelled alike by two people; a judge
    that gets most of them right."""
    rng = random.Random(7)
    records = []
    for i in range(n):
        truth = ["1.1"] if i % 3 == 0 else (["1.3"] if i % 3 == 1 and i % 2 == 0 else [])
        words = [rng.choice(WORDS) for _ in range(60)]
        if "1.1" in truth or rng.random() < 0.1:
            words.insert(rng.randrange(60), "ignored the constraint")
        if "1.3" in truth or rng.random() < 0.1:
            words.insert(rng.randrange(60), "repeated the same step again")
        said = truth if i % 5 else ["1.1"]
        records.append({"id": f"syn-{i:02d}", "text": " ".join(words),
                        "labels": {"ana": labels_with(*truth), "ben": labels_with(*truth), JUDGE: labels_with(*said)}})
    return records


def _lab(tmp_path, *, split=True):
    db = store.connect(tmp_path / "lab.db")
    import_file(db, write_jsonl(tmp_path / "lab.jsonl", _records()))
    build_gold(db)
    if split:
        split_gold(db, test_fraction=0.25)
    return db


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A synthetic lab with the baseline trained on dev (the untrainable modes skipped)."""
    tmp = tmp_path_factory.mktemp("baseline")
    db = _lab(tmp)
    result = baseline.train_baseline(db, skip_untrainable=True)
    return tmp / "lab.db", db, result


def _rows(path, sql, args=()):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _dev_and_test(path):
    """(segment id, trace body, split) of every gold segment, in id order, read with plain SQL."""
    return _rows(path, "SELECT s.id, t.text, g.split FROM gold_splits g JOIN segments s ON s.id = g.segment_id"
                       " JOIN traces t ON t.id = s.trace_id ORDER BY s.id")


def _stored_labels(path, rater, code):
    return dict(_rows(path, "SELECT l.segment_id, l.value FROM labels l JOIN raters r ON r.id = l.rater_id"
                            " JOIN modes m ON m.id = l.mode_id WHERE r.name = ? AND m.code = ?", (rater, code)))


def _block(counts, start, stop):
    return counts[:, start:stop]


def _reference_model(inner_folds, seed=0):
    """The documented model, written out: per-block sublinear TF-IDF over hashed counts, then balanced logistic
    regression (liblinear, dual) with C from {0.01, 0.1, 1, 10, 100} by stratified inner CV on log loss."""
    n = 2**18
    blocks = FeatureUnion([(name, Pipeline([("cols", FunctionTransformer(_block, kw_args={"start": a, "stop": b},
                                                                         accept_sparse=True)),
                                            ("tfidf", TfidfTransformer(sublinear_tf=True))]))
                           for name, a, b in (("w", 0, n), ("c", n, 2 * n))])
    search = GridSearchCV(LogisticRegression(class_weight="balanced", solver="liblinear", dual=True, max_iter=2000,
                                             random_state=seed),
                          {"C": [0.01, 0.1, 1.0, 10.0, 100.0]},
                          cv=StratifiedKFold(inner_folds, shuffle=True, random_state=seed), scoring="neg_log_loss")
    return Pipeline([("features", blocks), ("model", search)])


def _hashed_counts(texts):
    from scipy import sparse

    word = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=2**18, alternate_sign=False, norm=None)
    char = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=2**18, alternate_sign=False,
                             norm=None)
    return sparse.hstack([word.transform(texts), char.transform(texts)], format="csr")


def test_labels_are_nested_out_of_fold_predictions_on_dev_and_the_dev_model_elsewhere(trained):
    path, _, result = trained
    gold = {r["id"]: r["labels"]["ana"] for r in _records()}
    externals = dict(_rows(path, "SELECT s.id, t.external_id FROM segments s JOIN traces t ON t.id = s.trace_id"))
    rows = _dev_and_test(path)
    dev = [(s, text) for s, text, side in rows if side == "dev"]
    test = [(s, text) for s, text, side in rows if side == "test"]
    assert len(dev) + len(test) == 30 and test
    counts_dev = _hashed_counts([t for _, t in dev])
    groups = np.array([hashlib.sha256(t.encode()).hexdigest() for _, t in dev])  # the trace bodies
    for code in TRAINED:
        y = np.array([gold[externals[s]][code] for s, _ in dev])
        k = min(5, (y == 1).sum(), (y == 0).sum())
        outer = StratifiedGroupKFold(k, shuffle=True, random_state=0)
        expected_dev = cross_val_predict(_reference_model(k - 1), counts_dev, y, groups=groups, cv=outer)
        stored = _stored_labels(path, result.rater, code)
        assert [stored[s] for s, _ in dev] == expected_dev.tolist(), code
        final = _reference_model(k - 1).fit(counts_dev, y)
        expected_test = final.predict(_hashed_counts([t for _, t in test]))
        assert [stored[s] for s, _ in test] == expected_test.tolist(), code
        mode = next(m for m in result.modes if m.code == code)
        assert (mode.folds, mode.c) == (k, final[-1].best_params_["C"])
    assert result.labelled == 30 and result.out_of_fold == len(dev)


def test_untrainable_modes_are_listed_and_left_unlabelled(trained):
    path, _, result = trained
    skipped = {m.code: m for m in result.modes if m.skipped}
    assert set(skipped) == set(labels_with()) - set(TRAINED)
    assert all(m.positives == 0 and "at least 3 positive" in m.skipped for m in skipped.values())
    assert _stored_labels(path, result.rater, "2.1") == {}


def test_rerun_on_the_same_data_is_the_same_rater_and_changes_nothing(trained):
    path, db, result = trained
    before = db_fingerprint(path)
    again = baseline.train_baseline(db, skip_untrainable=True)
    assert again.rater == result.rater and again.changed == 0
    assert db_fingerprint(path) == before


def test_the_name_hashes_data_and_parameters(tmp_path):
    db = _lab(tmp_path)
    stored = store.get_taxonomy(db, "mast")
    training = baseline._training_set(db, stored, "dev", stored.taxonomy.codes)
    params = baseline.tfidf.TfidfParams()
    name = baseline.rater_name(training, params, taxonomy="mast@1", split="dev")
    assert name.startswith("baseline:tfidf-logreg@") and len(name.rsplit("@", 1)[1]) == 12
    assert baseline.rater_name(training, baseline.tfidf.TfidfParams(), taxonomy="mast@1", split="dev") == name
    assert baseline.rater_name(training, baseline.tfidf.TfidfParams(seed=1), taxonomy="mast@1", split="dev") != name
    assert baseline.rater_name(training, baseline.tfidf.TfidfParams(folds=4), taxonomy="mast@1", split="dev") != name
    assert baseline.rater_name(training, params, taxonomy="mast@1", split="all") != name
    # one gold value changed by a reviewer: other data, another rater
    segment = int(training.segment_ids[0])
    current = store.gold_of_segment(db, segment, stored.id)["1.3"]["value"]
    adjudicate(db, segment, {"1.3": 1 - current}, adjudicator="rita")
    changed = baseline._training_set(db, stored, "dev", stored.taxonomy.codes)
    assert baseline.rater_name(changed, params, taxonomy="mast@1", split="dev") != name


def test_refuses_a_mode_with_too_few_positives_in_one_line_and_writes_nothing(tmp_path):
    _lab(tmp_path).conn.close()
    path = tmp_path / "lab.db"
    before = db_fingerprint(path)
    result = run_cli("judge", "baseline", db=path)
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "2.1 (0+/" in message and "at least 3 positive and 3 negative" in message
    assert "--skip-untrainable" in message and "1.1 (" not in message
    assert db_fingerprint(path) == before


def test_refuses_without_a_split_or_gold(tmp_path):
    db = _lab(tmp_path, split=False)
    db.conn.close()
    result = run_cli("judge", "baseline", "--skip-untrainable", db=tmp_path / "lab.db")
    assert result.exit_code == 1 and "gold split" in result.stderr
    empty = tmp_path / "empty.db"
    assert run_cli("init", db=empty).exit_code == 0
    result = run_cli("judge", "baseline", db=empty)
    assert result.exit_code == 1 and "gold build" in result.stderr


def test_it_is_a_judge_in_compare_and_in_the_report(trained):
    path, db, result = trained
    compared = compare_judges(db, [JUDGE, result.rater], split="dev", bootstrap=50)
    assert compared["raters"] == [JUDGE, result.rater]
    dev = [s for s, _, side in _dev_and_test(path) if side == "dev"]
    gold = dict(_rows(path, "SELECT g.segment_id, g.value FROM gold g JOIN modes m ON m.id = g.mode_id"
                            " WHERE m.code = '1.1'"))
    said = _stored_labels(path, result.rater, "1.1")
    one = next(m for m in compared["modes"] if m["code"] == "1.1")
    ours = one["judges"][1]
    assert ours["kappa"] == pytest.approx(cohen_kappa_score([gold[s] for s in dev], [said[s] for s in dev]))
    assert ours["kappa_change"] == pytest.approx(ours["kappa"] - one["judges"][0]["kappa"])
    assert ours["kappa_change_ci_low"] is not None and ours["f1_ci_low"] is not None
    report = report_for(db, bootstrap=0)
    assert {"name": result.rater, "kind": "judge"} in report["raters"]
    mode = next(m for m in report["modes"] if m["code"] == "1.1")
    assert result.rater in [j["rater"] for j in mode["judges"]]
    assert result.rater not in json.dumps(mode["people"])


def test_demo_end_to_end_from_the_command_line(tmp_path):
    path = tmp_path / "demo.db"
    assert run_cli("demo", "--no-serve", db=path).exit_code == 0
    assert run_cli("gold", "split", db=path).exit_code == 0
    trained = run_cli("judge", "baseline", "--skip-untrainable", "--json", db=path)
    assert trained.exit_code == 0, trained.output
    rater = json.loads(trained.stdout)["rater"]
    judge = next(r.name for r in store.list_raters(store.connect(path)) if r.name.startswith("judge:"))
    compared = run_cli("judge", "compare", judge, rater, "--split", "dev", "--bootstrap", "50", "--json", db=path)
    assert compared.exit_code == 0, compared.output
    document = json.loads(compared.stdout)
    assert [j["rater"] for j in document["modes"][0]["judges"]] == [judge, rater]
    report = run_cli("report", "--format", "json", "--bootstrap", "0", db=path)
    assert report.exit_code == 0
    assert any(j["rater"] == rater for m in json.loads(report.stdout)["modes"] for j in m["judges"])
