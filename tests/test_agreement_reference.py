"""Every agreement figure checked against an independent reference implementation.

References: scikit-learn (Cohen's kappa, F1, accuracy, precision/recall), statsmodels (kappa SE,
Fleiss' kappa), krippendorff (alpha); Gwet's AC1 against published worked examples and against Gwet's
formula written out below; plus the real MAST human labels and a simulation of bootstrap coverage.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from agreement_support import correlated_labels, make_label_set, mast_round_label_sets, random_label_set
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, precision_score, recall_score

from annotator.core.agreement import classification_scores, compute_report

TOL = 1e-9
# statsmodels warns on its own 0/0 and sqrt of rounding-negative variances; we compare values.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


def sk_kappa(a, b) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cohen_kappa_score(a, b, labels=[0, 1], replace_undefined_by=np.nan)


def same(ours, reference, tol=TOL) -> bool:
    """None matches NaN; numbers match within tol."""
    if ours is None:
        return reference is None or np.isnan(reference)
    return reference is not None and not np.isnan(reference) and abs(ours - reference) <= tol


def shared_units(ls, mode: int, a: str, b: str):
    va = ls.values[:, ls.rater_index(a), mode]
    vb = ls.values[:, ls.rater_index(b), mode]
    keep = (va >= 0) & (vb >= 0)
    return va[keep].astype(int), vb[keep].astype(int)


def check_pairs_against_sklearn(ls, report) -> int:
    """Kappa, observed/specific agreement, PABAK and prevalences of every (mode, pair); returns checks."""
    checked = 0
    for k, mode in enumerate(report["modes"]):
        for pair in mode["pairs"]:
            a, b = shared_units(ls, k, pair["a"], pair["b"])
            assert pair["n"] == len(a)
            assert same(pair["kappa"], sk_kappa(a, b) if len(a) else np.nan), (mode["code"], pair)
            if len(a):
                assert same(pair["observed_agreement"], accuracy_score(a, b))
                assert same(pair["pabak"], 2 * accuracy_score(a, b) - 1)
                assert same(pair["prevalence_a"], a.mean()) and same(pair["prevalence_b"], b.mean())
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pos = f1_score(a, b, pos_label=1, zero_division=np.nan)
                    neg = f1_score(a, b, pos_label=0, zero_division=np.nan)
                assert same(pair["positive_agreement"], pos) and same(pair["negative_agreement"], neg)
            checked += 1
    return checked


def check_se_against_statsmodels(report) -> None:
    from statsmodels.stats.inter_rater import cohens_kappa

    for mode in report["modes"]:
        for pair in mode["pairs"]:
            if pair["kappa"] is None:
                assert pair["se"] is None
                continue
            table = [[pair["both"], pair["a_only"]], [pair["b_only"], pair["neither"]]]
            result = cohens_kappa(table)
            assert same(pair["kappa"], result.kappa)
            # Compare variances: where the true variance is 0 (a constant rater, perfect agreement)
            # both sides carry ~1e-16 rounding noise, which sqrt blows up to ~1e-8 (or NaN in
            # statsmodels when the noise is negative; we clip it to 0).
            assert abs(pair["se"] ** 2 - result.var_kappa) < 1e-12
            if result.var_kappa > 1e-10:
                assert same(pair["se"], result.std_kappa), "SE must be statsmodels' std_kappa (not std_kappa0)"


def gwet_ac1(a: list[int], b: list[int]) -> float:
    """Gwet's AC1 for two raters and two categories, written out from Gwet (2008), Br J Math Stat Psychol
    61:29-48: p_a = share of units both raters put in the same category; pi_q = the mean of the two raters'
    shares of category q; p_e = sum over the Q categories of pi_q (1 - pi_q) / (Q - 1); AC1 = (p_a - p_e) /
    (1 - p_e). Plain Python on the raw labels, sharing nothing with annotator.core."""
    n = len(a)
    p_a = sum(1 for x, y in zip(a, b) if x == y) / n
    p_e = 0.0
    for category in (0, 1):
        pi = (sum(1 for x in a if x == category) + sum(1 for y in b if y == category)) / (2 * n)
        p_e += pi * (1 - pi) / (2 - 1)
    return (p_a - p_e) / (1 - p_e)


def check_ac1_against_formula(ls, report) -> None:
    for k, mode in enumerate(report["modes"]):
        for pair in mode["pairs"]:
            a, b = shared_units(ls, k, pair["a"], pair["b"])
            if not len(a):
                assert pair["ac1"] is None
                continue
            assert same(pair["ac1"], gwet_ac1(a.tolist(), b.tolist())), (mode["code"], pair["a"], pair["b"])


def check_multirater(ls, report) -> None:
    import krippendorff
    from statsmodels.stats.inter_rater import fleiss_kappa

    for k, mode in enumerate(report["modes"]):
        values = ls.values[:, :, k]
        labelled = values >= 0
        rows = values[labelled.any(axis=1)]
        if rows.size and (rows >= 0).all():
            table = np.stack([(rows == 0).sum(axis=1), (rows == 1).sum(axis=1)], axis=1)
            with np.errstate(all="ignore"):
                assert same(mode["fleiss_kappa"], fleiss_kappa(table, method="fleiss"))
        else:
            assert mode["fleiss_kappa"] is None
        reliability = np.where(labelled, values, np.nan).T.astype(float)
        try:
            with np.errstate(all="ignore"):
                alpha = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
        except ValueError:  # the reference refuses data with a single value: undefined
            alpha = np.nan
        assert same(mode["krippendorff_alpha"], alpha, tol=1e-9), mode["code"]


def check_pooled(ls, report) -> None:
    for pair in report["pooled"]["pairs"]:
        a_all, b_all = [], []
        for k in range(ls.shape[2]):
            a, b = shared_units(ls, k, pair["a"], pair["b"])
            a_all.append(a)
            b_all.append(b)
        a, b = np.concatenate(a_all), np.concatenate(b_all)
        assert pair["n"] == len(a)
        assert same(pair["kappa"], sk_kappa(a, b) if len(a) else np.nan)


CONFIGS = [
    dict(seed=1, n=60, r=2, m=4),
    dict(seed=2, n=40, r=3, m=5, missing=0.15),
    dict(seed=3, n=25, r=5, m=3, prevalence=[0.02, 0.5, 0.9]),
    dict(seed=4, n=12, r=4, m=6, prevalence=0.05, noise=0.05, missing=0.3),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"seed{c['seed']}")
def test_all_statistics_match_references_on_random_data(config):
    config = dict(config)
    ls = random_label_set(config.pop("seed"), config.pop("n"), config.pop("r"), config.pop("m"), **config)
    report = compute_report(ls, bootstrap=0)
    assert check_pairs_against_sklearn(ls, report) > 0
    check_se_against_statsmodels(report)
    check_ac1_against_formula(ls, report)
    check_multirater(ls, report)
    check_pooled(ls, report)


def test_cohen_worked_example():
    """Textbook example (e.g. Wikipedia, "Cohen's kappa"): 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no.

    p_o = 0.7, p_e = 0.5, kappa = 0.4.
    """
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    ls = make_label_set(np.array([a, b]).T[:, :, None])
    pair = compute_report(ls, bootstrap=0)["modes"][0]["pairs"][0]
    assert (pair["both"], pair["a_only"], pair["b_only"], pair["neither"]) == (20, 5, 10, 15)
    assert pair["observed_agreement"] == pytest.approx(0.7)
    assert pair["kappa"] == pytest.approx(0.4)


# Published 2x2 tables as (both, a only, b only, neither) with the figures printed beside them.
# Shankar & Bangdiwala (2014), "Observer agreement paradoxes in 2x2 tables: comparison of agreement
# measures", BMC Med Res Methodol 14:100, Table 3 prints P_o, kappa, PABAK and AC1 per scenario (two
# decimals); the cells (N = 100, from their Table 2) are the tables that reproduce every printed figure of
# the row. Wongpakaran et al. (2013), BMC Med Res Methodol 13:61: the two-rater Schizoid example, printed
# kappa .565 and AC1 .752 (the exact AC1 is 0.7527: the print truncates, hence the 0.001 tolerance).
PUBLISHED_2X2 = {
    "S&B scenario 1, symmetrical balance": ((40, 9, 6, 45), dict(po=0.85, kappa=0.70, pabak=0.70, ac1=0.70), 0.005),
    "S&B scenario 2, symmetrical imbalance": ((80, 10, 5, 5), dict(po=0.85, kappa=0.32, pabak=0.70, ac1=0.81), 0.005),
    "S&B scenario 3, perfect symmetrical imbalance": ((90, 5, 5, 0), dict(po=0.90, kappa=-0.05, pabak=0.80, ac1=0.89),
                                                      0.005),
    "S&B scenario 9, Po 0.90": ((85, 5, 5, 5), dict(po=0.90, kappa=0.44, pabak=0.80, ac1=0.88), 0.005),
    "S&B scenario 11, Po 0.50": ((25, 25, 25, 25), dict(po=0.50, kappa=0.0, pabak=0.0, ac1=0.0), 0.005),
    "S&B scenario 14, Po 0.10": ((5, 45, 45, 5), dict(po=0.10, kappa=-0.80, pabak=-0.80, ac1=-0.80), 0.005),
    "Wongpakaran 2013, Schizoid": ((3, 1, 2, 13), dict(kappa=0.565, ac1=0.752), 0.001),
}


@pytest.mark.parametrize("name", PUBLISHED_2X2)
def test_published_2x2_examples(name):
    """Kappa, PABAK and AC1 of published 2x2 tables, to the precision they were printed with."""
    (both, a_only, b_only, neither), printed, tol = PUBLISHED_2X2[name]
    cells = [(1, 1)] * both + [(1, 0)] * a_only + [(0, 1)] * b_only + [(0, 0)] * neither
    pair = compute_report(make_label_set(np.array(cells)[:, :, None]), bootstrap=0)["modes"][0]["pairs"][0]
    assert (pair["both"], pair["a_only"], pair["b_only"], pair["neither"]) == (both, a_only, b_only, neither)
    keys = {"po": "observed_agreement", "kappa": "kappa", "pabak": "pabak", "ac1": "ac1"}
    for key, value in printed.items():
        assert pair[keys[key]] == pytest.approx(value, abs=tol), (key, pair[keys[key]])


def test_ac1_paradox_example_by_hand():
    """Feinstein and Cicchetti's first paradox (the S&B scenario 3 table): 90 of 100 agreements, kappa
    below zero, AC1 near the observed agreement. Worked by hand: p_a = 0.90, pi_yes = 0.95,
    p_e = 2 * 0.95 * 0.05 = 0.095, AC1 = (0.90 - 0.095) / (1 - 0.095) = 0.805 / 0.905."""
    cells = [(1, 1)] * 90 + [(1, 0)] * 5 + [(0, 1)] * 5
    pair = compute_report(make_label_set(np.array(cells)[:, :, None]), bootstrap=0)["modes"][0]["pairs"][0]
    assert pair["ac1"] == pytest.approx(0.805 / 0.905, abs=1e-12)
    assert pair["kappa"] == pytest.approx((0.90 - 0.905) / (1 - 0.905), abs=1e-12)
    assert "kappa_paradox" in pair["flags"]


def test_classification_scores_match_sklearn():
    rng = np.random.default_rng(7)
    reference = correlated_labels(rng, 80, 1, 5, prevalence=[0.0, 0.03, 0.2, 0.5, 0.97], missing=0.1)[:, 0, :]
    predicted = correlated_labels(rng, 80, 1, 5, prevalence=[0.0, 0.0, 0.2, 0.5, 0.9], missing=0.1)[:, 0, :]
    for k, scores in enumerate(classification_scores(reference, predicted)):
        keep = (reference[:, k] >= 0) & (predicted[:, k] >= 0)
        y, p = reference[keep, k], predicted[keep, k]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert same(scores["precision"], precision_score(y, p, zero_division=np.nan))
            assert same(scores["recall"], recall_score(y, p, zero_division=np.nan))
            assert same(scores["f1"], f1_score(y, p, zero_division=np.nan))
        assert same(scores["accuracy"], accuracy_score(y, p))


# --- the real MAST human labels ------------------------------------------------------------------


def test_mast_rounds_match_references(mast_human_path):
    rounds = mast_round_label_sets(mast_human_path)
    assert sorted(rounds) == ["Generlazability", "Round 1", "Round 2", "Round 3"]
    for ls in rounds.values():
        report = compute_report(ls, bootstrap=200, seed=0, level="trace")
        check_pairs_against_sklearn(ls, report)
        check_se_against_statsmodels(report)
        check_multirater(ls, report)
        check_pooled(ls, report)


def test_mast_modes_without_positives_are_undefined(mast_human_path):
    for round_name, ls in mast_round_label_sets(mast_human_path).items():
        report = compute_report(ls, bootstrap=100, level="trace", ci_method="percentile")
        for k, mode in enumerate(report["modes"]):
            if (ls.values[:, :, k] == 1).any():
                continue
            assert mode["mean_pairwise_kappa"] is None and "undefined" in mode["flags"], (round_name, mode["code"])
            for pair in mode["pairs"]:
                assert pair["kappa"] is None and pair["ci_low"] is None and pair["se"] is None
                assert "undefined" in pair["flags"] and pair["undefined_reason"]
                assert pair["undefined_resamples"] == 100
        covered = report["summary"]["mean_kappa_modes_covered"]
        assert covered == sum(m["mean_pairwise_kappa"] is not None for m in report["modes"]) < len(report["modes"])


def test_mast_final_round_missing_labels(mast_human_path):
    """annotator_3 left 3.2 and 3.3 unlabelled on one trace (NaN in the file): missing, not absent."""
    final = mast_round_label_sets(mast_human_path)["Generlazability"]
    report = compute_report(final, bootstrap=0, level="trace")
    by_code = {mode["code"]: mode for mode in report["modes"]}
    for code in ("2.4", "3.1"):
        assert by_code[code]["mean_pairwise_kappa"] is None
    for code in ("3.2", "3.3"):
        ns = {(p["a"], p["b"]): p["n"] for p in by_code[code]["pairs"]}
        assert ns[("annotator_1", "annotator_2")] == final.shape[0]
        assert ns[("annotator_1", "annotator_3")] == final.shape[0] - 1
        assert by_code[code]["fleiss_kappa"] is None
        assert "fleiss_kappa" in by_code[code]["undefined_reasons"]


# --- bootstrap ------------------------------------------------------------------------------------


def test_bootstrap_interval_equals_naive_resampling():
    """The weight-matrix bootstrap equals resampling unit indices and calling sklearn per resample."""
    ls = random_label_set(11, 30, 3, 2, prevalence=0.3, noise=0.25)
    n_resamples, seed = 300, 5
    report = compute_report(ls, bootstrap=n_resamples, seed=seed, ci_method="percentile")
    draws = np.random.default_rng(seed).integers(0, 30, size=(n_resamples, 30))  # same stream, row-major
    for k, mode in enumerate(report["modes"]):
        for pair in mode["pairs"]:
            a, b = shared_units(ls, k, pair["a"], pair["b"])
            kappas = np.array([sk_kappa(a[idx], b[idx]) for idx in draws])
            defined = kappas[~np.isnan(kappas)]
            assert pair["undefined_resamples"] == int(np.isnan(kappas).sum())
            assert pair["ci_low"] == pytest.approx(np.percentile(defined, 2.5), abs=1e-9)
            assert pair["ci_high"] == pytest.approx(np.percentile(defined, 97.5), abs=1e-9)


def _true_kappa(joint: np.ndarray) -> float:
    p11, p10, p01, p00 = joint
    pa, pb = p11 + p10, p11 + p01
    expected = pa * pb + (1 - pa) * (1 - pb)
    return ((p11 + p00) - expected) / (1 - expected)


@pytest.mark.slow
@pytest.mark.parametrize(
    "joint",
    [[0.20, 0.06, 0.08, 0.66], [0.06, 0.03, 0.03, 0.88]],  # P(both), P(a only), P(b only), P(neither)
    ids=["common-mode", "rare-mode"],
)
def test_bootstrap_ci_coverage_simulation(joint):
    """1,000 simulated datasets of n=200 units, 500 resamples each: the 95% percentile interval must
    cover the generating kappa in 92%..97.5% of them. The Monte Carlo SE of the coverage is ~0.7
    points; the percentile bootstrap under-covers a little at this n (about 94% here), hence the
    band reaches further below 95% than above."""
    joint = np.array(joint)
    truth = _true_kappa(joint)
    rng = np.random.default_rng(2026)
    n_sims, n_units, covered = 1000, 200, 0
    cells = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=np.int8)
    for sim in range(n_sims):
        labels = cells[rng.choice(4, size=n_units, p=joint)][:, :, None]
        pair = compute_report(make_label_set(labels), bootstrap=500, seed=sim, ci_method="percentile")["modes"][0]["pairs"][0]
        covered += pair["ci_low"] <= truth <= pair["ci_high"]
    assert 0.92 <= covered / n_sims <= 0.975, f"coverage {covered / n_sims:.3f} for true kappa {truth:.3f}"
