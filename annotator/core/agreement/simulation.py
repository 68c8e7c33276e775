"""Simulated two-rater tables with a known kappa, and the coverage of an interval method on them.

The 2x2 table is a sufficient statistic for every interval of :mod:`.intervals`, so a simulated
dataset is one multinomial draw of (both, a_only, b_only, neither), not a list of units. Used by the
coverage benchmark (benchmarks/bench_coverage.py) and its bounded test, and meant for planning
(how many units give an interval of a given width).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .pairwise import kappa_from_counts

Interval = Callable[..., tuple[np.ndarray, np.ndarray]]


def cell_probabilities(prevalence_a: float, kappa: float, prevalence_b: float | None = None) -> np.ndarray:
    """Probabilities of (both, a_only, b_only, neither) for raters with these prevalences and Cohen's kappa.

    With p_a, p_b the prevalences, chance agreement on "present" is p_a p_b, and kappa fixes
    P(both) = p_a p_b + kappa (p_a (1 - p_b) + p_b (1 - p_a)) / 2. With equal prevalences p this is
    p^2 + kappa p (1 - p), each disagreement cell p (1 - p)(1 - kappa). Raises ValueError when the
    kappa cannot be reached with these prevalences (a cell would be negative).

    >>> cell_probabilities(0.5, 0.5).tolist()
    [0.375, 0.125, 0.125, 0.375]
    """
    pa = float(prevalence_a)
    pb = pa if prevalence_b is None else float(prevalence_b)
    if not (0 < pa < 1 and 0 < pb < 1):
        raise ValueError(f"prevalences must be strictly between 0 and 1, got {pa!r} and {pb!r}")
    both = pa * pb + kappa * (pa * (1 - pb) + pb * (1 - pa)) / 2
    cells = np.array([both, pa - both, pb - both, 1 - pa - pb + both])
    if (cells < -1e-12).any():
        raise ValueError(f"kappa {kappa} is not attainable with prevalences {pa} and {pb}")
    return np.clip(cells, 0.0, None)


def draw_tables(n: int, cells: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """``reps`` datasets of ``n`` units each, as integer tables (reps, 4)."""
    return rng.multinomial(n, np.asarray(cells, dtype=np.float64) / np.sum(cells), size=reps)


def interval_coverage(tables: np.ndarray, interval: Interval, truth: float) -> dict:
    """How often ``interval`` covers ``truth`` on the tables where kappa is defined.

    ``interval(both, a_only, b_only, neither)`` returns (low, high) arrays. It is called once per
    distinct table (tables repeat a lot when n or the prevalence is small) and weighted by count.

    Returns ``{"datasets", "defined", "coverage", "median_width", "zero_width"}``; coverage and
    median_width are None when no dataset has a defined kappa. ``zero_width`` counts datasets with
    a defined kappa whose interval has no width (or is missing).
    """
    tables = np.asarray(tables)
    defined = ~np.isnan(kappa_from_counts(*tables.T))
    distinct, counts = np.unique(tables[defined], axis=0, return_counts=True)
    result: dict[str, int | float | None] = {"datasets": len(tables), "defined": int(defined.sum()),
                                             "coverage": None, "median_width": None, "zero_width": 0}
    if not len(distinct):
        return result
    low, high = (np.asarray(x, dtype=np.float64) for x in interval(*distinct.T))
    width = high - low
    covered = (low <= truth) & (truth <= high)
    result["coverage"] = float((covered * counts).sum() / counts.sum())
    result["median_width"] = float(np.median(np.repeat(np.nan_to_num(width, nan=0.0), counts)))
    result["zero_width"] = int(counts[~(width > 0)].sum())
    return result
