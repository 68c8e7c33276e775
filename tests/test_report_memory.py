"""The report in bounded memory however many raters (issue 15): same figures, pairs listed on request.

- Peak memory of a 60-rater report, measured in a fresh interpreter, stays far below what the single-pass
  bootstrap needed (about 2 GB for these data, measured on the code before the change).
- The blocked computation gives the very numbers of the single pass (forced by shrinking its budgets), and
  its intervals match an independent bootstrap: the same resample weights (the seeding is part of the
  contract: same seed, same numbers) fed to scikit-learn's ``cohen_kappa_score`` with ``sample_weight``.
- ``pairs``: listed up to 20 raters, omitted beyond (said in params and in every format), ``all`` / ``none``.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from agreement_support import correlated_labels, make_label_set
from helpers import run_cli
from sklearn.metrics import cohen_kappa_score

from annotator.core.agreement import build_report, compute_report, pairblocks
from annotator.core.agreement.bootstrap import resample_weights
from annotator.core.agreement.listing import AUTO_MAX_RATERS
from annotator.core.report import render

ROOT = Path(__file__).resolve().parent.parent

PEAK_SCRIPT = """
import sys, tracemalloc
sys.path.insert(0, {root!r})
import numpy as np
from annotator.core.agreement import LabelSet, compute_report
rng = np.random.default_rng(5)
n, r, m = 40, {raters}, 14
truth = rng.random((n, 1, m)) < 0.15
values = (truth ^ (rng.random((n, r, m)) < 0.1)).astype(np.int8)
kinds = ("human",) * (r - 1) + ("judge",)
modes = tuple((f"M{{k}}", f"mode {{k}}", "c") for k in range(m))
label_set = LabelSet(tuple(f"u{{i}}" for i in range(n)), tuple(f"r{{j}}" for j in range(r)), kinds, modes, values)
tracemalloc.start()
report = compute_report(label_set, bootstrap=300, seed=0, **{options!r})
print(tracemalloc.get_traced_memory()[1] / 2**20)
"""


def peak_traced_mb(raters: int, **options) -> float:
    """Peak traced heap (numpy's arrays included) of one report, in a fresh interpreter."""
    script = PEAK_SCRIPT.format(root=str(ROOT), raters=raters, options=options)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600)
    return float(done.stdout.strip().splitlines()[-1])


def test_peak_memory_of_sixty_raters_is_bounded():
    # 60 raters make 1,770 pairs; the single pass held every (resample, mode, pair) count at once: on these
    # data (300 resamples) it peaked at 598 MB of traced memory (this script run on the code before the change,
    # 2026-11-30); the blocked computation at 59 MB (1,000 resamples).
    assert peak_traced_mb(60) < 150  # pairs omitted (auto): the people and judge figures only
    assert peak_traced_mb(60, pairs="all", ci_method="percentile") < 350  # every pair, a block at a time


def crowd(seed: int = 3, n: int = 36, r: int = 7, m: int = 3, *, groups: bool = True):
    """People, a judge and gold, missing labels, units in traces of three segments."""
    rng = np.random.default_rng(seed)
    values = correlated_labels(rng, n, r, m, prevalence=[0.3, 0.15, 0.5][:m], noise=0.2, missing=0.1)
    kinds = ("human",) * (r - 2) + ("judge", "gold")
    return make_label_set(values, kinds=kinds, groups=[f"t{i // 3}" for i in range(n)] if groups else None)


@pytest.fixture
def blocked(monkeypatch):
    """Force the blocked computation: no single pass, blocks of a few pairs, batches of a few resamples."""
    monkeypatch.setattr(pairblocks, "SINGLE_PASS_ELEMENTS", 0)
    monkeypatch.setattr(pairblocks, "BLOCK_ELEMENTS", 3 * 400 * 4)  # a few pairs per block
    monkeypatch.setattr(pairblocks, "ROW_ELEMENTS", 100)  # two resamples per batch


@pytest.mark.parametrize("ci_method", ["percentile", "dirichlet"])
@pytest.mark.parametrize("resample", ["segment", "trace"])
def test_blocked_computation_gives_the_single_pass_numbers(monkeypatch, ci_method, resample):
    label_set = crowd()
    options = {"bootstrap": 400, "seed": 11, "ci_method": ci_method, "resample": resample, "pairs": "all"}
    single = compute_report(label_set, **options)
    monkeypatch.setattr(pairblocks, "SINGLE_PASS_ELEMENTS", 0)
    monkeypatch.setattr(pairblocks, "BLOCK_ELEMENTS", 3 * 400 * 4)
    monkeypatch.setattr(pairblocks, "ROW_ELEMENTS", 100)
    blocked = compute_report(label_set, **options)
    # Bit for bit, but for Krippendorff's alpha's interval: its per-unit terms are fractions, summed in float32
    # by one matrix product whose rounding depends on the product's shape (the single pass's is wider).
    alpha = ("krippendorff_alpha_ci_low", "krippendorff_alpha_ci_high")
    for ours, theirs in zip(blocked["modes"], single["modes"]):
        assert [ours.pop(key) for key in alpha] == pytest.approx([theirs.pop(key) for key in alpha], abs=1e-6)
    assert blocked == single


def _weighted_kappa(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> float:
    """scikit-learn's kappa on the units both labelled, each counted as often as it was drawn; NaN if undefined."""
    keep = (a >= 0) & (b >= 0) & (weights > 0)
    if not keep.any() or len(set(a[keep]) | set(b[keep])) < 2:
        return float("nan")  # one value everywhere: kappa is 0/0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a[keep], b[keep], labels=[0, 1], sample_weight=weights[keep]))


def test_blocked_intervals_match_an_independent_bootstrap(blocked):
    label_set = crowd(n=30, r=6, m=2, groups=False)
    n, r, m = label_set.shape
    resamples, seed = 120, 5
    report = compute_report(label_set, bootstrap=resamples, seed=seed, ci_method="percentile", pairs="all")
    pairs = [(a, b) for a in range(r) for b in range(a + 1, r)]
    people = [p for p, (a, b) in enumerate(pairs) if max(a, b) < r - 2]  # the last two are the judge and gold
    weights = np.concatenate(list(resample_weights(n, resamples, seed=seed)))  # the report's draws: same seed
    kappas = np.array([[[_weighted_kappa(label_set.values[:, a, k], label_set.values[:, b, k], w)
                         for a, b in pairs] for k in range(m)] for w in weights])  # (resamples, m, P)
    for k, mode in enumerate(report["modes"]):
        for p, (a, b) in enumerate(pairs):
            point = _weighted_kappa(label_set.values[:, a, k], label_set.values[:, b, k], np.ones(n))
            entry = mode["pairs"][p]
            assert entry["kappa"] == pytest.approx(point, abs=1e-12)
            low, high = np.nanpercentile(kappas[:, k, p], [2.5, 97.5])
            assert (entry["ci_low"], entry["ci_high"]) == pytest.approx((low, high), abs=1e-9)
            assert entry["undefined_resamples"] == int(np.isnan(kappas[:, k, p]).sum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            means = np.nanmean(kappas[:, k, people], axis=1)
        low, high = np.nanpercentile(means, [2.5, 97.5])
        assert (mode["people"]["ci_low"], mode["people"]["ci_high"]) == pytest.approx((low, high), abs=1e-9)


def _without_pair_lists(report: dict) -> dict:
    """The report minus what the pairs option decides (the pair lists and params.pairs*)."""
    out = json.loads(json.dumps(report))
    for mode in out["modes"]:
        mode.pop("pairs")
    out["pooled"].pop("pairs")
    out["summary"].pop("pairs")
    out.pop("trace_coverage", None)
    out["params"] = {k: v for k, v in out["params"].items() if not k.startswith("pairs")}
    return out


def test_pairs_are_listed_up_to_the_bound_and_omitted_beyond():
    rng = np.random.default_rng(0)
    at_bound = make_label_set(correlated_labels(rng, 30, AUTO_MAX_RATERS, 2))
    beyond = make_label_set(correlated_labels(rng, 30, AUTO_MAX_RATERS + 1, 2))
    listed = compute_report(at_bound, bootstrap=50)
    assert len(listed["modes"][0]["pairs"]) == len(listed["summary"]["pairs"]) == 190
    assert listed["params"]["pairs_omitted"] is False and listed["params"]["pairs_omitted_reason"] is None
    auto = compute_report(beyond, bootstrap=50)
    assert auto["params"]["pairs_omitted"] is True and auto["params"]["pairs_total"] == 210
    assert "21 raters" in auto["params"]["pairs_omitted_reason"] and "pairs=all" in auto["params"]["pairs_omitted_reason"]
    assert auto["modes"][0]["pairs"] == auto["pooled"]["pairs"] == auto["summary"]["pairs"] == []
    every = compute_report(beyond, bootstrap=50, pairs="all")
    assert len(every["pooled"]["pairs"]) == 210 and every["params"]["pairs_omitted"] is False
    # Every other figure (people, judges, flags, intervals, summary) is the same with or without the lists.
    assert _without_pair_lists(auto) == _without_pair_lists(every)
    none = compute_report(make_label_set(correlated_labels(rng, 30, 3, 2)), bootstrap=0, pairs="none")
    assert none["params"]["pairs_omitted"] is True and none["modes"][1]["pairs"] == []
    with pytest.raises(ValueError, match="pairs must be one of"):
        compute_report(at_bound, bootstrap=0, pairs="some")


def test_omitted_pairs_keep_mode_flags_and_trace_coverage_empty():
    rng = np.random.default_rng(4)
    values = correlated_labels(rng, 24, 4, 3, prevalence=[0.02, 0.3, 0.5], noise=0.05)
    label_set = make_label_set(values, groups=[f"t{i // 2}" for i in range(24)])
    listed = build_report(label_set, bootstrap=0, level="trace", generated_at="x")
    omitted = build_report(label_set, bootstrap=0, level="trace", generated_at="x", pairs="none")
    assert [m["flags"] for m in omitted["modes"]] == [m["flags"] for m in listed["modes"]]
    assert any("few_units" in m["flags"] for m in listed["modes"])  # the flags come from the pairs' counts
    assert listed["trace_coverage"] and omitted["trace_coverage"] == []


def test_every_format_says_the_pairs_were_omitted():
    from test_report_render import assert_is_report

    report = build_report(make_label_set(correlated_labels(np.random.default_rng(2), 20, 4, 2)), bootstrap=20,
                          pairs="none", generated_at="x")
    assert_is_report(report)
    for fmt in ("md", "html"):
        text = render(report, fmt)
        assert "Rater pairs not listed" in text and "--pairs all" in text
    assert "| a | b | n |" not in render(report, "md")
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert [row["mode_code"] for row in rows] == ["M0", "M1"] and all(row["kappa"] == "" for row in rows)


def test_cli_pairs_option(tmp_path):
    traces = tmp_path / "t.jsonl"
    raters = [f"ann{i}" for i in range(AUTO_MAX_RATERS + 1)]
    with traces.open("w") as out:
        for t in range(6):
            labels = {name: {"1.1": (t + i) % 2, "1.2": int(t % 3 == 0)} for i, name in enumerate(raters)}
            out.write(json.dumps({"id": f"t{t}", "text": f"trace {t}", "labels": labels}) + "\n")
    db = str(tmp_path / "a.db")
    assert run_cli("--db", db, "init").exit_code == 0
    assert run_cli("--db", db, "import", str(traces)).exit_code == 0
    auto = json.loads(run_cli("--db", db, "report", "--format", "json", "--bootstrap", "0").output)
    assert auto["params"]["pairs_omitted"] and auto["modes"][0]["pairs"] == []
    every = json.loads(run_cli("--db", db, "report", "--format", "json", "--bootstrap", "0", "--pairs", "all").output)
    assert len(every["modes"][0]["pairs"]) == 210
    bad = run_cli("--db", db, "report", "--pairs", "many")
    assert bad.exit_code != 0 and "--pairs" in bad.output
