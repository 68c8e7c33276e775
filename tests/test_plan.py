"""`annotator plan` (issue 10, item 7): the planned n gives intervals of the planned width.

Each check simulates independently of the planner: its own multinomial tables from the cell
probabilities written out here, the report's own interval (default posterior draws, not the
planner's), and a tolerance from the Monte Carlo error of both medians (order statistics).
"""

import json
import math

import numpy as np
import pytest
from helpers import run_cli
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa

from annotator import store
from annotator.core.agreement import intervals, planning
from annotator.core.taxonomy import load_taxonomy

Z = 1.959964


def equal_marginal_cells(p: float, k: float) -> np.ndarray:
    """Two raters with prevalence p and kappa k: both p^2 + k p(1-p), each disagreement p(1-p)(1-k)."""
    q = p * (1 - p)
    return np.array([p * p + k * q, q * (1 - k), q * (1 - k), (1 - p) ** 2 + k * q])


def independent_median_width(n: int, cells: np.ndarray, *, datasets: int, seed: int) -> tuple[float, float]:
    """Median interval width (the report's dirichlet interval) over datasets with a defined kappa, and its
    Monte Carlo standard error from the order statistics around the median."""
    tables = np.random.default_rng(seed).multinomial(n, cells / cells.sum(), size=datasets)
    a, b, c, d = tables.T
    defined = (a + b) * (b + d) + (a + c) * (c + d) > 0
    low, high = intervals.dirichlet_interval(*tables[defined].T)
    widths = np.sort(high - low)
    m = len(widths)
    lo, hi = widths[math.floor(m / 2 - Z * math.sqrt(m) / 2)], widths[math.ceil(m / 2 + Z * math.sqrt(m) / 2)]
    return float(np.median(widths)), float(hi - lo) / (2 * Z)


def plan_se(plan) -> float:
    return (plan.at_n.mc_high - plan.at_n.mc_low) / (2 * Z)


@pytest.mark.parametrize(("p", "k", "w"), [(0.15, 0.5, 0.4), (0.05, 0.6, 0.5)])
def test_planned_n_gives_the_planned_width(p, k, w):
    plan = planning.segments_for_width(p, k, w, seed=3)
    assert plan.n is not None and not plan.reached_at_start and plan.n_low <= plan.n <= plan.n_high
    median, se = independent_median_width(plan.n, equal_marginal_cells(p, k), datasets=400, seed=987)
    # Three combined standard errors of the two medians, plus the change of width from one more or one
    # fewer segment (width ~ 1/sqrt(n): relative change 1/(2n)).
    tolerance = 3 * math.hypot(se, plan_se(plan)) + w / (2 * plan.n)
    assert abs(median - w) <= tolerance, (plan.n, median, tolerance)
    # and n is not absurdly conservative: a third fewer segments give clearly wider intervals
    fewer, se_fewer = independent_median_width(int(plan.n * 2 / 3), equal_marginal_cells(p, k), datasets=200,
                                               seed=988)
    assert fewer > w + 3 * se_fewer


def test_planned_n_falls_as_the_width_grows():
    ns = [planning.segments_for_width(0.15, 0.5, w, seed=1, reps=150).n for w in (0.3, 0.45, 0.6)]
    assert all(a > b for a, b in zip(ns, ns[1:])), ns
    fine = [planning.segments_for_width(0.1, 0.6, w, method="goodness-of-fit", seed=1).n
            for w in np.arange(0.15, 0.85, 0.1)]
    assert all(a > b for a, b in zip(fine, fine[1:])), fine


def test_large_sample_formula_and_its_agreement_where_it_holds():
    """Prevalence 40%, a narrow interval: hundreds of segments, where 2 z SE describes the interval."""
    p, k, w = 0.4, 0.5, 0.15
    cells = equal_marginal_cells(p, k)
    scale = 1e6
    se1 = cohens_kappa((cells * scale).reshape(2, 2)).std_kappa * math.sqrt(scale)
    formula_n = (2 * Z * se1 / w) ** 2
    plan = planning.segments_for_width(p, k, w, method="goodness-of-fit", seed=2)
    assert plan.large_sample_n == pytest.approx(formula_n, abs=1)
    assert plan.n == pytest.approx(formula_n, rel=0.1)


def test_unreachable_and_trivial_targets():
    assert planning.segments_for_width(0.01, 0.5, 0.001, seed=0).n is None
    trivial = planning.segments_for_width(0.4, 0.5, 1.5, seed=0)
    assert trivial.reached_at_start and trivial.n == planning.GRID_START
    with pytest.raises(ValueError, match="not attainable"):
        planning.segments_for_width(0.05, 0.99, 0.3, prevalence_b=0.5)


def test_percentile_plan_is_not_fooled_by_zero_width_intervals_on_tiny_tables():
    """The percentile bootstrap's median width is small at 10 segments (degenerate tables), then rises:
    the plan is the n beyond which the width stays below the target."""
    plan = planning.segments_for_width(0.15, 0.5, 0.4, method="percentile", seed=0)
    assert plan.n > 50 and plan.at_n.median_width == pytest.approx(0.4, abs=0.03)


def test_cli_plan_text_and_json():
    result = run_cli("plan", "--prevalence", "0.15", "--kappa", "0.5", "--width", "0.4", "--ci", "goodness-of-fit",
                     "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["method"] == "goodness-of-fit" and document["n"] > 50 and document["at_n"]["median_width"]
    text = run_cli("plan", "--prevalence", "0.15", "--kappa", "0.5", "--width", "0.4", "--ci", "goodness-of-fit")
    assert f"{document['n']:,} segments (Monte Carlo range" in text.stdout
    for args in (["--prevalence", "0.1"], ["--from-db", "--kappa", "0.3"], [],
                 ["--prevalence", "1.5", "--kappa", "0.5", "--width", "0.3"],
                 ["--prevalence", "0.1", "--kappa", "1", "--width", "0.3"]):
        bad = run_cli("plan", *args)
        assert bad.exit_code != 0


def test_cli_choices_are_the_interval_methods():
    from annotator.cli.plan import plan

    option = next(p for p in plan.params if p.name == "ci_method")
    assert tuple(option.type.choices) == intervals.METHODS and option.default == intervals.DEFAULT_METHOD


# What two raters said so far on 60 segments (mode 1.1): both 8, ana only 4, ben only 3, neither 45.
TABLE = (8, 4, 3, 45)


@pytest.fixture
def labelled_db(tmp_path):
    path = tmp_path / "plan.db"
    db = store.connect(path)
    tax = store.get_taxonomy_by_id(db, store.save_taxonomy(db, load_taxonomy("mast")))
    pairs = [(1, 1)] * TABLE[0] + [(1, 0)] * TABLE[1] + [(0, 1)] * TABLE[2] + [(0, 0)] * TABLE[3]
    with store.write(db):
        ana, ben = store.ensure_rater(db, "ana", "human"), store.ensure_rater(db, "ben", "human")
        judge = store.ensure_rater(db, "judge:m@1", "judge")
        for i, (a, b) in enumerate(pairs):
            trace_id, _ = store.insert_trace(db, store.TraceInput(f"t{i}", f"trace {i}", "test", "text", segments=[
                store.SegmentInput("trace", 0, "trace", 0, 7)]))
            segment = store.trace_segment_id(db, trace_id)
            for rater, value in ((ana, a), (ben, b), (judge, 1 - a)):
                store.write_labels(db, store.LabelWrite(segment, rater, tax.id,
                                                        {tax.mode_ids["1.1"]: value, tax.mode_ids["2.1"]: 0}))
    db.conn.close()
    return path, pairs


def test_from_db_projects_the_people_pair(labelled_db):
    path, pairs = labelled_db
    result = run_cli("plan", "--from-db", "--db", str(path), "--more", "0,100", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["raters"] == ["ana", "ben"]  # the judge is not one of the people
    by_code = {m["code"]: m for m in document["modes"]}
    mode = by_code["1.1"]
    assert mode["n"] == 60 and mode["pairs"] == 1
    assert mode["kappa"] == pytest.approx(cohen_kappa_score([a for a, _ in pairs], [b for _, b in pairs]))
    low, high = intervals.dirichlet_interval(*TABLE)
    assert mode["width_now"] == pytest.approx(float(high - low))
    now, later = mode["projected"]
    assert (now["n"], later["n"]) == (60, 160) and later["median_width"] < now["median_width"]
    # Independently: tables of 160 segments from (counts + 1/2) / (n + 2), the report's interval.
    cells = (np.array(TABLE) + 0.5) / (60 + 2)
    median, se = independent_median_width(160, cells, datasets=400, seed=55)
    planner_se = (later["mc_high"] - later["mc_low"]) / (2 * Z)
    assert abs(later["median_width"] - median) <= 3 * math.hypot(se, planner_se)
    assert by_code["2.1"]["projected"] == [] and "undefined" in by_code["2.1"]["reason"]
    text = run_cli("--db", str(path), "plan", "--from-db", "--mode", "1.1")
    assert text.exit_code == 0 and "1.1" in text.stdout and "2.1" not in text.stdout.split("\n", 2)[2]
    assert run_cli("--db", str(path), "plan", "--from-db", "--mode", "9.9").exit_code == 1
