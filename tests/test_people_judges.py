"""People apart from judges (issue 10, item 3): headline figures among people only, each judge against the
people with paired intervals, and the alternative annotator test (Calderon, Reichart and Dror 2025).

Every expected value is computed here independently: sklearn's Cohen's kappa, statsmodels' Fleiss'
kappa, the krippendorff package, plain resampling of unit indices, and the alt-test written out with
loops, scipy.stats.ttest_1samp / ttest_rel and statsmodels' multipletests(method="fdr_by").
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from agreement_support import make_label_set
from scipy.stats import ttest_1samp, ttest_rel
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.multitest import multipletests

from annotator.core.agreement import compute_report
from annotator.core.agreement.alttest import benjamini_yekutieli

PEOPLE = ("ann", "bob", "cat", "dan")
RATERS = (*PEOPLE, "copier", "coin", "gold")
KINDS = ("human",) * 4 + ("judge", "judge", "gold")


def crowd(seed: int = 3, n: int = 120, m: int = 2, noise: float = 0.15) -> np.ndarray:
    """Four people who flip a latent truth with probability ``noise``; a judge that copies the people's
    majority (ties: the truth); a judge that tosses a coin; gold = the truth. Some people's labels missing."""
    rng = np.random.default_rng(seed)
    truth = (rng.random((n, m)) < 0.3).astype(np.int8)
    people = np.where(rng.random((n, 4, m)) < noise, 1 - truth[:, None, :], truth[:, None, :]).astype(np.int8)
    votes = people.sum(axis=1)
    majority = np.where(votes * 2 == 4, truth, (votes * 2 > 4).astype(np.int8))
    coin = (rng.random((n, m)) < 0.3).astype(np.int8)
    values = np.concatenate([people, majority[:, None], coin[:, None], truth[:, None]], axis=1)
    values[:, :4][rng.random((n, 4, m)) < 0.05] = -1  # people miss a few labels (judges and gold label all)
    return values


def shared(values: np.ndarray, k: int, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    keep = (values[:, a, k] >= 0) & (values[:, b, k] >= 0)
    return values[keep, a, k], values[keep, b, k]


def kappa(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or (len(set(a.tolist())) == 1 and set(a.tolist()) == set(b.tolist())):
        return np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b, labels=[0, 1]))


def people_mean(values: np.ndarray, k: int) -> float:
    kappas = [kappa(*shared(values, k, a, b)) for a, b in itertools.combinations(range(4), 2)]
    return float(np.nanmean(kappas)) if not np.isnan(kappas).all() else np.nan


def judge_mean(values: np.ndarray, k: int, judge: int) -> float:
    return float(np.nanmean([kappa(*shared(values, k, judge, h)) for h in range(4)]))


# --- people only ------------------------------------------------------------------------------------------


def test_headline_figures_are_among_people_only():
    import krippendorff
    from statsmodels.stats.inter_rater import fleiss_kappa

    values = crowd()
    report = compute_report(make_label_set(values, kinds=KINDS, raters=RATERS), bootstrap=0)
    for k, mode in enumerate(report["modes"]):
        assert len(mode["pairs"]) == 21  # every pair is still there, on demand
        expected = people_mean(values, k)
        assert mode["mean_pairwise_kappa"] == pytest.approx(expected, abs=1e-12)
        assert mode["people"]["mean_kappa"] == pytest.approx(expected, abs=1e-12)
        assert mode["people"]["pairs"] == mode["mean_pairwise_kappa_pairs"] == 6
        # Fleiss' kappa needs every unit labelled by every person: take the complete units of the people.
        alpha = krippendorff.alpha(reliability_data=np.where(values[:, :4, k] >= 0, values[:, :4, k], np.nan).T,
                                   level_of_measurement="nominal")
        assert mode["krippendorff_alpha"] == pytest.approx(alpha, abs=1e-9)
        assert mode["fleiss_kappa"] is None  # some people miss labels
        complete = compute_report(make_label_set(np.maximum(values, 0), kinds=KINDS, raters=RATERS), bootstrap=0)
        rows = np.maximum(values, 0)[:, :4, k]
        table = np.stack([(rows == 0).sum(axis=1), (rows == 1).sum(axis=1)], axis=1)
        assert complete["modes"][k]["fleiss_kappa"] == pytest.approx(fleiss_kappa(table), abs=1e-12)
    summary = report["summary"]
    assert summary["mean_kappa"] == pytest.approx(np.mean([people_mean(values, k) for k in range(2)]), abs=1e-12)


def test_judges_and_gold_change_no_headline_figure():
    """Adding a judge and gold to the people leaves every headline figure as it was without them."""
    values = crowd(seed=5)
    with_all = compute_report(make_label_set(values, kinds=KINDS, raters=RATERS), bootstrap=50, seed=2)
    people = compute_report(make_label_set(values[:, :4], kinds=KINDS[:4], raters=PEOPLE), bootstrap=50, seed=2)
    for ours, theirs in zip(with_all["modes"], people["modes"]):
        for key in ("mean_pairwise_kappa", "mean_pairwise_kappa_ci_low", "mean_pairwise_kappa_ci_high",
                    "krippendorff_alpha", "krippendorff_alpha_ci_low", "krippendorff_alpha_ci_high", "people"):
            assert ours[key] == theirs[key], key
    assert with_all["pooled"]["mean_pairwise_kappa"] == people["pooled"]["mean_pairwise_kappa"]
    assert with_all["contested"] == people["contested"]
    assert with_all["co_confusion"] == people["co_confusion"]
    assert with_all["summary"]["modes_by_human_kappa"] == people["summary"]["modes_by_human_kappa"]
    assert people["modes"][0]["judges"] == []


def test_contested_units_ignore_a_judge_that_disagrees_with_everyone():
    values = np.zeros((6, 4, 1), dtype=np.int8)
    values[:, 3, 0] = 1  # the judge says present everywhere; the people agree it is absent
    report = compute_report(make_label_set(values, kinds=("human",) * 3 + ("judge",)), bootstrap=0)
    assert report["contested"] == []


# --- judges against the people, with intervals from the same resamples -----------------------------------


def test_judge_figures_and_intervals_match_naive_resampling():
    import krippendorff

    values = crowd(seed=7, n=60, m=1)
    n_resamples, seed, n = 200, 4, 60
    report = compute_report(make_label_set(values, kinds=KINDS, raters=RATERS), bootstrap=n_resamples, seed=seed)
    mode = report["modes"][0]
    draws = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))  # the report's resamples
    people_boot = np.array([people_mean(values[idx], 0) for idx in draws])
    for entry, judge in zip(mode["judges"], (4, 5)):
        assert entry["rater"] == RATERS[judge]
        expected = judge_mean(values, 0, judge)
        assert entry["mean_kappa_vs_people"] == pytest.approx(expected, abs=1e-12)
        assert entry["minus_people"] == pytest.approx(expected - people_mean(values, 0), abs=1e-12)
        judge_boot = np.array([judge_mean(values[idx], 0, judge) for idx in draws])
        assert entry["ci_low"] == pytest.approx(np.nanpercentile(judge_boot, 2.5), abs=1e-9)
        assert entry["ci_high"] == pytest.approx(np.nanpercentile(judge_boot, 97.5), abs=1e-9)
        paired = judge_boot - people_boot  # the same resampled units for both means
        assert entry["minus_people_ci_low"] == pytest.approx(np.nanpercentile(paired, 2.5), abs=1e-9)
        assert entry["minus_people_ci_high"] == pytest.approx(np.nanpercentile(paired, 97.5), abs=1e-9)
    assert mode["people"]["ci_low"] == pytest.approx(np.nanpercentile(people_boot, 2.5), abs=1e-9)
    alphas = []
    for idx in draws:
        sample = values[idx, :4, 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alphas.append(krippendorff.alpha(reliability_data=np.where(sample >= 0, sample, np.nan).T,
                                             level_of_measurement="nominal"))
    # alpha's per-unit terms are summed in float32 by the bootstrap's matrix product: 1e-5 is ample.
    assert mode["krippendorff_alpha_ci_low"] == pytest.approx(np.percentile(alphas, 2.5), abs=1e-5)
    assert mode["krippendorff_alpha_ci_high"] == pytest.approx(np.percentile(alphas, 97.5), abs=1e-5)


def test_fleiss_interval_matches_naive_resampling():
    from statsmodels.stats.inter_rater import fleiss_kappa

    values = np.maximum(crowd(seed=9, n=50, m=1), 0)  # Fleiss needs complete data
    n_resamples, seed = 150, 8
    mode = compute_report(make_label_set(values, kinds=KINDS, raters=RATERS), bootstrap=n_resamples,
                          seed=seed)["modes"][0]
    draws = np.random.default_rng(seed).integers(0, 50, size=(n_resamples, 50))
    kappas = []
    for idx in draws:
        rows = values[idx, :4, 0]
        table = np.stack([(rows == 0).sum(axis=1), (rows == 1).sum(axis=1)], axis=1)
        with np.errstate(all="ignore"):
            kappas.append(fleiss_kappa(table))
    assert mode["fleiss_kappa_ci_low"] == pytest.approx(np.nanpercentile(kappas, 2.5), abs=1e-6)
    assert mode["fleiss_kappa_ci_high"] == pytest.approx(np.nanpercentile(kappas, 97.5), abs=1e-6)


# --- the alternative annotator test ------------------------------------------------------------------------


def alt_test_by_hand(values: np.ndarray, k: int, judge: int, epsilon: float, q: float = 0.05):
    """The procedure of the paper with loops, scipy's t-tests and statsmodels' BY correction."""
    people = range(4)
    instances = [i for i in range(len(values)) if values[i, judge, k] >= 0
                 and sum(values[i, h, k] >= 0 for h in people) >= 2]
    p_values, advantages = [], []
    for held_out in people:
        w_judge, w_held_out = [], []
        for i in instances:
            if values[i, held_out, k] < 0:
                continue
            rest = [values[i, h, k] for h in people if h != held_out and values[i, h, k] >= 0]
            s_judge = np.mean([values[i, judge, k] == v for v in rest])
            s_held_out = np.mean([values[i, held_out, k] == v for v in rest])
            w_judge.append(float(s_judge >= s_held_out))
            w_held_out.append(float(s_held_out >= s_judge))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = ttest_1samp(np.subtract(w_held_out, w_judge), epsilon, alternative="less").pvalue
            # the same test written as the paper's paired form: W^f against W^h - epsilon
            p_paired = ttest_rel(w_judge, np.subtract(w_held_out, epsilon), alternative="greater").pvalue
        assert p == pytest.approx(p_paired, rel=1e-9, abs=1e-300) or (np.isnan(p) and np.isnan(p_paired))
        p_values.append(p)
        advantages.append(np.mean(w_judge))
    rejected = multipletests(np.nan_to_num(p_values, nan=1.0), alpha=q, method="fdr_by")[0]
    return float(np.mean(rejected)), float(np.mean(advantages)), p_values, rejected


@pytest.mark.parametrize("epsilon", [0.1, 0.2])
def test_alt_test_matches_the_paper_procedure(epsilon):
    values = crowd(seed=11, n=90, m=2, noise=0.2)
    report = compute_report(make_label_set(values, kinds=KINDS, raters=RATERS), bootstrap=0,
                            alt_test_epsilon=epsilon)
    assert report["params"]["alt_test_epsilon"] == epsilon and report["params"]["alt_test_q"] == 0.05
    for k, mode in enumerate(report["modes"]):
        for entry, judge in zip(mode["judges"], (4, 5)):
            winning, advantage, p_values, rejected = alt_test_by_hand(values, k, judge, epsilon)
            result = entry["alt_test"]
            assert result["winning_rate"] == pytest.approx(winning)
            assert result["advantage_probability"] == pytest.approx(advantage, abs=1e-12)
            assert result["passed"] is (winning >= 0.5)
            assert [a["rater"] for a in entry["alt_test_annotators"]] == list(PEOPLE)
            for row, p, r in zip(entry["alt_test_annotators"], p_values, rejected):
                assert row["p_value"] == pytest.approx(p, rel=1e-9, abs=1e-15)
                assert row["judge_wins"] is bool(r)


def test_a_judge_copying_the_majority_passes_and_a_coin_fails():
    values = crowd(seed=13, n=150, m=1, noise=0.15)
    judges = compute_report(make_label_set(values, kinds=KINDS, raters=RATERS), bootstrap=0)["modes"][0]["judges"]
    copier, coin = judges
    # The copier agrees with the majority of all four, so with at least as many of the other three as
    # any one of them on almost every unit: it beats every annotator by far more than epsilon.
    assert copier["alt_test"] == {"winning_rate": 1.0, "advantage_probability": pytest.approx(
        copier["alt_test"]["advantage_probability"]), "passed": True}
    assert copier["alt_test"]["advantage_probability"] > 0.9
    assert coin["alt_test"]["passed"] is False and coin["alt_test"]["winning_rate"] == 0.0
    assert copier["alt_test"]["advantage_probability"] > coin["alt_test"]["advantage_probability"]
    assert copier["minus_people"] > 0 > coin["minus_people"]


def test_alt_test_needs_three_annotators():
    values = crowd(seed=3, n=100, m=1)[:, [0, 1, 4], :]  # two people and the copier
    entry = compute_report(make_label_set(values, kinds=("human", "human", "judge")), bootstrap=0)["modes"][0]
    judge = entry["judges"][0]
    assert judge["alt_test"] == {"winning_rate": None, "advantage_probability": None, "passed": None}
    assert "at least 3 annotators" in judge["alt_test_reason"]
    assert judge["mean_kappa_vs_people"] is not None  # the kappa figures do not need three people


def test_alt_test_needs_thirty_instances_per_annotator():
    values = crowd(seed=3, n=29, m=1)
    judge = compute_report(make_label_set(values, kinds=KINDS, raters=RATERS), bootstrap=0)["modes"][0]["judges"][0]
    assert judge["alt_test"]["passed"] is None
    assert "30 instances" in judge["alt_test_reason"]


def test_benjamini_yekutieli_matches_statsmodels():
    rng = np.random.default_rng(0)
    for size in (1, 2, 3, 5, 8, 13):
        for _ in range(50):
            p = rng.random(size) ** rng.uniform(1, 6)
            for q in (0.05, 0.1):
                assert benjamini_yekutieli(p, q).tolist() == multipletests(p, alpha=q, method="fdr_by")[0].tolist()


# --- taxonomy compare: one service function for the CLI and the page --------------------------------------


def test_taxonomy_compare_cli_and_service_agree_and_leave_the_judge_out(tmp_path):
    import json

    from helpers import labels_with, run_cli, write_jsonl

    from annotator import store
    from annotator.services.taxonomy_agreement import refinement_comparison

    rng = np.random.default_rng(21)
    raters = ("ana", "ben", "cal", "judge:m@v1")
    truth = rng.random((40, 2)) < 0.4  # 3.2 and 3.3 per trace
    marks = {name: np.where(rng.random((40, 2)) < (0.45 if name.startswith("judge") else 0.15), ~truth, truth)
             for name in raters}
    records = [{"id": f"t{i}", "text": f"trace {i}", "labels": {
        name: labels_with(*(code for code, on in zip(("3.2", "3.3"), marks[name][i]) if on)) for name in raters}}
        for i in range(40)]
    db_path = tmp_path / "c.db"
    assert run_cli("import", str(write_jsonl(tmp_path / "c.jsonl", records)), db=db_path).exit_code == 0
    changes = tmp_path / "changes.yaml"
    changes.write_text("changes:\n  - merge: ['3.2', '3.3']\n    into: {code: '3.2', name: Verification,"
                       " category: Task Verification, definition: checks missing or wrong}\n")
    assert run_cli("taxonomy", "refine", "mast@1", str(changes), db=db_path).exit_code == 0
    done = run_cli("taxonomy", "compare", "mast@1", "mast@2", "--json", db=db_path)
    assert done.exit_code == 0, done.output
    cli_rows = json.loads(done.stdout)
    service_rows = refinement_comparison(store.connect(db_path, migrate=False), "mast@1", "mast@2")
    assert cli_rows == json.loads(json.dumps(service_rows))
    merged = {name: marks[name].any(axis=1).astype(int) for name in raters}  # a merge is the OR of the old labels
    people = float(np.mean([kappa(merged[a], merged[b]) for a, b in itertools.combinations(raters[:3], 2)]))
    everyone = float(np.mean([kappa(merged[a], merged[b]) for a, b in itertools.combinations(raters, 2)]))
    row = next(r for r in cli_rows if r["code"] == "3.2")
    assert row["kappa_after"] == pytest.approx(people, abs=1e-12)
    assert abs(everyone - people) > 0.05  # the judge, mixed in, would change the figure
    before = {code: float(np.mean([kappa(marks[a][:, j].astype(int), marks[b][:, j].astype(int))
                                   for a, b in itertools.combinations(raters[:3], 2)]))
              for j, code in enumerate(("3.2", "3.3"))}
    assert row["kappa_before"] == [pytest.approx(before["3.2"], abs=1e-12), pytest.approx(before["3.3"], abs=1e-12)]


def test_cli_report_records_the_alt_test_epsilon(tmp_path):
    import json

    from helpers import labels_with, run_cli, write_jsonl

    from annotator.cli.report import report as report_command
    from annotator.core.agreement.alttest import DEFAULT_EPSILON

    option = next(p for p in report_command.params if p.name == "alt_test_epsilon")
    assert option.default == DEFAULT_EPSILON
    records = [{"id": f"t{i}", "text": f"trace {i}", "labels": {
        name: labels_with(*(["1.1"] if (i + j) % 3 == 0 else [])) for j, name in enumerate(("ana", "ben", "judge:x"))}}
        for i in range(6)]
    db_path = tmp_path / "e.db"
    assert run_cli("import", str(write_jsonl(tmp_path / "e.jsonl", records)), db=db_path).exit_code == 0
    done = run_cli("report", "--format", "json", "--bootstrap", "0", "--alt-test-epsilon", "0.1", db=db_path)
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["params"]["alt_test_epsilon"] == 0.1
    judge = report["modes"][0]["judges"][0]
    assert judge["rater"] == "judge:x" and judge["alt_test"]["passed"] is None
    assert "at least 3 annotators" in judge["alt_test_reason"]
    bad = run_cli("report", "--alt-test-epsilon", "1.5", db=db_path)
    assert bad.exit_code != 0 and "--alt-test-epsilon" in bad.output
