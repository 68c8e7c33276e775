"""How many segments a kappa interval needs: planning by simulation (``annotator plan``).

The report's pair interval (:mod:`.intervals`; by default a Dirichlet-posterior interval widened on
tables with a single informative unit) has no closed-form width, and the large-sample formula
(width = 2 z SE) is far off on rare modes and small n, exactly where planning matters. So the width
is simulated: two raters with the planned prevalence and kappa (:mod:`.simulation`), ``reps``
datasets of n segments, each given its interval by the same method as the report; the figure is the
median width over the datasets where kappa is defined (a dataset without a positive has no kappa).

Searching n: widths are simulated on a fixed geometric grid of n (8 steps per doubling, from 10 to
about a million), each grid point with its own seeded datasets. A coarse look, one point per doubling
from the top down with a third of the datasets, finds the last doubling where the width is still above
the target; the grid is bisected within it for the first point at or below the target, and n is
interpolated on log-log between that point and the one before (width falls roughly as 1/sqrt(n)). At
most 17 coarse and about 5 fine points are simulated, so the run time is bounded (a few seconds at the
default ``reps``). The Monte Carlo error of the median width comes from the
order statistics of the simulated widths (a distribution-free 95% range), and is carried to n through
the local slope of width against n.

Pure: numpy and the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import intervals
from .bootstrap import percentile_interval
from .pairwise import kappa_from_counts, kappa_standard_error
from .simulation import cell_probabilities, draw_tables

GRID_START = 10
STEPS_PER_DOUBLING = 8
MAX_SEGMENTS = 1_000_000
DEFAULT_REPS = 300
# Posterior draws per limit when planning (the report uses intervals.POSTERIOR_DRAWS = 4000): a limit
# moves by about 0.01 at 1,000 draws, noise that the median over hundreds of datasets averages away,
# and planning runs ~10 x reps intervals. tests/test_plan.py checks plans against the report's draws.
PLANNING_DRAWS = 1000
PERCENTILE_RESAMPLES = 1000  # the report's default --bootstrap
DEFAULT_MORE = (50, 100, 200, 500)

TableInterval = Callable[..., tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class WidthEstimate:
    """The simulated interval width at ``n`` segments.

    ``median_width`` is over the ``defined`` datasets (kappa defined) of ``datasets``; ``mc_low`` and
    ``mc_high`` bound the median's Monte Carlo error (95%, from order statistics). None when no dataset
    has a defined kappa.
    """

    n: int
    datasets: int
    defined: int
    median_width: float | None
    mc_low: float | None
    mc_high: float | None


@dataclass(frozen=True)
class Plan:
    """How many segments give a median interval width of at most ``width``.

    ``n`` is None when even ``MAX_SEGMENTS`` are not enough; ``reached_at_start`` says the width is
    reached already at the smallest n tried (``GRID_START``). ``n_low``/``n_high`` carry the Monte
    Carlo range of the median width at ``n`` over to n. ``large_sample_n`` is what the usual
    formula (2 z SE = width) says, for comparison; ``evaluations`` counts simulated grid points.
    """

    prevalence: float
    prevalence_b: float | None
    kappa: float
    width: float
    method: str
    level: float
    reps: int
    n: int | None
    n_low: int | None
    n_high: int | None
    at_n: WidthEstimate | None
    reached_at_start: bool
    large_sample_n: int | None
    evaluations: int


def percentile_from_counts(both, a_only, b_only, neither, *, level: float = 0.95,
                           resamples: int = PERCENTILE_RESAMPLES, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The percentile bootstrap of kappa from tables: resampling n units with replacement is one
    multinomial draw from the table's own proportions, so all tables go at once. Resamples where kappa
    is undefined are left out (:func:`.bootstrap.percentile_interval`, as in the report)."""
    tables = np.stack(np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (both, a_only, b_only, neither))),
                      axis=-1).reshape(-1, 4)
    n = tables.sum(axis=1)
    proportions = tables / np.where(n > 0, n, 1)[:, None]
    draws = np.random.default_rng(seed).multinomial(n.astype(np.int64), proportions, size=(resamples, len(tables)))
    low, high, _ = percentile_interval(kappa_from_counts(*np.moveaxis(draws, -1, 0)), level=level)
    return low, high


def table_interval(method: str, *, level: float = 0.95, seed: int = 0,
                   draws: int = PLANNING_DRAWS) -> TableInterval:
    """The report's pair interval ``method`` as a function of count arrays (both, a_only, b_only, neither)."""
    if method == intervals.DIRICHLET:
        return lambda *cells: intervals.dirichlet_interval(*cells, level=level, seed=seed, draws=draws)
    if method == intervals.GOODNESS_OF_FIT:
        return lambda *cells: intervals.goodness_of_fit_interval(*cells, level=level)
    if method == intervals.PERCENTILE:
        return lambda *cells: percentile_from_counts(*cells, level=level, seed=seed)
    raise ValueError(f"method must be one of {', '.join(intervals.METHODS)}, got {method!r}")


def median_with_error(widths: np.ndarray) -> tuple[float, float, float]:
    """Median of ``widths`` and a distribution-free 95% range for it (binomial order statistics)."""
    ordered = np.sort(widths)
    count = len(ordered)
    half = 1.959964 * math.sqrt(count) / 2
    low = max(0, math.floor(count / 2 - half) - 1)
    high = min(count - 1, math.ceil(count / 2 + half))
    return float(np.median(ordered)), float(ordered[low]), float(ordered[high])


def width_at(n: int, cells: np.ndarray, interval: TableInterval, *, reps: int, seed: int,
             stream: int = 0) -> WidthEstimate:
    """Simulate ``reps`` datasets of ``n`` units with cell probabilities ``cells``; the median interval
    width over those where kappa is defined. Datasets are seeded by (seed, n, stream)."""
    tables = draw_tables(n, cells, reps, np.random.default_rng([seed, n, stream]))
    defined = ~np.isnan(kappa_from_counts(*tables.T))
    if not defined.any():
        return WidthEstimate(n, reps, 0, None, None, None)
    distinct, inverse = np.unique(tables[defined], axis=0, return_inverse=True)
    low, high = interval(*distinct.T)
    widths = (np.asarray(high) - np.asarray(low))[inverse.ravel()]
    widths = widths[~np.isnan(widths)]
    if not len(widths):
        return WidthEstimate(n, reps, int(defined.sum()), None, None, None)
    median, mc_low, mc_high = median_with_error(widths)
    return WidthEstimate(n, reps, int(defined.sum()), median, mc_low, mc_high)


def search_grid() -> np.ndarray:
    """The n tried: GRID_START times 2^(i/8), rounded, up to MAX_SEGMENTS."""
    steps = math.ceil(STEPS_PER_DOUBLING * math.log2(MAX_SEGMENTS / GRID_START))
    grid = np.unique(np.round(GRID_START * 2.0 ** (np.arange(steps + 1) / STEPS_PER_DOUBLING)).astype(np.int64))
    return np.minimum(grid, MAX_SEGMENTS)


def large_sample_segments(cells: np.ndarray, width: float, *, level: float = 0.95) -> int | None:
    """n from the large-sample formula width = 2 z SE(kappa) (Fleiss, Cohen and Everitt 1969)."""
    scale = 1e6  # SE scales as 1/sqrt(n): evaluate at a large n and rescale
    both, a_only, b_only, neither = np.asarray(cells, dtype=np.float64) * scale
    kappa = kappa_from_counts(both, a_only, b_only, neither)
    se = float(kappa_standard_error(both, a_only, b_only, neither, kappa)) * math.sqrt(scale)
    if math.isnan(se) or se == 0:
        return None
    return math.ceil((2 * intervals.normal_quantile(1 - (1 - level) / 2) * se / width) ** 2)


def _check(width: float, level: float, reps: int) -> None:
    if not 0 < width < 2:
        raise ValueError(f"width must be between 0 and 2 (kappa lies in [-1, 1]), got {width!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    if reps < 50:
        raise ValueError(f"reps must be at least 50, got {reps!r}")


def segments_for_width(prevalence: float, kappa: float, width: float, *, prevalence_b: float | None = None,
                       method: str = intervals.DEFAULT_METHOD, level: float = 0.95, reps: int = DEFAULT_REPS,
                       seed: int = 0) -> Plan:
    """The number of segments whose 95% interval (``method``) has a median width of at most ``width``,
    for two raters with prevalence ``prevalence`` (and ``prevalence_b`` for the second, if different)
    and Cohen's kappa ``kappa``. Raises ValueError for a kappa those prevalences cannot reach."""
    _check(width, level, reps)
    cells = cell_probabilities(prevalence, kappa, prevalence_b)
    interval = table_interval(method, level=level, seed=seed)
    grid = search_grid()
    seen: dict[tuple[int, int], WidthEstimate] = {}

    def wide(i: int, sims: int = reps) -> bool:
        """The median width at grid point i is above the target (or undefined: no information)."""
        if (i, sims) not in seen:
            seen[i, sims] = width_at(int(grid[i]), cells, interval, reps=sims, seed=seed)
        median = seen[i, sims].median_width
        return median is None or median > width

    def plan(n: int | None, at_n: WidthEstimate | None, n_range: tuple[int | None, int | None] = (None, None),
             *, at_start: bool = False) -> Plan:
        return Plan(prevalence, prevalence_b, kappa, width, method, level, reps, n, *n_range, at_n, at_start,
                    large_sample_segments(cells, width, level=level), len(seen))

    top = len(grid) - 1
    if wide(top):
        return plan(None, seen[top, reps])
    low = _last_wide_doubling(wide, top, max(50, reps // 3))
    if low is None:
        low = 0  # narrow at every doubling: confirm at the start with the full datasets below
    high = min(low + STEPS_PER_DOUBLING, top)
    while low > 0 and not wide(low):  # the coarse look was noisy: step down a doubling
        low, high = max(0, low - STEPS_PER_DOUBLING), low
    while high < top and wide(high):
        low, high = high, min(high + STEPS_PER_DOUBLING, top)
    if not wide(low):
        return plan(int(grid[0]), seen[0, reps], (int(grid[0]),) * 2, at_start=True)
    while high - low > 1:  # wide(low) and not wide(high)
        mid = (low + high) // 2
        low, high = (mid, high) if wide(mid) else (low, mid)
    n, slope = _interpolate(seen[low, reps], seen[high, reps], width)
    at_n = width_at(n, cells, interval, reps=reps, seed=seed, stream=1)
    return plan(n, at_n, _n_range(n, at_n, width, slope))


def _last_wide_doubling(wide: Callable[[int, int], bool], top: int, sims: int) -> int | None:
    """From the top of the grid down, one point per doubling with ``sims`` datasets: the first (largest
    n) still wide, or None. Top-down because widths need not fall with n at small n (the percentile
    bootstrap gives zero-width intervals on tiny tables): the plan is the n beyond which it stays narrow."""
    for i in range(top - STEPS_PER_DOUBLING, -1, -STEPS_PER_DOUBLING):
        if wide(i, sims):
            return i
    return None


def _interpolate(before: WidthEstimate, after: WidthEstimate, width: float) -> tuple[int, float]:
    """n where the width crosses ``width``, on log-log between two grid points, and the local slope
    d log(width) / d log(n) (-1/2 for a width that falls as 1/sqrt(n); used when the two are equal)."""
    if before.median_width is None or after.median_width is None or before.median_width <= after.median_width:
        return after.n, -0.5
    log_n = np.log([before.n, after.n])
    log_w = np.log([before.median_width, after.median_width])
    slope = float((log_w[1] - log_w[0]) / (log_n[1] - log_n[0]))
    n = math.exp(log_n[0] + (math.log(width) - log_w[0]) / slope)
    return min(max(math.ceil(n), before.n + 1), after.n), slope


def _n_range(n: int, at_n: WidthEstimate, width: float, slope: float) -> tuple[int | None, int | None]:
    """The n range implied by the Monte Carlo range of the median width at n: if the true width at n
    were w, the target would be met at n (width / w)^(1 / slope)."""
    if at_n.mc_low is None or at_n.mc_high is None or at_n.mc_low <= 0 or slope >= 0:
        return None, None
    ends = sorted(n * (width / w) ** (1 / slope) for w in (at_n.mc_low, at_n.mc_high))
    return math.floor(ends[0]), math.ceil(ends[1])


def planning_cells(table: Sequence[float]) -> np.ndarray:
    """Cell probabilities to project from a 2x2 table of labels so far: (counts + 1/2) / (n + 2), so an
    empty disagreement cell is not taken for proof of perfect agreement (the Jeffreys prior's pseudo-counts)."""
    counts = np.asarray(table, dtype=np.float64) + 0.5
    return counts / counts.sum()


def project_widths(table: Sequence[float], more: Sequence[int] = DEFAULT_MORE, *,
                   method: str = intervals.DEFAULT_METHOD, level: float = 0.95, reps: int = DEFAULT_REPS,
                   seed: int = 0) -> list[WidthEstimate]:
    """The expected median interval width after ``more`` segments (each labelled by both raters) on top
    of the ``n`` of ``table`` (both, a_only, b_only, neither), for each number in ``more``; the raters are
    assumed to go on as so far (:func:`planning_cells`)."""
    _check(1.0, level, reps)
    if any(k < 0 for k in more):
        raise ValueError("numbers of further segments must be non-negative")
    cells = planning_cells(table)
    interval = table_interval(method, level=level, seed=seed)
    n = int(round(float(np.sum(table))))
    return [width_at(n + int(k), cells, interval, reps=reps, seed=seed) for k in more]
