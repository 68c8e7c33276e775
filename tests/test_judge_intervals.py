"""Intervals of `judge compare` (issue 10, item 2): Agresti-Coull for precision, recall and F1 (statsmodels),
the paired Dirichlet posterior of the change in kappa (numpy's Dirichlet sampler), its paired bootstrap (a naive
loop over resampled unit indices with scikit-learn), and the comparison's JSON, CLI text and trace resampling."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import labels_with, run_cli, write_jsonl
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.proportion import proportion_confint

from annotator import store
from annotator.core.agreement.judgeintervals import (
    agresti_coull_interval,
    judge_intervals,
    paired_change_interval,
    score_intervals,
)
from annotator.ingest import import_file
from annotator.services.gold import build_gold
from annotator.services.judgelab import compare_judges


@pytest.mark.parametrize("x, n", [(0, 1), (1, 1), (3, 7), (8, 10), (0, 25), (25, 25), (137, 400)])
def test_agresti_coull_matches_statsmodels(x, n):
    low, high = agresti_coull_interval(x, n)
    ref_low, ref_high = proportion_confint(x, n, alpha=0.05, method="agresti_coull")
    assert (float(low), float(high)) == pytest.approx((ref_low, ref_high), abs=1e-9)


def test_score_intervals_written_out():
    """Precision from tp of tp + fp, recall from tp of tp + fn (statsmodels' Agresti-Coull); F1 = 2J / (1 + J)
    at the limits of J = tp / (tp + fp + fn), written out here. A judge right every time gets a real interval."""
    for tp, fp, fn in [(8, 2, 0), (1, 0, 0), (5, 3, 9), (0, 4, 2), (30, 0, 0)]:
        ci = score_intervals(tp, fp, fn)
        assert [float(v) for v in ci["precision"]] == pytest.approx(proportion_confint(tp, tp + fp, method="agresti_coull"))
        assert [float(v) for v in ci["recall"]] == pytest.approx(proportion_confint(tp, tp + fn, method="agresti_coull"))
        j_low, j_high = proportion_confint(tp, tp + fp + fn, method="agresti_coull")
        assert [float(v) for v in ci["f1"]] == pytest.approx([2 * j_low / (1 + j_low), 2 * j_high / (1 + j_high)])
        f1 = 2 * tp / (2 * tp + fp + fn)
        assert float(ci["f1"][0]) <= f1 <= float(ci["f1"][1]) and float(ci["f1"][1]) > float(ci["f1"][0])
    none = score_intervals(0, 0, 0)
    assert all(np.isnan(v).all() for pair in none.values() for v in pair)


def _judges(seed: int, n: int = 60):
    rng = np.random.default_rng(seed)
    truth = (rng.random((n, 2)) < 0.35).astype(np.int8)
    hard = rng.random((n, 1)) < 0.25  # segments both judges tend to get wrong: what pairing cancels
    first = np.where(hard | (rng.random((n, 2)) < 0.10), 1 - truth, truth)
    second = np.where((hard & (rng.random((n, 2)) < 0.8)) | (rng.random((n, 2)) < 0.05), 1 - truth, truth)
    return truth, np.stack([first, second]).astype(np.int8)


def test_paired_kappa_change_equals_naive_resampling():
    """With traces resampled (here: the bootstrap path, independent=False), the change is a paired bootstrap."""
    truth, judged = _judges(2)
    n_resamples, seed = 300, 9
    ci = judge_intervals(truth, judged, n_resamples=n_resamples, seed=seed, independent=False)
    draws = np.random.default_rng(seed).integers(0, len(truth), size=(n_resamples, len(truth)))
    for k in range(truth.shape[1]):
        changes = np.array([cohen_kappa_score(truth[idx, k], judged[1, idx, k])
                            - cohen_kappa_score(truth[idx, k], judged[0, idx, k]) for idx in draws])
        low, high = ci["kappa_change"]
        assert np.isnan(low[0, k]) and np.isnan(high[0, k])  # the first judge is compared with no one
        assert (low[1, k], high[1, k]) == pytest.approx(tuple(np.percentile(changes, [2.5, 97.5])), abs=1e-9)


def _kappa(both, a_only, b_only, neither):
    n = both + a_only + b_only + neither
    po, pa, pb = (both + neither) / n, (both + a_only) / n, (both + b_only) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return (po - pe) / (1 - pe)


@pytest.mark.parametrize("table", [[30, 2, 3, 1, 1, 4, 2, 57], [2, 0, 1, 0, 0, 1, 0, 46], [10, 5, 5, 10, 2, 8, 8, 52]])
def test_paired_dirichlet_change_against_numpy_dirichlet(table):
    """The posterior quantiles of the change, recomputed with numpy's Dirichlet sampler (another stream) and
    kappa written out here, over the 8 (reference, judge 1, judge 2) cells; Monte Carlo tolerance 0.02
    (4000 and 20000 draws: the standard error of a 2.5% quantile is below 0.006 here)."""
    low, high = paired_change_interval(table)
    p = np.random.default_rng(123).dirichlet(np.asarray(table) + 0.5, size=20_000).reshape(-1, 2, 2, 2)
    first, second = p.sum(axis=3), p.sum(axis=2)  # (draw, reference, judge)
    change = (_kappa(second[:, 1, 1], second[:, 1, 0], second[:, 0, 1], second[:, 0, 0])
              - _kappa(first[:, 1, 1], first[:, 1, 0], first[:, 0, 1], first[:, 0, 0]))
    assert (float(low), float(high)) == pytest.approx(tuple(np.quantile(change, [0.025, 0.975])), abs=0.02)


def test_paired_change_is_undefined_where_a_kappa_is():
    low, high = paired_change_interval([20, 3, 0, 0, 0, 0, 0, 0])  # reference and judge 1 always absent
    assert np.isnan(low) and np.isnan(high)


def test_pairing_narrows_the_interval_of_the_change():
    """Resampling the same units for both judges keeps what they share: narrower than unpaired resampling
    (each judge's kappa from its own independent draws), the interval an unpaired comparison would give."""
    truth, judged = _judges(5, n=80)
    paired = judge_intervals(truth, judged, n_resamples=400, seed=1, independent=False)
    rng = np.random.default_rng(3)
    n = len(truth)
    for k in range(2):
        unpaired = [cohen_kappa_score(truth[j := rng.integers(0, n, n), k], judged[1, j, k])
                    - cohen_kappa_score(truth[i := rng.integers(0, n, n), k], judged[0, i, k]) for _ in range(400)]
        unpaired_width = np.subtract(*np.percentile(unpaired, [97.5, 2.5]))
        paired_width = paired["kappa_change"][1][1, k] - paired["kappa_change"][0][1, k]
        assert paired_width < 0.9 * unpaired_width


def _lab(tmp_path, *, turns: int):
    """Two judges and two people (gold is unanimous) on 12 traces of `turns` segments each."""
    rng = np.random.default_rng(4)
    records = []
    for t in range(12):
        texts = [f"step {i} of trace {t}" for i in range(turns)]
        truth = ["1.1"] if rng.random() < 0.4 else []
        v1 = ["1.1"] if rng.random() < 0.5 else []
        v2 = truth if rng.random() < 0.85 else ["1.1"]
        labels = {"ana": labels_with(*truth), "ben": labels_with(*truth), "judge:m@aaaaaaaaaaaa": labels_with(*v1),
                  "judge:m@bbbbbbbbbbbb": labels_with(*v2)}
        records.append({"id": f"t{t}", "text": "\n".join(texts), "labels": labels})
    db = store.connect(tmp_path / f"lab{turns}.db")
    import_file(db, write_jsonl(tmp_path / "lab.jsonl", records))
    build_gold(db)
    return db


def test_compare_reports_intervals_and_methods(tmp_path):
    db = _lab(tmp_path, turns=1)
    result = compare_judges(db, ["judge:m@aaaaaaaaaaaa", "judge:m@bbbbbbbbbbbb"], bootstrap=200)
    params = result["params"]
    assert params["resample"] == "segment"
    assert params["ci_methods"]["modes.judges.precision_recall_f1"] == "agresti-coull"
    assert params["ci_methods"]["modes.judges.kappa_change"] == "paired dirichlet"
    one = next(m for m in result["modes"] if m["code"] == "1.1")
    first, second = one["judges"]
    assert "kappa_change" not in first and "kappa_change_ci_low" not in first
    assert second["kappa_change_ci_low"] <= second["kappa_change"] <= second["kappa_change_ci_high"]
    for judge in one["judges"]:
        expected = proportion_confint(judge["tp"], judge["tp"] + judge["fp"], method="agresti_coull")
        assert (judge["precision_ci_low"], judge["precision_ci_high"]) == pytest.approx(expected)
    overall = result["overall"][1]
    assert overall["mean_kappa_change_ci_low"] <= overall["mean_kappa_change"] <= overall["mean_kappa_change_ci_high"]
    assert overall["f1_ci_low"] <= overall["f1"] <= overall["f1_ci_high"]
    db.conn.close()
    done = run_cli("judge", "compare", "judge:m@aaaaaaaaaaaa", "judge:m@bbbbbbbbbbbb", "--json", "--bootstrap", "200",
                   db=tmp_path / "lab1.db")
    assert json.loads(done.stdout)["modes"] == result["modes"]  # CLI and service: the same numbers
    text = run_cli("judge", "compare", "judge:m@aaaaaaaaaaaa", "judge:m@bbbbbbbbbbbb", "--bootstrap", "200",
                   db=tmp_path / "lab1.db").stdout
    assert "change [95% CI]" in text and f"{second['kappa_change']:+.2f} [" in text


def test_trace_level_data_resamples_traces_for_every_interval(tmp_path):
    """Segments that are turns of one trace: the scores get the cluster bootstrap, not the closed forms."""
    from annotator.core.taxonomy import load_taxonomy

    db = store.connect(tmp_path / "turns.db")
    tax = store.get_taxonomy_by_id(db, store.save_taxonomy(db, load_taxonomy("mast")))
    rng = np.random.default_rng(1)
    with store.write(db):
        raters = [store.ensure_rater(db, name, kind) for name, kind in
                  (("ana", "human"), ("judge:m@aaaaaaaaaaaa", "judge"), ("judge:m@bbbbbbbbbbbb", "judge"))]
        for t in range(10):
            trace_id, _ = store.insert_trace(db, store.TraceInput(f"t{t}", "a\nb\nc", "test", "text", segments=[
                store.SegmentInput("turn", i, "turn", 2 * i, 2 * i + 1) for i in range(3)]))
            for (segment_id,) in db.execute("SELECT id FROM segments WHERE trace_id = ?", [trace_id]).fetchall():
                for rater_id in raters:
                    values = {mode_id: int(rng.random() < 0.4) for mode_id in tax.mode_ids.values()}
                    store.write_labels(db, store.LabelWrite(segment_id, rater_id, tax.id, values))
    result = compare_judges(db, ["judge:m@aaaaaaaaaaaa", "judge:m@bbbbbbbbbbbb"], against="ana", bootstrap=100)
    assert result["params"]["resample"] == "trace" and result["segments"] == 30
    assert result["params"]["ci_methods"]["modes.judges.precision_recall_f1"] == "percentile"
    judge = result["modes"][0]["judges"][0]
    assert judge["precision_ci_low"] <= judge["precision"] <= judge["precision_ci_high"]
