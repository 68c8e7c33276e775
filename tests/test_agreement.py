"""Agreement core: edge cases, properties, roll-up, ambiguity signals, determinism, validation."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from agreement_support import make_label_set, random_label_set
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import cohen_kappa_score

from annotator.core.agreement import (
    LabelSet,
    co_confusion,
    compute_report,
    contested_units,
    rollup,
)
from annotator.core.agreement.bootstrap import resample_weights


def sk_kappa(a, b) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cohen_kappa_score(a, b, labels=[0, 1], replace_undefined_by=np.nan)


def only_pair(report, mode=0):
    return report["modes"][mode]["pairs"][0]


def two_raters(a, b) -> LabelSet:
    return make_label_set(np.array([a, b]).T[:, :, None])


def assert_json_clean(report) -> None:
    text = json.dumps(report, allow_nan=False)  # raises on NaN or infinity
    assert json.loads(text) == report


# --- edge cases -----------------------------------------------------------------------------------


def test_all_zeros_is_undefined_not_zero():
    report = compute_report(make_label_set(np.zeros((20, 3, 2), np.int8)), bootstrap=50, ci_method="percentile")
    default = compute_report(make_label_set(np.zeros((20, 3, 2), np.int8)), bootstrap=50)
    assert all(p["ci_low"] is None and p["ci_high"] is None for m in default["modes"] for p in m["pairs"])
    for mode in report["modes"]:
        assert mode["mean_pairwise_kappa"] is None and mode["fleiss_kappa"] is None
        assert mode["krippendorff_alpha"] is None
        assert {"undefined", "constant_rater", "low_positive_count"} <= set(mode["flags"])
        assert set(mode["undefined_reasons"]) == {"mean_pairwise_kappa", "fleiss_kappa", "krippendorff_alpha"}
        for pair in mode["pairs"]:
            assert pair["kappa"] is None and pair["se"] is None and pair["ci_low"] is None
            assert pair["undefined_resamples"] == 50
            assert pair["undefined_reason"] == "both raters marked every unit absent"
            assert pair["positive_agreement"] is None and pair["negative_agreement"] == 1.0
            assert pair["observed_agreement"] == 1.0 and pair["ac1"] == 1.0 and pair["pabak"] == 1.0
    assert report["summary"]["mean_kappa"] is None and report["summary"]["mean_kappa_modes_covered"] == 0
    assert report["pooled"]["mean_pairwise_kappa"] is None
    assert report["co_confusion"] == [] and report["contested"] == []
    assert_json_clean(report)


def test_one_rater_constant_gives_defined_kappa_with_flag():
    a = [0] * 10
    b = [0, 1] * 5
    pair = only_pair(compute_report(two_raters(a, b), bootstrap=0))
    assert pair["kappa"] == pytest.approx(sk_kappa(a, b)) and pair["kappa"] == pytest.approx(0.0)
    assert "constant_rater" in pair["flags"] and "undefined" not in pair["flags"]
    assert pair["se"] == 0.0  # the delta-method variance is exactly 0 with a constant rater


def test_one_positive_label():
    n, n_resamples = 40, 1000
    a = [1] + [0] * (n - 1)
    b = [0] * n
    pair = only_pair(compute_report(two_raters(a, b), bootstrap=n_resamples, seed=3, ci_method="percentile"))
    assert pair["kappa"] == pytest.approx(sk_kappa(a, b))
    assert {"constant_rater", "low_positive_count"} <= set(pair["flags"])
    # A resample is undefined exactly when it misses the one positive unit: P = (1 - 1/n)^n.
    p_miss = (1 - 1 / n) ** n
    sd = np.sqrt(n_resamples * p_miss * (1 - p_miss))
    assert abs(pair["undefined_resamples"] - n_resamples * p_miss) < 4 * sd


def test_perfect_agreement():
    labels = np.array([1, 0, 0, 1, 1, 0, 1, 0, 0, 0], np.int8)
    values = np.repeat(labels[:, None, None], 3, axis=1)
    report = compute_report(make_label_set(values), bootstrap=100)
    mode = report["modes"][0]
    for pair in mode["pairs"]:
        assert pair["kappa"] == 1.0 and pair["se"] == 0.0
        # Ten units agreeing perfectly do not prove kappa is 1: the interval reaches 1 but has width
        # (the percentile bootstrap gives [1, 1] here, since every resample agrees perfectly too).
        assert pair["ci_high"] == 1.0 and 0.0 < pair["ci_low"] < 0.9 and pair["ci_method"] == "dirichlet"
        assert pair["ac1"] == 1.0 and pair["pabak"] == 1.0 and pair["positive_agreement"] == 1.0
    assert mode["fleiss_kappa"] == pytest.approx(1.0) and mode["krippendorff_alpha"] == pytest.approx(1.0)
    assert mode["mean_pairwise_kappa"] == 1.0


def test_single_unit():
    agree = compute_report(two_raters([1], [1]), bootstrap=20)
    assert only_pair(agree)["kappa"] is None and only_pair(agree)["n"] == 1
    disagree = compute_report(two_raters([1], [0]), bootstrap=20)
    assert only_pair(disagree)["kappa"] == pytest.approx(sk_kappa([1], [0]))
    assert_json_clean(agree)
    assert_json_clean(disagree)


def test_missing_labels_are_not_absent():
    a = np.array([1, 0, 1, -1, 0, 1, -1, 0], np.int8)
    b = np.array([1, 0, 0, 1, -1, 1, -1, 0], np.int8)
    report = compute_report(two_raters(a, b), bootstrap=0)
    pair = only_pair(report)
    keep = (a >= 0) & (b >= 0)
    assert pair["n"] == keep.sum()
    assert pair["kappa"] == pytest.approx(sk_kappa(a[keep], b[keep]))
    assert report["modes"][0]["labelled_units"] == 7  # the unit nobody labelled is not a unit here
    assert report["modes"][0]["fleiss_kappa"] is None


def test_no_shared_units():
    report = compute_report(two_raters([1, 0, -1, -1], [-1, -1, 1, 0]), bootstrap=10)
    pair = only_pair(report)
    assert pair["n"] == 0 and pair["kappa"] is None and pair["observed_agreement"] is None
    assert pair["undefined_reason"] == "no unit was labelled by both raters"
    assert report["modes"][0]["krippendorff_alpha"] is None
    assert_json_clean(report)


def test_more_than_three_raters():
    ls = random_label_set(8, 50, 6, 3, prevalence=0.3)
    report = compute_report(ls, bootstrap=30)
    expected_pairs = list(itertools.combinations(ls.raters, 2))
    for k, mode in enumerate(report["modes"]):
        assert [(p["a"], p["b"]) for p in mode["pairs"]] == expected_pairs
        kappas = []
        for pair in mode["pairs"]:
            a = ls.values[:, ls.rater_index(pair["a"]), k]
            b = ls.values[:, ls.rater_index(pair["b"]), k]
            kappas.append(sk_kappa(a, b))
            assert pair["kappa"] == pytest.approx(kappas[-1])
        assert mode["mean_pairwise_kappa"] == pytest.approx(np.mean(kappas))
        assert mode["mean_pairwise_kappa_pairs"] == 15
    assert len(report["summary"]["pairs"]) == 15


def test_single_rater_has_no_pairs():
    report = compute_report(make_label_set(np.ones((5, 1, 2), np.int8)), bootstrap=10)
    assert report["modes"][0]["pairs"] == [] and report["modes"][0]["mean_pairwise_kappa"] is None
    assert report["pooled"]["pairs"] == []
    assert_json_clean(report)


def test_kappa_paradox_flag():
    # 95% agreement on a rare mode, but no agreement on the positives.
    a = [1, 0] + [0] * 38
    b = [0, 1] + [0] * 38
    pair = only_pair(compute_report(two_raters(a, b), bootstrap=0))
    assert pair["observed_agreement"] >= 0.9 and pair["kappa"] < 0.4
    assert "kappa_paradox" in pair["flags"] and "low_positive_count" in pair["flags"]


def test_low_positive_count_definition():
    """Positive labels from the pair are counted per rater: 2*both + a_only + b_only."""
    base = [0] * 30
    five_each = two_raters([1] * 5 + base, [1] * 5 + base)  # 10 positive labels
    four_each = two_raters([1] * 4 + base, [1] * 4 + base)  # 8
    assert "low_positive_count" not in only_pair(compute_report(five_each, bootstrap=0))["flags"]
    assert "low_positive_count" in only_pair(compute_report(four_each, bootstrap=0))["flags"]


def test_judge_gets_classification_scores():
    ls = make_label_set(random_label_set(3, 30, 3, 2).values, kinds=("gold", "human", "judge"),
                        raters=("gold", "ann", "judge:m@v1"))
    report = compute_report(ls, bootstrap=0)
    assert [(c["reference"], c["predicted"]) for c in report["classification"]] == [
        ("gold", "judge:m@v1"), ("ann", "judge:m@v1")]
    assert [m["code"] for m in report["classification"][0]["modes"]] == ["M0", "M1"]
    assert report["modes"][0]["mean_human_kappa"] is None  # only one human


# --- properties -----------------------------------------------------------------------------------

label_arrays = st.tuples(st.integers(1, 12), st.integers(2, 4), st.integers(1, 3)).flatmap(
    lambda shape: arrays(np.int8, shape, elements=st.sampled_from([-1, 0, 1]))
)


@settings(max_examples=60, deadline=None)
@given(label_arrays)
def test_property_kappa_bounded_and_matches_sklearn(values):
    report = compute_report(make_label_set(values), bootstrap=0)
    for k, mode in enumerate(report["modes"]):
        for p, (i, j) in enumerate(itertools.combinations(range(values.shape[1]), 2)):
            pair = mode["pairs"][p]
            keep = (values[:, i, k] >= 0) & (values[:, j, k] >= 0)
            reference = sk_kappa(values[keep, i, k], values[keep, j, k]) if keep.any() else np.nan
            if pair["kappa"] is None:
                assert np.isnan(reference)
            else:
                assert -1 - 1e-12 <= pair["kappa"] <= 1 + 1e-12
                assert pair["kappa"] == pytest.approx(reference, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(label_arrays)
def test_property_symmetric_in_raters(values):
    forward = compute_report(make_label_set(values), bootstrap=0)
    swapped_values = values[:, ::-1, :]
    backward = compute_report(make_label_set(swapped_values, raters=[f"r{j}" for j in range(values.shape[1])][::-1]),
                              bootstrap=0)
    for mode_f, mode_b in zip(forward["modes"], backward["modes"]):
        by_names = {frozenset((p["a"], p["b"])): p for p in mode_b["pairs"]}
        for pf in mode_f["pairs"]:
            pb = by_names[frozenset((pf["a"], pf["b"]))]
            assert (pf["a_only"], pf["b_only"]) == (pb["b_only"], pb["a_only"])
            for key in ("n", "both", "neither", "kappa", "se", "ac1", "pabak", "positive_agreement"):
                assert pf[key] == pytest.approx(pb[key], abs=1e-12) if pf[key] is not None else pb[key] is None


@settings(max_examples=30, deadline=None)
@given(label_arrays, st.integers(0, 2**31 - 1))
def test_property_report_is_plain_json_without_nan(values, seed):
    report = compute_report(make_label_set(values), bootstrap=15, seed=seed)
    assert_json_clean(report)


# --- roll-up --------------------------------------------------------------------------------------


def test_rollup_any_positive_and_absent_only_when_every_segment_labelled():
    values = np.array([
        [[0], [-1]],   # t1 segment 0
        [[1], [-1]],   # t1 segment 1
        [[-1], [0]],   # t2 segment 0
        [[-1], [-1]],  # t2 segment 1: the second rater saw half of t2, so t2 is missing for her
        [[0], [-1]],   # t0 segment 0 (a trace id that sorts first but appears last)
    ], np.int8)
    ls = make_label_set(values, groups=["t1", "t1", "t2", "t2", "t0"])
    traces = rollup(ls)
    assert traces.units == ("t1", "t2", "t0") and traces.unit_groups is None
    assert traces.values[:, :, 0].tolist() == [[1, -1], [-1, -1], [0, -1]]


def test_trace_level_report_equals_report_on_rolled_up_labels():
    ls = random_label_set(9, 60, 3, 4, prevalence=0.1, missing=0.1)
    groups = [f"trace{i // 4}" for i in range(60)]
    segments = make_label_set(ls.values, groups=groups)
    by_level = compute_report(segments, bootstrap=40, seed=2, level="trace")
    direct = compute_report(rollup(segments), bootstrap=40, seed=2, level="trace")
    assert by_level == direct and by_level["params"]["units"] == 15


def test_group_resampling_needs_groups_and_runs():
    ls = random_label_set(10, 40, 2, 2, prevalence=0.4)
    with pytest.raises(ValueError, match="unit_groups"):
        compute_report(ls, bootstrap=10, resample="trace")
    grouped = make_label_set(ls.values, groups=[f"t{i // 5}" for i in range(40)])
    report = compute_report(grouped, bootstrap=200, resample="trace")
    assert report["params"]["resample"] == "trace" and only_pair(report)["ci_low"] is not None


# --- ambiguity ------------------------------------------------------------------------------------


def brute_force_co_confusion(values):
    n, r, m = values.shape
    counts, comparisons, examples = {}, {}, {}
    for u, (i, j), (x, y) in itertools.product(range(n), itertools.combinations(range(r), 2),
                                                itertools.combinations(range(m), 2)):
        a, b = values[u, i], values[u, j]
        if min(a[x], a[y], b[x], b[y]) < 0:
            continue
        comparisons[(x, y)] = comparisons.get((x, y), 0) + 1
        if (a[x], a[y], b[x], b[y]) in ((1, 0, 0, 1), (0, 1, 1, 0)):
            counts[(x, y)] = counts.get((x, y), 0) + 1
            examples.setdefault((x, y), []).append(u)
    return counts, comparisons, examples


def test_co_confusion_matches_brute_force():
    ls = random_label_set(12, 45, 3, 5, prevalence=0.3, noise=0.3, missing=0.1)
    counts, comparisons, examples = brute_force_co_confusion(ls.values)
    rows = co_confusion(ls, max_examples=5)
    assert len(rows) == len(counts)
    for row in rows:
        x, y = ls.mode_codes.index(row["a_mode"]), ls.mode_codes.index(row["b_mode"])
        assert row["count"] == counts[(x, y)] and row["comparisons"] == comparisons[(x, y)]
        assert row["rate"] == pytest.approx(counts[(x, y)] / comparisons[(x, y)])
        assert row["examples"] == [ls.units[u] for u in sorted(set(examples[(x, y)]))[:5]]
    assert [row["count"] for row in rows] == sorted((row["count"] for row in rows), reverse=True)


def test_co_confusion_chunks_give_the_same_answer(monkeypatch):
    from annotator.core.agreement import confusion

    ls = random_label_set(13, 50, 3, 4, prevalence=0.3, noise=0.3)
    whole = co_confusion(ls)
    monkeypatch.setattr(confusion, "PRODUCTS_PER_CHUNK", 3)
    assert co_confusion(ls) == whole


def test_contested_units_ranking():
    ls = random_label_set(14, 30, 4, 6, prevalence=0.3, noise=0.25, missing=0.05)
    rows = contested_units(ls, limit=100)
    expected = []
    for u in range(30):
        disputed = [k for k in range(6) if len({v for v in ls.values[u, :, k] if v >= 0}) > 1]
        discordant = sum(int(ls.values[u, i, k] >= 0 and ls.values[u, j, k] >= 0
                             and ls.values[u, i, k] != ls.values[u, j, k])
                         for k in range(6) for i, j in itertools.combinations(range(4), 2))
        if disputed:
            expected.append((-len(disputed), -discordant, u, [ls.mode_codes[k] for k in disputed]))
    expected.sort()
    assert [(r["unit"], r["disputed_modes"], r["discordant_pairs"]) for r in rows] == [
        (ls.units[u], codes, -d) for _, d, u, codes in expected]


# --- bootstrap mechanics, determinism, validation ---------------------------------------------------


def test_same_seed_same_report_and_seed_matters():
    ls = random_label_set(15, 80, 3, 3, prevalence=0.3)
    first = compute_report(ls, bootstrap=200, seed=1)
    assert compute_report(ls, bootstrap=200, seed=1) == first
    other = compute_report(ls, bootstrap=200, seed=2)
    assert only_pair(other)["ci_low"] != only_pair(first)["ci_low"]
    assert only_pair(other)["kappa"] == only_pair(first)["kappa"]


def test_every_mode_and_pair_sees_the_same_resampled_units():
    """Two identical modes must get identical intervals; the pooled interval comes from the same draws."""
    base = random_label_set(16, 50, 3, 1, prevalence=0.3).values
    report = compute_report(make_label_set(np.concatenate([base, base], axis=2)), bootstrap=300, seed=4,
                            ci_method="percentile")
    first, second = report["modes"]
    for p1, p2 in zip(first["pairs"], second["pairs"]):
        assert (p1["ci_low"], p1["ci_high"]) == (p2["ci_low"], p2["ci_high"])
    # Pooling two copies of one mode leaves kappa unchanged in every resample, so the same interval.
    for pooled, single in zip(report["pooled"]["pairs"], first["pairs"]):
        assert pooled["ci_low"] == pytest.approx(single["ci_low"]) and pooled["ci_high"] == pytest.approx(single["ci_high"])


def test_resample_weights_do_not_depend_on_chunk_size():
    whole = np.concatenate(list(resample_weights(37, 50, seed=3)))
    chunked = np.concatenate(list(resample_weights(37, 50, seed=3, chunk_elements=37 * 6)))
    assert whole.shape == (50, 37) and (whole == chunked).all() and (whole.sum(axis=1) == 37).all()


def test_bootstrap_zero_gives_no_bootstrap_intervals():
    ls = random_label_set(17, 30, 2, 1)
    pair = only_pair(compute_report(ls, bootstrap=0, ci_method="percentile"))
    assert pair["ci_low"] is None and pair["ci_high"] is None and pair["undefined_resamples"] is None
    report = compute_report(ls, bootstrap=0)  # the default pair interval needs no resampling
    assert only_pair(report)["ci_low"] is not None and only_pair(report)["undefined_resamples"] is None
    assert report["modes"][0]["mean_pairwise_kappa_ci_low"] is None and report["pooled"]["pairs"][0]["ci_low"] is None


@pytest.mark.parametrize("kwargs, match", [
    (dict(bootstrap=-1), "bootstrap"), (dict(level="span"), "level"),
    (dict(resample="trace"), "resample"), (dict(resample="unit"), "resample"), (dict(ci_level=1.5), "ci_level"),
    (dict(ci_method="bca"), "ci_method"),
])
def test_bad_options_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        compute_report(random_label_set(1, 5, 2, 1), **kwargs)


@pytest.mark.parametrize("change, match", [
    (dict(values=np.full((2, 2, 1), 2)), "1 \\(present\\)"),
    (dict(values=np.zeros((3, 2, 1))), "shape"),
    (dict(units=("u0", "u0")), "duplicate unit"),
    (dict(rater_kinds=("human", "robot")), "rater kind"),
    (dict(unit_groups=("t",)), "unit groups"),
])
def test_label_set_validation(change, match):
    fields = dict(units=("u0", "u1"), raters=("a", "b"), rater_kinds=("human", "human"),
                  modes=(("M0", "m", "c"),), values=np.zeros((2, 2, 1), np.int8))
    fields.update(change)
    with pytest.raises(ValueError, match=match):
        LabelSet(**fields)


def test_label_set_values_are_read_only_copies():
    values = np.zeros((2, 2, 1), np.int8)
    ls = make_label_set(values)
    values[0, 0, 0] = 1
    assert ls.values[0, 0, 0] == 0 and not ls.values.flags.writeable


def test_few_units_flag_counts_units_not_cells():
    rng = np.random.default_rng(18)
    small = compute_report(make_label_set(rng.integers(0, 2, (29, 2, 3))), bootstrap=0)
    enough = compute_report(make_label_set(rng.integers(0, 2, (30, 2, 3))), bootstrap=0)
    assert "few_units" in only_pair(small)["flags"] and "few_units" in small["modes"][0]["flags"]
    assert "few_units" not in only_pair(enough)["flags"]
    # Pooled: 29 units x 3 modes = 87 cells, but the bootstrap still resamples only 29 units.
    pooled = small["pooled"]["pairs"][0]
    assert pooled["n"] == 87 and pooled["units"] == 29 and "few_units" in pooled["flags"]


def test_label_sets_compare_and_hash_by_content():
    values = random_label_set(19, 6, 2, 2).values
    first, second = make_label_set(values), make_label_set(values.copy())
    assert first == second and hash(first) == hash(second) and len({first, second}) == 1
    changed = values.copy()
    changed[0, 0, 0] = 1 - max(changed[0, 0, 0], 0)
    assert make_label_set(changed) != first


def test_doctest_examples_hold():
    import doctest

    from annotator.core.agreement import (
        ambiguity,
        bootstrap,
        classification,
        compute,
        document,
        labels,
        multirater,
        pairwise,
    )
    from annotator.core.report import fmt

    for module in (labels, pairwise, bootstrap, multirater, ambiguity, classification, compute, document, fmt):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0, (module.__name__, result)  # examples found, and hold


def test_pure_core_imports_only_numpy_and_stdlib(tmp_path):
    """annotator.core.agreement and annotator.core.report must not pull in sqlite, UI, LLM or sklearn code."""
    code = ("import sys, annotator.core.agreement, annotator.core.report; "
            "print(','.join(m for m in ('sqlite3', 'streamlit', 'litellm', 'sklearn', 'scipy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path)  # a fresh interpreter, on the installed package (not the checkout's)
    assert out.stdout.strip() == ""


CONTRACT_PAIR = {"a", "b", "n", "both", "a_only", "b_only", "neither", "observed_agreement", "kappa", "ci_low",
                 "ci_high", "se", "positive_agreement", "ac1", "pabak", "flags"}
CONTRACT_MODE = {"code", "name", "category", "pairs", "mean_pairwise_kappa", "fleiss_kappa", "krippendorff_alpha", "flags"}


def test_report_has_every_contract_field():
    """The "Contract: report JSON" section of DESIGN.md: extra fields are allowed, missing ones are not."""
    report = compute_report(random_label_set(20, 40, 3, 4, prevalence=0.3), bootstrap=20, taxonomy=("mast", "1"))
    assert {"taxonomy", "level", "raters", "modes", "pooled", "co_confusion", "params"} <= set(report)
    assert report["taxonomy"] == {"name": "mast", "version": "1"} and report["level"] == "segment"
    assert all(set(r) >= {"name", "kind"} for r in report["raters"])
    for mode in report["modes"]:
        assert set(mode) >= CONTRACT_MODE
        assert all(set(pair) >= CONTRACT_PAIR for pair in mode["pairs"])
    assert {"pairs", "mean_pairwise_kappa"} <= set(report["pooled"])
    assert all(set(pair) >= CONTRACT_PAIR for pair in report["pooled"]["pairs"])
    assert report["co_confusion"] and all({"a_mode", "b_mode", "count", "rate", "examples"} <= set(c)
                                          for c in report["co_confusion"])
    assert {"bootstrap", "seed"} <= set(report["params"])
