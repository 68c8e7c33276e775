"""Confidence intervals for Cohen's kappa from 2x2 counts, vectorised over any number of tables.

Every function takes count arrays ``both, a_only, b_only, neither`` of one shape and returns float
arrays of that shape (low, high), NaN where kappa is undefined (both raters constant on the same
value, or no unit): an undefined kappa has no interval, never [0, 0] or [1, 1].

Methods (``METHODS``), chosen by measured coverage (benchmarks/bench_coverage.py, BENCHMARKS.md):

``dirichlet`` (the default)
    Each limit is a quantile of kappa under a Dirichlet posterior of the four cell probabilities.
    The lower limit (2.5%) uses the pseudo-counts 1/2 on each agreement cell (both present, both
    absent) and 3/8 on each disagreement cell; the upper limit (97.5%) 0.4 and 1/4. Lower limits
    are set by how many disagreements may have gone unseen, so they get the heavier disagreement
    prior (a table without disagreement must not give an overconfident lower limit, the weakness
    of the Jeffreys prior of the agreement trinomial); upper limits the lighter one (the Jeffreys
    prior of the 2x2 table, 1/2 everywhere, puts too much weight on disagreement and misses high
    kappas on rare modes); the slightly lighter agreement weight of the upper limit trims the
    over-coverage of rare modes. The weights were chosen by simulated coverage (BENCHMARKS.md)
    between these two Jeffreys priors. A table with a single informative unit (one unit where
    either rater said present, or, for a mode present almost everywhere, one where either said
    absent) cannot tell chance agreement from perfect agreement: its interval is widened to
    contain [0, 1]. Every interval contains the point estimate (with no disagreement, it reaches 1).
``goodness-of-fit``
    Donner & Eliasziw (1992): the kappas whose fitted (both, one, neither) counts under the common
    correlation model pass a chi-square goodness-of-fit test with 1 degree of freedom. It is an
    interval for the intraclass kappa (equal marginals), close to Cohen's when the raters' marginals
    agree; it under-covers when positives are very few.
``percentile``
    The percentile bootstrap of :mod:`.bootstrap` (computed there; listed here for the option).

Only numpy: the normal quantile (for the chi-square critical value) is a bisection on ``math.erf``
and the goodness-of-fit limits a bisection on a convex function, so scipy is not needed at runtime.
"""

from __future__ import annotations

import math

import numpy as np

DIRICHLET = "dirichlet"
GOODNESS_OF_FIT = "goodness-of-fit"
PERCENTILE = "percentile"
METHODS = (DIRICHLET, GOODNESS_OF_FIT, PERCENTILE)
DEFAULT_METHOD = DIRICHLET

# Dirichlet pseudo-counts (each agreement cell, the two disagreement cells together) for each limit.
LOWER_LIMIT_PRIOR = (0.5, 0.75)
UPPER_LIMIT_PRIOR = (0.4, 0.5)
DEFAULT_PRIOR = (LOWER_LIMIT_PRIOR, UPPER_LIMIT_PRIOR)
POSTERIOR_DRAWS = 4000  # Monte Carlo error of a limit ~0.002 on a wide interval, far below its width
UNINFORMATIVE_WIDTH = 0.5  # flag `uninformative` (pairwise.pair_flags): wider than half of chance (0) to perfect (1)
_BISECTIONS = 60  # halvings of a bracket of width <= 2: limits exact to float precision


def normal_quantile(p: float) -> float:
    """The standard normal quantile, by bisection on ``math.erf`` (exact to ~1e-15).

    >>> round(normal_quantile(0.975), 6)
    1.959964
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be strictly between 0 and 1, got {p!r}")
    low, high = -40.0, 40.0
    for _ in range(200):
        mid = (low + high) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-15:
            break
    return (low + high) / 2


def _cells(both, a_only, b_only, neither) -> np.ndarray:
    """The counts stacked on a last axis of 4, as float64."""
    return np.stack(np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (both, a_only, b_only, neither))),
                    axis=-1)


def _kappa_of_cells(cells: np.ndarray) -> np.ndarray:
    """Cohen's kappa of cell counts or probabilities (..., 4); scale-free, NaN where undefined."""
    a, b, c, d = (cells[..., i] for i in range(4))
    denominator = (a + b) * (b + d) + (a + c) * (c + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, 2.0 * (a * d - b * c) / denominator, np.nan)


def informative_units(both, a_only, b_only, neither) -> np.ndarray:
    """Units that carry information on agreement: those where either rater said present (or, when
    that is the majority, those where either said absent), i.e. min(both + one, one + neither)."""
    cells = _cells(both, a_only, b_only, neither)
    one = cells[..., 1] + cells[..., 2]
    return np.minimum(cells[..., 0] + one, one + cells[..., 3])


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")


Prior = tuple[tuple[float, float], tuple[float, float]]


def _posterior_limits(cells: np.ndarray, *, prior: Prior, level: float, draws: int, seed: int) -> tuple[float, float]:
    """Lower and upper limit for one table of integer counts (4,).

    The generator is seeded by (seed, counts), so a table's interval depends on nothing else in the
    report. Gamma draws divided by their sum are Dirichlet draws; kappa is scale-free, so the sum
    is not needed.
    """
    rng = np.random.default_rng([int(seed), *(int(x) for x in cells)])
    tail = (1 - level) / 2
    limits = []
    for (agreement, disagreement), quantile in zip(prior, (tail, 1 - tail)):
        pseudo = np.array([agreement, disagreement / 2, disagreement / 2, agreement])
        kappa = _kappa_of_cells(rng.standard_gamma(cells + pseudo, size=(draws, 4)))
        limits.append(float(np.quantile(kappa, quantile)))
    return limits[0], limits[1]


def dirichlet_interval(both, a_only, b_only, neither, *, level: float = 0.95, draws: int = POSTERIOR_DRAWS,
                       seed: int = 0, prior: Prior = DEFAULT_PRIOR,
                       widen: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The default interval (see the module docstring), for every table of the input shape.

    Parameters
    ----------
    both, a_only, b_only, neither : array_like of non-negative integers, one shape
    level : float, default 0.95
    draws : int, default ``POSTERIOR_DRAWS``
        Posterior draws per table and limit.
    seed : int, default 0
        With the counts, seeds each table's draws: equal tables get equal intervals.
    prior : ((agreement, disagreement), (agreement, disagreement)), default ``DEFAULT_PRIOR``
        For the lower and the upper limit: the pseudo-count on each agreement cell and the total on
        the two disagreement cells (split evenly). The candidates of BENCHMARKS.md include
        ((1/2, 1), (1/2, 1)), the Jeffreys prior of the 2x2 table, and ((1/2, 1/2), (1/2, 1/2)),
        that of the (both, one, neither) trinomial, both with ``widen=False``.
    widen : bool, default True
        Widen to contain [0, 1] when the table has a single informative unit, and always to contain
        the point estimate (a table without disagreement has kappa 1 and an upper limit of 1).

    Returns
    -------
    (low, high) : ndarrays of the input shape; NaN where kappa is undefined.

    Examples
    --------
    A single unit marked by both raters out of 20 says little: the interval contains [0, 1].

    >>> low, high = dirichlet_interval(1, 0, 0, 19)
    >>> float(low) <= 0.0 and float(high) == 1.0
    True
    """
    _check_level(level)
    if draws < 100:
        raise ValueError(f"draws must be at least 100, got {draws!r}")
    cells = _cells(both, a_only, b_only, neither)
    if (cells < 0).any() or (cells != np.round(cells)).any():
        raise ValueError("counts must be non-negative integers")
    flat = cells.reshape(-1, 4)
    low, high = np.full(len(flat), np.nan), np.full(len(flat), np.nan)
    defined = ~np.isnan(_kappa_of_cells(flat))
    tables, inverse = np.unique(flat[defined], axis=0, return_inverse=True)
    limits = np.array([_posterior_limits(t, prior=prior, level=level, draws=draws, seed=seed)
                       for t in tables]).reshape(-1, 2)
    low[defined], high[defined] = limits[inverse.ravel(), 0], limits[inverse.ravel(), 1]
    if widen:
        single = informative_units(*flat.T) <= 1
        estimate = _kappa_of_cells(flat)
        low = np.fmin(np.where(single, np.fmin(low, 0.0), low), estimate)
        high = np.fmax(np.where(single, 1.0, high), estimate)
        low[~defined], high[~defined] = np.nan, np.nan
    return low.reshape(cells.shape[:-1]), high.reshape(cells.shape[:-1])


def _trinomial(cells: np.ndarray):
    """(n1, n2, n3, n, pi): both, one, neither, total, and the pooled prevalence (2 n1 + n2) / 2n."""
    n1, n2, n3 = cells[..., 0], cells[..., 1] + cells[..., 2], cells[..., 3]
    n = n1 + n2 + n3
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = (2 * n1 + n2) / (2 * n)
    return n1, n2, n3, n, pi


def goodness_of_fit_statistic(n1, n2, n3, pi, kappa) -> np.ndarray:
    """Pearson's chi-square of (n1, n2, n3) against the common correlation model at (pi, kappa).

    Expected proportions: both pi^2 + kappa pi(1-pi), one 2 pi(1-pi)(1-kappa), neither
    (1-pi)^2 + kappa pi(1-pi). A cell expected at 0 adds 0 when empty and infinity when not.
    """
    q = pi * (1 - pi)
    n = n1 + n2 + n3
    total = np.zeros(np.broadcast(n1, pi, kappa).shape)
    for observed, share in ((n1, pi * pi + kappa * q), (n2, 2 * q * (1 - kappa)), (n3, (1 - pi) ** 2 + kappa * q)):
        expected = n * share
        with np.errstate(divide="ignore", invalid="ignore"):
            term = (observed - expected) ** 2 / expected
        total = total + np.where(expected > 0, term, np.where(observed > 0, np.inf, 0.0))
    return total


def _boundary(inside, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Bisection for the point where ``inside`` turns False between ``start`` (inside) and ``end``."""
    for _ in range(_BISECTIONS):
        mid = (start + end) / 2
        keep = inside(mid)
        start, end = np.where(keep, mid, start), np.where(keep, end, mid)
    return (start + end) / 2


def goodness_of_fit_interval(both, a_only, b_only, neither, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Donner & Eliasziw (1992) goodness-of-fit interval, for every table of the input shape.

    The statistic is convex in kappa (a sum of (O - E)^2 / E over expectations linear in kappa) and
    0 at the intraclass estimate 1 - n2 / (2 n pi (1 - pi)), so each limit is found by bisection
    between the estimate and the end of the admissible range [max(-pi/(1-pi), -(1-pi)/pi), 1].
    Returns (low, high), NaN where kappa is undefined.
    """
    _check_level(level)
    n1, n2, n3, n, pi = _trinomial(_cells(both, a_only, b_only, neither))
    defined = (n > 0) & (pi > 0) & (pi < 1)
    pi = np.where(defined, pi, 0.5)
    q = pi * (1 - pi)
    critical = normal_quantile(1 - (1 - level) / 2) ** 2  # chi-square, 1 df
    estimate = np.where(defined, 1 - n2 / (2 * np.where(defined, n, 1) * q), 0.0)
    lowest = np.maximum(-pi / (1 - pi), -(1 - pi) / pi)

    def inside(kappa):
        return goodness_of_fit_statistic(n1, n2, n3, pi, kappa) <= critical

    ones = np.ones_like(pi)
    high = np.where(inside(ones), 1.0, _boundary(inside, estimate, ones))
    low = np.where(inside(lowest), lowest, _boundary(inside, estimate, lowest))
    return np.where(defined, low, np.nan), np.where(defined, high, np.nan)


def kappa_interval(both, a_only, b_only, neither, *, method: str = DEFAULT_METHOD, level: float = 0.95,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The interval of ``method`` ("dirichlet" or "goodness-of-fit"; the percentile bootstrap needs
    the units, not the counts, and lives in :mod:`.bootstrap`)."""
    if method == DIRICHLET:
        return dirichlet_interval(both, a_only, b_only, neither, level=level, seed=seed)
    if method == GOODNESS_OF_FIT:
        return goodness_of_fit_interval(both, a_only, b_only, neither, level=level)
    raise ValueError(f"kappa_interval computes {DIRICHLET!r} or {GOODNESS_OF_FIT!r}, not {method!r}")
