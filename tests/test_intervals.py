"""Kappa intervals (core/agreement/intervals.py): independent references, properties, bounded coverage, wiring."""

from __future__ import annotations

import functools
import json
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.core.agreement import compute_report, intervals
from annotator.core.agreement.pairwise import kappa_from_counts
from annotator.core.agreement.simulation import cell_probabilities, draw_tables, interval_coverage
from tests.agreement_support import make_label_set
from tests.helpers import run_cli

CHI2_95 = statistics.NormalDist().inv_cdf(0.975) ** 2


def test_normal_quantile_matches_the_standard_library():
    for p in (0.001, 0.025, 0.3, 0.5, 0.9, 0.975, 0.9995):
        assert intervals.normal_quantile(p) == pytest.approx(statistics.NormalDist().inv_cdf(p), abs=1e-12)


# --- Donner-Eliasziw goodness-of-fit: against the roots of its defining cubic ---------------------


def cubic_limits(both, a_only, b_only, neither, critical=CHI2_95):
    """The limits as roots of a polynomial, solved by numpy.roots (not by bisection).

    Under the common correlation model the expected proportions are linear in kappa:
    P1 = pi^2 + q k, P2 = 2q(1 - k), P3 = (1 - pi)^2 + q k, q = pi(1 - pi). Pearson's statistic is
    sum n_i^2 / (n P_i) - n, so "statistic = critical" is
    n1^2 P2 P3 + n2^2 P1 P3 + n3^2 P1 P2 - n (n + critical) P1 P2 P3 = 0, a cubic in k.
    """
    n1, n2, n3 = both, a_only + b_only, neither
    n = n1 + n2 + n3
    pi = (2 * n1 + n2) / (2 * n)
    q = pi * (1 - pi)
    p1, p2, p3 = (np.polynomial.Polynomial(c) for c in ([pi * pi, q], [2 * q, -2 * q], [(1 - pi) ** 2, q]))
    cubic = n1**2 * p2 * p3 + n2**2 * p1 * p3 + n3**2 * p1 * p2 - n * (n + critical) * p1 * p2 * p3
    estimate = 1 - n2 / (2 * n * q)
    lowest = max(-pi / (1 - pi), -(1 - pi) / pi)
    # Multiplying by P1 P2 P3 adds a root where an empty cell's P_i vanishes (at an end of the range):
    # only roots strictly inside the range are limits; without one on a side, the limit is the end.
    real = sorted(r.real for r in cubic.roots() if abs(r.imag) < 1e-9 and lowest + 1e-9 < r.real < 1 - 1e-9)
    below = [r for r in real if r < estimate]
    above = [r for r in real if r > estimate]
    return (max(below) if below else lowest), (min(above) if above else 1.0)


@pytest.mark.parametrize("table", [(20, 5, 10, 15), (40, 10, 8, 142), (5, 3, 2, 90), (12, 1, 1, 6), (58, 4, 12, 31),
                                   (2, 3, 4, 191), (30, 0, 0, 70), (0, 6, 5, 9)])
def test_goodness_of_fit_limits_are_the_roots_of_the_cubic(table):
    low, high = intervals.goodness_of_fit_interval(*table)
    ref_low, ref_high = cubic_limits(*table)
    assert float(low) == pytest.approx(ref_low, abs=1e-9) and float(high) == pytest.approx(ref_high, abs=1e-9)


# --- Dirichlet posterior: against a plain Monte Carlo of the posterior ------------------------------


def plain_posterior_limits(table, *, draws=200_000, seed=11):
    """Dirichlet draws of the cell probabilities (numpy's own sampler), kappa of each, its quantiles."""
    rng = np.random.default_rng(seed)
    limits = []
    for (agree, disagree), q in ((intervals.LOWER_LIMIT_PRIOR, 0.025), (intervals.UPPER_LIMIT_PRIOR, 0.975)):
        p = rng.dirichlet(np.array(table) + [agree, disagree / 2, disagree / 2, agree], size=draws)
        limits.append(np.quantile(kappa_from_counts(*p.T), q))
    return limits


@pytest.mark.parametrize("table", [(20, 5, 10, 15), (3, 2, 1, 94), (40, 1, 2, 157), (6, 4, 5, 5), (2, 1, 1, 16)])
def test_dirichlet_limits_match_a_plain_posterior_simulation(table):
    """The shipped limits use 4,000 draws. The Monte Carlo SE of a 2.5% quantile is about
    sqrt(0.025 * 0.975 / 4000) / density ~ 0.011 x the interval's width for a bell-shaped
    posterior, so 5% of the width (over 4 SE) plus a little is a tolerance that can still fail."""
    low, high = (float(x) for x in intervals.dirichlet_interval(*table))
    ref_low, ref_high = plain_posterior_limits(table)
    tolerance = 0.05 * (ref_high - ref_low) + 0.002
    assert abs(low - ref_low) < tolerance and abs(high - ref_high) < tolerance


def test_single_informative_unit_gives_an_interval_containing_zero_to_one():
    low, high = intervals.dirichlet_interval([1, 0, 19, 0], [0, 1, 0, 0], [0, 0, 0, 1], [19, 19, 1, 19])
    assert (low <= 0).all() and (high == 1).all()


def test_undefined_kappa_has_no_interval():
    tables = ([0, 5, 0], [0, 0, 0], [0, 0, 0], [7, 0, 0])  # all absent, all present, no unit
    for method in ("dirichlet", "goodness-of-fit"):
        low, high = intervals.kappa_interval(*tables, method=method)
        assert np.isnan(low).all() and np.isnan(high).all()


def test_interval_depends_only_on_the_table_and_seed():
    alone = intervals.dirichlet_interval(7, 2, 3, 40, seed=5)
    among = intervals.dirichlet_interval([1, 7, 30], [0, 2, 1], [4, 3, 0], [9, 40, 2], seed=5)
    assert (float(alone[0]), float(alone[1])) == (among[0][1], among[1][1])
    assert intervals.dirichlet_interval(7, 2, 3, 40, seed=6)[0] != alone[0]


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="integers"):
        intervals.dirichlet_interval(1.5, 0, 0, 3)
    with pytest.raises(ValueError, match="level"):
        intervals.goodness_of_fit_interval(1, 1, 1, 1, level=1.0)
    with pytest.raises(ValueError, match="percentile"):
        intervals.kappa_interval(1, 1, 1, 1, method="percentile")


tables = st.tuples(*[st.integers(0, 60)] * 4).filter(lambda t: not np.isnan(kappa_from_counts(*t)))


@settings(max_examples=60, deadline=None)
@given(table=tables)
def test_defined_kappa_never_gets_a_zero_width_interval(table):
    kappa = float(kappa_from_counts(*table))
    low, high = (float(x) for x in intervals.dirichlet_interval(*table, draws=400))
    assert -1 <= low < high <= 1 and low <= kappa <= high
    low, high = (float(x) for x in intervals.goodness_of_fit_interval(*table))
    assert -1 <= low < high <= 1


# --- coverage, bounded -------------------------------------------------------------------------------


def test_cell_probabilities_have_the_asked_kappa():
    for pa, pb, k in ((0.01, None, 0.2), (0.4, None, 0.8), (0.05, 0.1, 0.6), (0.3, 0.2, -0.1)):
        cells = cell_probabilities(pa, k, pb)
        assert cells.sum() == pytest.approx(1) and float(kappa_from_counts(*cells)) == pytest.approx(k)
        assert cells[0] + cells[1] == pytest.approx(pa)
    with pytest.raises(ValueError, match="attainable"):
        cell_probabilities(0.01, -0.5)


# (n, prevalence, kappa, datasets, whether the cell is informative enough to be held to <= 97.5%)
COVERAGE_CELLS = [(20, 0.01, 0.2, 20000, False), (20, 0.02, 0.8, 4000, False), (50, 0.02, 0.5, 2000, False),
                  (30, 0.03, 0.9, 2000, False), (50, 0.05, 0.8, 1500, True), (20, 0.4, 0.5, 1500, True),
                  (200, 0.4, 0.2, 800, True)]


def coverage_and_bound(interval, n, prevalence, kappa, reps) -> tuple[dict, float]:
    """Coverage of ``interval`` in one cell and the Monte Carlo SE for a coverage near 95%.

    With d defined datasets the SE of a coverage c is sqrt(c(1 - c)/d): 0.2 to 0.6 points here.
    """
    tables = draw_tables(n, cell_probabilities(prevalence, kappa), reps, np.random.default_rng(20260))
    result = interval_coverage(tables, interval, kappa)
    return result, float(np.sqrt(0.95 * 0.05 / result["defined"]))


@pytest.mark.parametrize("n, prevalence, kappa, reps, informative", COVERAGE_CELLS)
def test_default_interval_coverage(n, prevalence, kappa, reps, informative):
    """Coverage on a few cells, rare small ones included (the full grid is in BENCHMARKS.md). The
    bounds are the targets widened by 3 SE, so a method truly below 91.5% is caught unless it
    sits within 3 SE of the floor (the next test shows such a method failing)."""
    result, se = coverage_and_bound(intervals.dirichlet_interval, n, prevalence, kappa, reps)
    assert result["zero_width"] == 0
    assert result["coverage"] >= 0.915 - 3 * se
    if informative:
        assert result["coverage"] <= 0.975 + 3 * se


@pytest.mark.parametrize("method, cell", [
    (intervals.goodness_of_fit_interval, (20, 0.01, 0.2, 20000)),  # a lone "both present" unit excludes 0.2
    (functools.partial(intervals.dirichlet_interval, prior=((0.5, 1.0), (0.5, 1.0)), widen=False), (30, 0.03, 0.9, 2000)),
])
def test_coverage_check_catches_the_candidates_that_fail(method, cell):
    """Negative control: the measured candidates that miss the floor in these cells fail the check."""
    result, se = coverage_and_bound(method, *cell)
    assert result["coverage"] < 0.915 - 3 * se


# --- wiring into the report ------------------------------------------------------------------------


def labels_of(both, a_only, b_only, neither) -> np.ndarray:
    """Two raters' labels (units, 2) with these 2x2 counts."""
    rows = [[1, 1]] * both + [[1, 0]] * a_only + [[0, 1]] * b_only + [[0, 0]] * neither
    return np.array(rows, dtype=np.int8)


def test_report_records_the_method_and_flags_wide_intervals():
    values = np.stack([labels_of(1, 2, 1, 36), labels_of(18, 1, 1, 20)], axis=2)  # a rare and a common mode
    report = compute_report(make_label_set(values), bootstrap=100)
    assert report["params"]["ci_method"] == "dirichlet"
    assert report["params"]["ci_methods"]["pooled.pairs"] == "percentile"
    rare, common = (mode["pairs"][0] for mode in report["modes"])
    assert rare["ci_method"] == common["ci_method"] == "dirichlet"
    assert report["pooled"]["pairs"][0]["ci_method"] == "percentile"
    for pair in (rare, common):
        wide = pair["ci_high"] - pair["ci_low"] > 0.5
        assert ("uninformative" in pair["flags"]) == wide
    assert "uninformative" in rare["flags"] and "uninformative" not in common["flags"]
    gof = compute_report(make_label_set(values), bootstrap=0, ci_method="goodness-of-fit")
    low, high = intervals.goodness_of_fit_interval(*(rare[k] for k in ("both", "a_only", "b_only", "neither")))
    assert (gof["modes"][0]["pairs"][0]["ci_low"], gof["modes"][0]["pairs"][0]["ci_high"]) == (float(low), float(high))


def test_identical_modes_get_identical_intervals():
    values = make_label_set(np.random.default_rng(8).random((60, 3, 1)) < 0.2).values
    report = compute_report(make_label_set(np.concatenate([values, values], axis=2)), bootstrap=0, seed=4)
    for p1, p2 in zip(*(mode["pairs"] for mode in report["modes"])):
        assert (p1["ci_low"], p1["ci_high"]) == (p2["ci_low"], p2["ci_high"]) and p1["ci_low"] is not None


def test_cli_ci_choices_are_the_methods():
    from annotator.cli.report import report

    option = next(p for p in report.params if p.name == "ci_method")
    assert tuple(option.type.choices) == intervals.METHODS and option.default == intervals.DEFAULT_METHOD


def test_cli_report_with_ci_method(tmp_path, mast_human_path):
    db = tmp_path / "m.db"
    assert run_cli("import", str(mast_human_path), db=db).exit_code == 0
    reports = {}
    for method in ("dirichlet", "percentile"):
        done = run_cli("report", "--format", "json", "--bootstrap", "100", "--ci", method, db=db)
        assert done.exit_code == 0, done.output
        reports[method] = json.loads(done.stdout)
        assert reports[method]["params"]["ci_method"] == method
    for mode_d, mode_p in zip(reports["dirichlet"]["modes"], reports["percentile"]["modes"]):
        for d, p in zip(mode_d["pairs"], mode_p["pairs"]):
            assert d["kappa"] == p["kappa"] and d["ci_method"] == "dirichlet" and p["ci_method"] == "percentile"
            if d["kappa"] is not None:
                assert d["ci_low"] < d["ci_high"] and d["ci_low"] <= d["kappa"] <= d["ci_high"]
    done = run_cli("report", "--ci", "wald", db=db)
    assert done.exit_code != 0 and "wald" in done.output
