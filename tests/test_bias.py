"""Rater bias and prevalence per pair (issue 10, item 6), each figure against an independent reference:
statsmodels' McNemar test, formulas written out here from the label vectors, kappa_max as the largest
kappa (scikit-learn) over every table with the same marginals, and a published worked example."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from annotator.core.agreement import LabelSet, compute_report
from annotator.core.agreement.bias import MCNEMAR_EXACT_BELOW, bias_statistics
from annotator.core.report import render

# Tables (both, a_only, b_only, neither) with few and many discordant units, rare and common modes.
TABLES = [(80, 10, 5, 5), (40, 9, 6, 45), (0, 3, 1, 96), (2, 0, 0, 18), (1, 12, 2, 85), (30, 40, 10, 20),
          (5, 60, 45, 890), (0, 0, 7, 13), (3, 11, 13, 73), (50, 0, 0, 0), (0, 0, 0, 9)]


def _labels(both: int, a_only: int, b_only: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([1] * both + [1] * a_only + [0] * b_only + [0] * neither)
    b = np.array([1] * both + [0] * a_only + [1] * b_only + [0] * neither)
    return a, b


@pytest.mark.parametrize("table", TABLES)
def test_mcnemar_matches_statsmodels(table):
    both, a_only, b_only, neither = table
    ours = bias_statistics(*table)
    if a_only + b_only == 0:  # nothing to test: None, never statsmodels' p = 1
        assert np.isnan(ours["mcnemar_p"]) and np.isnan(ours["mcnemar_statistic"])
        return
    exact = a_only + b_only < MCNEMAR_EXACT_BELOW
    reference = sm_mcnemar([[both, a_only], [b_only, neither]], exact=exact, correction=True)
    assert bool(ours["mcnemar_exact"]) is exact
    assert float(ours["mcnemar_statistic"]) == pytest.approx(reference.statistic, rel=1e-12)
    assert float(ours["mcnemar_p"]) == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-15)


def test_mcnemar_both_versions_around_the_threshold():
    """Just below the threshold the exact test, at it the chi-square one, each as statsmodels computes it."""
    for a_only, b_only in [(MCNEMAR_EXACT_BELOW - 1 - k, k) for k in range(MCNEMAR_EXACT_BELOW)] + [(20, 5), (13, 12)]:
        ours = bias_statistics(10, a_only, b_only, 10)
        exact = a_only + b_only < MCNEMAR_EXACT_BELOW
        reference = sm_mcnemar([[10, a_only], [b_only, 10]], exact=exact)
        assert float(ours["mcnemar_p"]) == pytest.approx(reference.pvalue, rel=1e-9)


@pytest.mark.parametrize("table", TABLES)
def test_bias_and_prevalence_index_from_label_vectors(table):
    """BI is the difference of the raters' prevalences, PI the mean prevalence minus the mean absence."""
    a, b = _labels(*table)
    ours = bias_statistics(*table)
    if len(a) == 0:
        return
    assert float(ours["bias_index"]) == pytest.approx(a.mean() - b.mean())
    assert float(ours["prevalence_index"]) == pytest.approx((a.mean() + b.mean()) / 2 - ((1 - a).mean() + (1 - b).mean()) / 2)


def _brute_force_kappa_max(table: tuple[int, int, int, int]) -> float:
    """The largest sklearn kappa over every 2x2 table with the same margins (the definition of kappa_max)."""
    both, a_only, b_only, neither = table
    n, a_pos, b_pos = sum(table), both + a_only, both + b_only
    best = -np.inf
    for new_both in range(0, min(a_pos, b_pos) + 1):
        cells = (new_both, a_pos - new_both, b_pos - new_both, n - a_pos - b_pos + new_both)
        if min(cells) < 0:
            continue
        x, y = _labels(*cells)
        best = max(best, cohen_kappa_score(x, y))
    return best


@pytest.mark.parametrize("table", [t for t in TABLES if t not in ((50, 0, 0, 0), (0, 0, 0, 9))])
def test_kappa_max_is_the_largest_kappa_the_margins_allow(table):
    assert float(bias_statistics(*table)["kappa_max"]) == pytest.approx(_brute_force_kappa_max(table), abs=1e-12)


def test_kappa_max_formula_and_undefined_cases():
    """Written out: p_o,max = min(pa, pb) + min(1 - pa, 1 - pb), kappa_max = (p_o,max - p_e) / (1 - p_e)."""
    for table in itertools.product(range(4), repeat=4):
        n = sum(table)
        ours = bias_statistics(*table)
        if n == 0:
            assert all(np.isnan(ours[k]) for k in ("bias_index", "prevalence_index", "kappa_max"))
            continue
        pa, pb = (table[0] + table[1]) / n, (table[0] + table[2]) / n
        pe = pa * pb + (1 - pa) * (1 - pb)
        if pe == 1:  # both raters constant on the same value: kappa and kappa_max undefined
            assert np.isnan(ours["kappa_max"])
            continue
        expected = (min(pa, pb) + min(1 - pa, 1 - pb) - pe) / (1 - pe)
        assert float(ours["kappa_max"]) == pytest.approx(expected, abs=1e-12)


def test_published_worked_example():
    """Feinstein & Cicchetti (1990), "High agreement but low kappa: I", table with p_o = 0.85 and kappa 0.32:
    80 both yes, 10 and 5 split, 5 both no. Its margins (0.90, 0.85) allow at most
    (0.85 + 0.10 - 0.78) / 0.22 = 0.77 (p_e = 0.9 * 0.85 + 0.1 * 0.15 = 0.78), its indices follow Byrt et al.
    (1993): BI = (10 - 5) / 100, PI = (80 - 5) / 100."""
    ours = bias_statistics(80, 10, 5, 5)
    assert float(ours["bias_index"]) == pytest.approx(0.05)
    assert float(ours["prevalence_index"]) == pytest.approx(0.75)
    assert float(ours["kappa_max"]) == pytest.approx(0.17 / 0.22)


def test_vectorised_over_modes_and_pairs_like_one_table_at_a_time():
    rng = np.random.default_rng(4)
    cells = rng.integers(0, 30, size=(4, 5, 6, 3))  # resample-like leading shape (..., cell)
    cells = np.concatenate([cells, np.zeros((4, 5, 6, 1), dtype=int)], axis=-1)
    together = bias_statistics(*np.moveaxis(cells, -1, 0))
    for index in itertools.product(range(4), range(5), range(6)):
        alone = bias_statistics(*cells[index])
        for key, value in together.items():
            np.testing.assert_equal(value[index], alone[key])


def _two_raters(table: tuple[int, int, int, int]) -> LabelSet:
    a, b = _labels(*table)
    values = np.stack([a, b], axis=1)[:, :, None].astype(np.int8)
    units = tuple(f"s{i}" for i in range(len(a)))
    return LabelSet(units, ("ann", "bob"), ("human", "human"), (("1.1", "Mode", "Cat"),), values)


def test_report_carries_the_figures_in_every_format():
    table = (3, 11, 2, 34)
    report = compute_report(_two_raters(table), bootstrap=0)
    pair = report["modes"][0]["pairs"][0]
    reference = sm_mcnemar([[3, 11], [2, 34]], exact=True)
    assert pair["mcnemar_method"] == "exact" and pair["mcnemar_p"] == pytest.approx(reference.pvalue)
    assert pair["bias_index"] == pytest.approx((11 - 2) / 50)
    assert pair["prevalence_index"] == pytest.approx((3 - 34) / 50)
    assert pair["kappa_max"] == pytest.approx(_brute_force_kappa_max(table))
    # positive_labels is the count of (segment, rater) cells that say "present": 3 + 11 by ann, 3 + 2 by bob.
    assert report["modes"][0]["positive_labels"] == 2 * 3 + 11 + 2
    csv_text = render(report, "csv")
    header = csv_text.splitlines()[0].split(",")
    for column in ("bias_index", "prevalence_index", "kappa_max", "mcnemar_statistic", "mcnemar_p", "mcnemar_method",
                   "mode_positive_labels"):
        assert column in header
    assert "McNemar p" in render(report, "md") and "McNemar p" in render(report, "html")
    assert f"{reference.pvalue:.3f} (exact)" in render(report, "md")


def test_no_discordant_unit_leaves_mcnemar_undefined_in_the_report():
    report = compute_report(_two_raters((4, 0, 0, 16)), bootstrap=0)
    pair = report["modes"][0]["pairs"][0]
    assert pair["mcnemar_p"] is None and pair["mcnemar_method"] is None and pair["mcnemar_statistic"] is None
    assert pair["kappa_max"] == 1.0 and pair["bias_index"] == 0.0
