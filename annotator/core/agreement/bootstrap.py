"""Seeded percentile bootstrap over units, for every mode and rater pair at once.

A resample draws n units with replacement. Rather than materialise n x resamples label copies,
each resample is a weight vector (how often each unit was drawn), and the resampled 2x2 counts
of every (mode, pair, cell) are one matrix product: weights (resamples x n) @ indicators
(n x columns). Resamples are processed in chunks sized so that the weight matrix stays at about
a fixed number of elements: memory grows with the data, not with data x resamples.

Every (mode, pair) sees the SAME resampled units in a given resample, so labels of a unit move
together, and pooled or averaged statistics can be bootstrapped from the same draws.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

CHUNK_ELEMENTS = 2**20  # weight-matrix elements per chunk (4 MB in float32, ~16 MB of temporaries)
FLOAT32_EXACT = 2**24  # integer counts up to this are exact in float32


def resample_weights(
    n_units: int,
    n_resamples: int,
    *,
    seed: int,
    groups: np.ndarray | None = None,
    chunk_elements: int = CHUNK_ELEMENTS,
) -> Iterator[np.ndarray]:
    """Yield weight chunks (c, n_units): how many times each unit is drawn in each resample.

    With ``groups`` (an integer group index per unit), whole groups are drawn with replacement
    (a cluster bootstrap: every unit of a drawn group comes along), e.g. segments of a trace.
    The draws depend only on (seed, n_units, groups, n_resamples), never on the statistics.
    """
    rng = np.random.default_rng(seed)
    n_draw = n_units if groups is None else int(groups.max()) + 1
    dtype = np.float32 if n_units < FLOAT32_EXACT else np.float64
    chunk = max(1, min(n_resamples, chunk_elements // max(n_draw, 1)))
    for start in range(0, n_resamples, chunk):
        rows = min(chunk, n_resamples - start)
        draws = rng.integers(0, n_draw, size=(rows, n_draw))
        # bincount on row-offset indices counts every row's draws in one pass.
        draws += (np.arange(rows) * n_draw)[:, None]
        counts = np.bincount(draws.ravel(), minlength=rows * n_draw).reshape(rows, n_draw)
        del draws
        if groups is not None:
            counts = counts[:, groups]
        yield counts.astype(dtype, copy=False)


def bootstrap(
    indicators: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    n_resamples: int,
    seed: int,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Evaluate ``statistic`` on ``n_resamples`` resampled column sums of ``indicators``.

    Parameters
    ----------
    indicators : ndarray, shape (n, k)
        Per-unit 0/1 (or small integer) columns whose sums over units are the counts a statistic
        needs.
    statistic : callable
        Maps summed columns (c, k) float64 to statistics (c, s); NaN marks "undefined".
    n_resamples, seed : int
        Number of resamples and the seed of ``numpy.random.default_rng``.
    groups : ndarray of int, optional
        Resample whole groups instead of units (see :func:`resample_weights`).

    Returns
    -------
    ndarray, shape (n_resamples, s)

    Examples
    --------
    >>> x = np.array([[1.0], [0.0], [1.0]])
    >>> bootstrap(x, lambda sums: sums, n_resamples=4, seed=0).shape
    (4, 1)
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    n = indicators.shape[0]
    if n == 0:  # nothing to resample: every resample sees empty counts
        return statistic(np.zeros((n_resamples, indicators.shape[1])))
    weights_dtype = np.float32 if n < FLOAT32_EXACT else np.float64
    columns = np.ascontiguousarray(indicators, dtype=weights_dtype)
    results = []
    for weights in resample_weights(n, n_resamples, seed=seed, groups=groups):
        results.append(statistic((weights @ columns).astype(np.float64)))
    return np.concatenate(results, axis=0)


def percentile_interval(samples: np.ndarray, *, level: float = 0.95) -> tuple[np.ndarray, ...]:
    """Percentile interval per column, ignoring NaN (undefined) resamples.

    Returns (low, high, undefined_count); low and high are NaN where every resample was
    undefined. Percentiles use numpy's default linear interpolation.
    """
    undefined = np.isnan(samples).sum(axis=0)
    low = np.full(samples.shape[1], np.nan)
    high = np.full(samples.shape[1], np.nan)
    some = undefined < samples.shape[0]
    if some.any():
        tail = (1 - level) / 2 * 100
        low[some], high[some] = np.nanpercentile(samples[:, some], [tail, 100 - tail], axis=0)
    return low, high, undefined
