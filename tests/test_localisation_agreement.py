"""Localisation agreement, checked against scikit-learn (kappa) and formulas written out here."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from annotator.core.agreement.localisation import (
    Point,
    localisation_section,
    pair_agreement,
    reference_accuracy,
)

AGENTS = ["Orchestrator", "WebSurfer", "Coder", "FileSurfer"]


def _random_answers(seed: int, n: int = 60) -> tuple[dict, dict]:
    rng = random.Random(seed)
    a, b = {}, {}
    for t in range(n):
        step = rng.randrange(20)
        agent = rng.choice(AGENTS)
        a[f"t{t}"] = Point(step, agent, steps=frozenset({step} | ({rng.randrange(20)} if rng.random() < .3 else set())))
        if rng.random() < 0.1:
            b[f"t{t}"] = Point(None)
        elif rng.random() < 0.9:
            other_step = max(0, step + rng.choice([-3, -1, 0, 0, 0, 1, 2, 5]))
            other_agent = agent if rng.random() < 0.7 else rng.choice(AGENTS)
            b[f"t{t}"] = Point(other_step, other_agent, steps=frozenset({other_step}))
    return a, b


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_pair_figures_match_formulas_and_sklearn(seed):
    a, b = _random_answers(seed)
    k = 2
    got = pair_agreement(a, b, k=k, n_resamples=0)
    common = [t for t in a if t in b]
    both = [t for t in common if a[t].step is not None and b[t].step is not None]
    assert got["traces"] == len(common) and got["n"] == len(both)
    assert got["b_only_no_error"] == sum(b[t].step is None for t in common)
    agents_a = [a[t].agent for t in both]
    agents_b = [b[t].agent for t in both]
    assert got["agent_accuracy"]["value"] == pytest.approx(np.mean([x == y for x, y in zip(agents_a, agents_b)]))
    assert got["agent_kappa"]["value"] == pytest.approx(cohen_kappa_score(agents_a, agents_b))
    diffs = [b[t].step - a[t].step for t in both]
    assert got["step_exact"]["value"] == pytest.approx(sum(d == 0 for d in diffs) / len(diffs))
    assert got["step_within_1"]["value"] == pytest.approx(sum(abs(d) <= 1 for d in diffs) / len(diffs))
    assert got["step_within_k"]["value"] == pytest.approx(sum(abs(d) <= k for d in diffs) / len(diffs))
    assert sum(got["offsets"].values()) == len(both)
    assert got["offsets"].get("0", 0) == diffs.count(0)
    multi = [t for t in both if len(a[t].steps) > 1 or len(b[t].steps) > 1]
    jaccard = [len(a[t].steps & b[t].steps) / len(a[t].steps | b[t].steps) for t in multi]
    assert got["multi_failure_traces"] == len(multi)
    assert got["failure_set_overlap"]["value"] == pytest.approx(np.mean(jaccard))


def test_worked_example_by_hand():
    a = {"x": Point(3, "A"), "y": Point(5, "B"), "z": Point(1, "A"), "w": Point(None)}
    b = {"x": Point(3, "A"), "y": Point(6, "A"), "z": Point(4, "A"), "w": Point(2, "B")}
    got = pair_agreement(a, b, k=3, n_resamples=0)
    assert (got["traces"], got["n"], got["a_only_no_error"], got["error_agreement"]) == (4, 3, 1, 0.75)
    assert got["agent_accuracy"]["value"] == pytest.approx(2 / 3)
    # kappa: po = 2/3; a says A twice, B once; b says A three times: pe = (2*3 + 1*0) / 9 = 2/3 -> 0.
    assert got["agent_kappa"]["value"] == pytest.approx(0.0)
    assert got["step_exact"]["value"] == pytest.approx(1 / 3)
    assert got["step_within_1"]["value"] == pytest.approx(2 / 3)
    assert got["step_within_k"]["value"] == pytest.approx(1.0)
    assert got["offsets"] == {"0": 1, "1": 1, "3": 1}
    assert got["failure_set_overlap"]["value"] is None  # no trace with several failures: undefined


def test_undefined_is_none():
    same = {"x": Point(1, "A"), "y": Point(2, "A")}
    got = pair_agreement(same, dict(same), n_resamples=50)
    assert got["agent_accuracy"]["value"] == 1.0
    assert got["agent_kappa"] == {"value": None, "ci_low": None, "ci_high": None}  # one agent throughout
    nothing = pair_agreement({"x": Point(None)}, {"x": Point(None)}, n_resamples=50)
    assert nothing["n"] == 0 and nothing["step_exact"]["value"] is None and nothing["error_agreement"] == 1.0


def test_interval_by_trace_resampling_matches_a_hand_bootstrap():
    a, b = _random_answers(7)
    got = pair_agreement(a, b, n_resamples=400, seed=11)
    both = sorted(t for t in a if t in b and b[t].step is not None)  # traces in key order, as resampled
    hits = np.array([a[t].step == b[t].step for t in both], dtype=float)
    # The same draws as annotator's bootstrap (numpy default_rng(seed), integers per resample row).
    rng = np.random.default_rng(11)
    draws = rng.integers(0, len(hits), size=(400, len(hits)))
    means = hits[draws].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    assert got["step_exact"]["ci_low"] == pytest.approx(low)
    assert got["step_exact"]["ci_high"] == pytest.approx(high)
    assert got["step_exact"]["ci_low"] <= got["step_exact"]["value"] <= got["step_exact"]["ci_high"]


def test_who_and_when_accuracy_counts_misses():
    reference = {"1": Point(3, "Orchestrator"), "2": Point(5, "WebSurfer"), "3": Point(0, "Coder"),
                 "4": Point(2, "Coder"), "5": Point(None)}
    judge = {"1": Point(3, "Orchestrator"), "2": Point(4, "WebSurfer"), "3": Point(None), "5": Point(1, "Coder")}
    got = reference_accuracy(reference, judge, n_resamples=0)
    # 4 localised reference traces: agent right on 1 and 2; step right on 1; 3 said no error; 4 missing.
    assert (got["n"], got["missing"], got["said_no_error"]) == (4, 1, 1)
    assert got["agent_accuracy"]["value"] == pytest.approx(2 / 4)
    assert got["step_accuracy"]["value"] == pytest.approx(1 / 4)


def test_section_pairs_and_references():
    ref = {"1": Point(3, "A"), "2": Point(1, "B")}
    ann = {"1": Point(3, "A"), "2": Point(2, "B")}
    bob = {"3": Point(0, "A")}
    section = localisation_section({"ann": ann, "bob": bob, "who-and-when": ref},
                                   {"ann": "human", "bob": "human", "who-and-when": "reference"}, k=2,
                                   n_resamples=20)
    assert [(p["a"], p["b"]) for p in section["pairs"]] == [("ann", "who-and-when")]  # bob shares no trace
    assert [(r["reference"], r["rater"]) for r in section["against_reference"]] == [
        ("who-and-when", "ann"), ("who-and-when", "bob")]
    assert section["against_reference"][1]["missing"] == 2
    # bob answered none of the reference's traces: never asked is undefined, not a score of 0.
    bob_row = section["against_reference"][1]
    for figure in ("agent_accuracy", "step_accuracy"):
        assert bob_row[figure] == {"value": None, "ci_low": None, "ci_high": None}
    assert section["against_reference"][0]["agent_accuracy"]["value"] == 1.0
    assert section["k"] == 2 and section["params"]["resample"] == "trace"
