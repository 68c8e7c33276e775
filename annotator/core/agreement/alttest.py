"""The alternative annotator test (alt-test) of Calderon, Reichart and Dror (ACL 2025, arXiv 2501.10970):
can a judge replace one of the annotators?

Per mode, on binary labels, for a judge f and people h_1..h_m:

1. Instances are units the judge labelled and at least two people labelled.
2. Leave one annotator h_j out at a time. On each instance i that h_j labelled, the alignment score
   of the judge, S(f, i, j), is the share of the remaining people who labelled i and gave the judge's
   value (the paper's ACC scoring for categorical labels); S(h_j, i, j) is that of h_j.
3. Indicators W^f_i = [S(f) >= S(h_j)] and W^h_i = [S(h_j) >= S(f)] (a tie counts for both).
   rho^f_j = mean of W^f (the judge's advantage probability against h_j), rho^h_j = mean of W^h.
4. H0: rho^f_j <= rho^h_j - epsilon against H1: rho^f_j > rho^h_j - epsilon, by a one-sided
   one-sample t-test of d_i = W^h_i - W^f_i against epsilon ("less"), which is the paired t-test of
   W^f against W^h - epsilon.
5. The m p-values are corrected by Benjamini-Yekutieli at level q (0.05 in the paper); the winning
   rate omega is the share of annotators whose H0 is rejected; the judge passes when omega >= 0.5.
6. The average advantage probability rho = mean over j of rho^f_j ranks judges (higher is better).

epsilon is the cost-benefit margin: the paper recommends 0.2 when the annotators are experts, 0.15
for skilled annotators (trained students, workers) and 0.1 for crowd workers, and a smaller value when
inter-annotator agreement is low. The paper asks for at least three annotators (with two the test has
no consensus to compare against) and at least 30 instances per annotator (for the t-test's normality
assumption; its reference code skips annotators with fewer); here an annotator with fewer than 30
instances is left out, and the test is not run unless three annotators remain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DEFAULT_EPSILON = 0.2  # the paper's value for expert annotators
DEFAULT_Q = 0.05  # the paper's false-discovery level
MIN_ANNOTATORS = 3
MIN_INSTANCES = 30
PASS_WINNING_RATE = 0.5


@dataclass(frozen=True)
class Annotator:
    """One leave-one-out comparison: the judge against the annotator ``rater``."""

    rater: str
    instances: int
    judge_advantage: float  # rho^f_j
    annotator_advantage: float  # rho^h_j
    p_value: float  # NaN when the t statistic is undefined (no variance and mean d equal to epsilon)
    rejected: bool  # H0 rejected after the Benjamini-Yekutieli correction: the judge wins against rater


@dataclass(frozen=True)
class AltTest:
    winning_rate: float | None
    advantage_probability: float | None
    passed: bool | None
    reason: str | None  # why the test was not run, or which annotators it left out
    annotators: list[Annotator] = field(default_factory=list)


def benjamini_yekutieli(p_values: np.ndarray, q: float) -> np.ndarray:
    """Which hypotheses the Benjamini-Yekutieli step-up procedure rejects at false-discovery level q.

    Sorted p-values p_(1) <= ... <= p_(m); reject the k smallest for the largest k with
    p_(k) <= k q / (m c(m)), c(m) = 1 + 1/2 + ... + 1/m (valid under any dependence). NaN never rejects.
    """
    p = np.where(np.isnan(p_values), np.inf, np.asarray(p_values, dtype=np.float64))
    m = len(p)
    if m == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(p, kind="stable")
    thresholds = np.arange(1, m + 1) / m * q / np.sum(1.0 / np.arange(1, m + 1))
    below = np.flatnonzero(p[order] <= thresholds)
    rejected = np.zeros(m, dtype=bool)
    if below.size:
        rejected[order[: below[-1] + 1]] = True
    return rejected


def _t_test_less(d: np.ndarray, popmean: float) -> float:
    """One-sided one-sample t-test p-value for H1: mean(d) < popmean (as scipy's ttest_1samp).

    No variance gives t = -inf (p = 0) below popmean, +inf (p = 1) above, NaN at popmean, as scipy does.
    """
    # Imported here so that importing the agreement core stays numpy-only (the CLI's start-up time);
    # only a report with a judge and three or more people reaches this.
    from scipy.special import stdtr

    n = len(d)
    sd = float(np.std(d, ddof=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (float(np.mean(d)) - popmean) / (sd / np.sqrt(n))
    return float(stdtr(n - 1, t))


def alt_test(judge: np.ndarray, people: np.ndarray, names: tuple[str, ...] | list[str], *,
             epsilon: float = DEFAULT_EPSILON, q: float = DEFAULT_Q) -> AltTest:
    """The alt-test of one judge on one mode.

    ``judge`` (n,) and ``people`` (n, h) hold 1 present, 0 absent, -1 missing; ``names`` the people.
    """
    labelled = people >= 0
    keep = (judge >= 0) & (labelled.sum(axis=1) >= 2)
    counts = (labelled & keep[:, None]).sum(axis=0)
    present = [j for j in range(people.shape[1]) if counts[j] > 0]
    if len(present) < MIN_ANNOTATORS:
        return AltTest(None, None, None, f"needs at least {MIN_ANNOTATORS} annotators (people) on units the judge "
                                          f"labelled; this mode has {len(present)}")
    short = [j for j in present if counts[j] < MIN_INSTANCES]
    tested = [j for j in present if counts[j] >= MIN_INSTANCES]
    skipped = (f"left out (fewer than {MIN_INSTANCES} instances, the paper's minimum for its t-test): "
               + ", ".join(f"{names[j]} ({counts[j]})" for j in short)) if short else None
    if len(tested) < MIN_ANNOTATORS:
        return AltTest(None, None, None, f"needs at least {MIN_ANNOTATORS} annotators with at least {MIN_INSTANCES} "
                                          f"instances each; {len(tested)} have; {skipped}")
    rows = [_leave_out(judge, people, keep, j, epsilon) for j in tested]
    rejected = benjamini_yekutieli(np.array([p for _, _, _, p in rows]), q)
    annotators = [Annotator(str(names[j]), n, rho_f, rho_h, p, bool(r))
                  for j, (n, rho_f, rho_h, p), r in zip(tested, rows, rejected)]
    winning = float(rejected.mean())
    return AltTest(winning, float(np.mean([a.judge_advantage for a in annotators])), winning >= PASS_WINNING_RATE,
                   skipped, annotators)


def _leave_out(judge: np.ndarray, people: np.ndarray, keep: np.ndarray, j: int,
               epsilon: float) -> tuple[int, float, float, float]:
    """Annotator j left out: (instances, rho^f_j, rho^h_j, p-value)."""
    rows = keep & (people[:, j] >= 0)
    values = people[rows]
    others = values >= 0
    others[:, j] = False
    # The two scores share a denominator (the remaining people on the instance): compare counts.
    judge_agrees = ((values == judge[rows, None]) & others).sum(axis=1)
    held_out_agrees = ((values == values[:, j : j + 1]) & others).sum(axis=1)
    w_judge = judge_agrees >= held_out_agrees
    w_held_out = held_out_agrees >= judge_agrees
    d = w_held_out.astype(np.float64) - w_judge
    return int(rows.sum()), float(w_judge.mean()), float(w_held_out.mean()), _t_test_less(d, epsilon)
