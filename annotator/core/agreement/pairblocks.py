"""The report's pair counts and bootstrap in bounded memory, however many raters there are (issue 15).

Every figure of the report comes from the 2x2 counts of each (mode, rater pair): r raters make
P = r (r - 1) / 2 pairs, so anything held per (unit, mode, pair), or per (resample, mode, pair), grows
with the square of the raters. With 150 raters on 40 traces the single-pass bootstrap (every pair's
indicators as columns of one matrix product, every resample's pair kappas kept for the percentiles) peaked
at 12.4 GB. Here:

- the counts of the full data are summed over blocks of pairs (:func:`pair_sums`);
- the people and judge figures, which average kappas over pairs inside each resample, are bootstrapped a
  few resamples at a time: the resampled counts of every pair come from three matrix products of the
  per-rater label indicators (both present, a present and b labelled, both labelled), so no per-pair
  indicator is built, and only the figures (linear in modes and judges) are kept per resample
  (:func:`people_samples`);
- the percentile interval of each pair's kappa (only when the report lists the pairs) is bootstrapped
  one block of pairs at a time, drawing the same resamples again for each block (:func:`pair_intervals`).

When everything fits in ``SINGLE_PASS_ELEMENTS`` the report keeps its single pass (the fastest for a few
raters on many units). Both ways give the same numbers: resampled counts are integers, exact in float32,
and each kappa, each percentile and each mean over pairs is computed from the same values in the same
order (one resample's row of pair kappas is averaged as a whole in both, see :func:`_batches`). The one
exception is Krippendorff's alpha's interval, whose per-unit terms are fractions summed in float32: it can
differ in the 8th decimal (tests/test_report_memory.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import pairwise, people
from .bootstrap import FLOAT32_EXACT, percentile_interval, resample_weights
from .bootstrap import bootstrap as run_bootstrap
from .labels import rater_pairs

SINGLE_PASS_ELEMENTS = 2**24  # largest matrix of the single pass (columns x units or resamples): ~200 MB peak
BLOCK_ELEMENTS = 2**22  # per block of pairs: indicator columns x units, or samples x resamples
ROW_ELEMENTS = 2**20  # per batch of resamples in people_samples: modes x raters^2 counts per resample

# (low, high, undefined resamples) per (mode, pair) and per pooled pair.
PairCI = tuple[np.ndarray, np.ndarray, np.ndarray]
# Bootstrap intervals: "pair" (PairCI of shape (m, P)) and "pooled" (PairCI of shape (P,)), None when not
# computed; "people", the people and judge figures by name (people.Resampled.split).
Intervals = dict[str, Any]


def fits_single_pass(n_units: int, n_modes: int, n_pairs: int, n_resamples: int, extra_columns: int) -> bool:
    """Whether the single-pass bootstrap (every pair at once) stays within ``SINGLE_PASS_ELEMENTS``."""
    columns = 4 * n_modes * n_pairs + extra_columns
    chunk_rows = max(1, min(n_resamples, 2**20 // max(n_units, 1)))  # resample_weights' largest chunk
    return (columns * max(n_units, chunk_rows) <= SINGLE_PASS_ELEMENTS
            and n_resamples * (n_modes + 1) * n_pairs <= SINGLE_PASS_ELEMENTS)


def _kappas(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kappa per (mode, pair) (c, m, P) and pooled over modes per pair (c, P) of summed indicators (c, m, P, 4)."""
    kappa = pairwise.kappa_from_counts(*pairwise.cells_from_indicator_sums(sums))
    return kappa, pairwise.kappa_from_counts(*pairwise.cells_from_indicator_sums(sums.sum(axis=1)))


def _batches(rows: int, size: int) -> Iterator[slice]:
    """Slices of ``rows`` resamples, ``size`` at a time, never a lone row unless ``rows`` is 1.

    Why: a mean over pairs sums an array made by fancy indexing, whose layout makes numpy add the pairs in
    order when the batch has two or more rows and pairwise for a single row; the last bit of the mean (and
    of a percentile) would then depend on the batching. Batches of two or more rows, like the single pass's
    chunks, add them in the same order.
    """
    size = max(2, size)
    starts = list(range(0, rows, size))
    if len(starts) > 1 and rows - starts[-1] == 1:
        starts.pop()  # the lone last row joins the batch before it
    for start, stop in zip(starts, starts[1:] + [rows]):
        yield slice(start, stop)


def _blocks(n_pairs: int, size: int) -> Iterator[slice]:
    size = max(1, size)
    for start in range(0, n_pairs, size):
        yield slice(start, min(n_pairs, start + size))


def pair_sums(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Summed :func:`.pairwise.pair_indicators` (m, P, 4) and, per pair, the units both raters labelled
    (any mode), computed over blocks of pairs so that no (unit, mode, pair) array exceeds a block."""
    n, r, m = values.shape
    a_idx, b_idx = rater_pairs(r)
    sums = np.zeros((m, len(a_idx), 4), dtype=np.int64)
    shared = np.zeros(len(a_idx), dtype=np.int64)
    for block in _blocks(len(a_idx), BLOCK_ELEMENTS // max(1, 4 * n * m)):
        indicators = pairwise.pair_indicators(values, pairs=(a_idx[block], b_idx[block]))  # (n, m, B, 4)
        sums[:, block] = indicators.sum(axis=0)
        shared[block] = indicators[..., 3].any(axis=1).sum(axis=0)
    return sums, shared


def pair_intervals(values: np.ndarray, *, n_resamples: int, seed: int, groups: np.ndarray | None,
                   ci_level: float) -> tuple[PairCI, PairCI]:
    """Percentile intervals of every (mode, pair) kappa and every pooled pair kappa, a block of pairs at a time.

    Each block draws the very resamples of the single pass (same seed, same weights), so a pair's interval
    does not depend on the block it falls in.
    """
    n, r, m = values.shape
    a_idx, b_idx = rater_pairs(r)
    p = len(a_idx)
    low, high, undefined = np.full((m + 1, p), np.nan), np.full((m + 1, p), np.nan), np.zeros((m + 1, p), np.int64)
    chunk_rows = max(1, min(n_resamples, 2**20 // max(n, 1)))
    size = min(BLOCK_ELEMENTS // max(1, 4 * m * max(n, chunk_rows)), BLOCK_ELEMENTS // (n_resamples * (m + 1)))
    dtype = np.float32 if n < FLOAT32_EXACT else np.float64
    for block in _blocks(p, size):
        b = block.stop - block.start
        indicators = pairwise.pair_indicators(values, pairs=(a_idx[block], b_idx[block])).reshape(n, m * b * 4)

        def statistic(sums: np.ndarray, b: int = b) -> np.ndarray:
            kappa, pooled = _kappas(sums.reshape(len(sums), m, b, 4))
            return np.concatenate([kappa.reshape(len(sums), -1), pooled], axis=1)

        samples = run_bootstrap(indicators.astype(dtype), statistic, n_resamples=n_resamples, seed=seed, groups=groups)
        lo, hi, undef = percentile_interval(samples, level=ci_level)
        low[:, block], high[:, block], undefined[:, block] = (x.reshape(m + 1, b) for x in (lo, hi, undef))
    return (low[:m], high[:m], undefined[:m]), (low[m], high[m], undefined[m])


def people_samples(values: np.ndarray, extra_columns: np.ndarray,
                   statistic: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray], *,
                   n_resamples: int, seed: int, groups: np.ndarray | None) -> np.ndarray:
    """``statistic(kappa (c, m, P), pooled kappa (c, P), summed extra columns (c, k))`` on every resample.

    The resampled 2x2 counts of every pair are three matrix products per mode of the per-rater
    indicators (present, labelled) weighted by the resample: ``both[a, b] = sum_u w_u x1[u, a] x1[u, b]``,
    "a present, b labelled" ``x1' W x0`` (its transpose is "b present, a labelled") and "both labelled"
    ``x0' W x0``. A batch holds about ``ROW_ELEMENTS`` counts; the statistic's output is what is kept.
    """
    n, r, m = values.shape
    a_idx, b_idx = rater_pairs(r)
    dtype = np.float32 if n < FLOAT32_EXACT else np.float64
    x1 = np.ascontiguousarray((values == 1).transpose(2, 0, 1), dtype=dtype)  # (m, n, r)
    x0 = np.ascontiguousarray((values >= 0).transpose(2, 0, 1), dtype=dtype)
    x1t, x0t = x1.transpose(0, 2, 1), x0.transpose(0, 2, 1)  # (m, r, n)
    extra = np.ascontiguousarray(extra_columns, dtype=dtype)
    out = []
    for weights in resample_weights(n, n_resamples, seed=seed, groups=groups):
        # The extra columns' sums: one product per chunk of resamples, as in the single pass. Alpha's terms
        # are fractions, and float32 rounds their sums by the product's shape: alpha's interval can move in
        # the 8th decimal from the single pass's (whose product also holds every pair's columns).
        extra_sums = (weights @ extra).astype(np.float64)
        for batch in _batches(len(weights), ROW_ELEMENTS // max(1, m * r * r)):
            w = weights[batch]
            weighted = w[:, None, :, None]  # (c, 1, n, 1)
            both, a_pos, valid = x1t @ (weighted * x1), x1t @ (weighted * x0), x0t @ (weighted * x0)  # (c, m, r, r)
            sums = np.stack([both[..., a_idx, b_idx], a_pos[..., a_idx, b_idx], a_pos[..., b_idx, a_idx],
                             valid[..., a_idx, b_idx]], axis=-1).astype(np.float64)  # (c, m, P, 4)
            del both, a_pos, valid
            out.append(statistic(*_kappas(sums), extra_sums[batch]))
    return np.concatenate(out, axis=0)


def bootstrap_intervals(values: np.ndarray, crowd: people.Resampled, *, n_resamples: int, seed: int,
                        groups: np.ndarray | None, ci_level: float, with_pairs: bool) -> Intervals | None:
    """Percentile intervals of every pair kappa ("pair", per mode; "pooled") and of the people and judge
    figures ("people", :meth:`.people.Resampled.split`), all from the same resampled units.

    In each resample a mean kappa averages the pairs whose kappa is defined in that resample, as the
    point estimate does on the full data. Without ``with_pairs`` (the report does not list the pairs)
    "pair" and "pooled" may be None: only a single pass computes them anyway.
    """
    if n_resamples == 0:
        return None
    n, r, m = values.shape
    p = r * (r - 1) // 2
    if fits_single_pass(n, m, p, n_resamples, crowd.columns.shape[1]):
        return _single_pass(values, crowd, n_resamples=n_resamples, seed=seed, groups=groups, ci_level=ci_level)
    samples = people_samples(values, crowd.columns, crowd, n_resamples=n_resamples, seed=seed, groups=groups)
    low, high, _ = percentile_interval(samples, level=ci_level)
    pair, pooled = (pair_intervals(values, n_resamples=n_resamples, seed=seed, groups=groups, ci_level=ci_level)
                    if with_pairs else (None, None))
    return {"pair": pair, "pooled": pooled, "people": crowd.split(low, high)}


def _single_pass(values: np.ndarray, crowd: people.Resampled, *, n_resamples: int, seed: int,
                 groups: np.ndarray | None, ci_level: float) -> Intervals:
    """Every interval from one matrix product per batch of resamples (few pairs: the fastest way)."""
    indicators = pairwise.pair_indicators(values)  # (n, m, P, 4)
    n, m, p, _ = indicators.shape
    cut = m * p * 4  # the pair indicators, then the people's multi-rater columns
    columns = np.concatenate([indicators.reshape(n, cut), crowd.columns], axis=1,
                             dtype=np.float32 if n < FLOAT32_EXACT else np.float64)
    del indicators

    def statistic(column_sums: np.ndarray) -> np.ndarray:
        kappa, pooled = _kappas(column_sums[:, :cut].reshape(len(column_sums), m, p, 4))
        return np.concatenate([kappa.reshape(len(kappa), -1), pooled, crowd(kappa, pooled, column_sums[:, cut:])],
                              axis=1)

    samples = run_bootstrap(columns, statistic, n_resamples=n_resamples, seed=seed, groups=groups)
    low, high, undefined = percentile_interval(samples, level=ci_level)
    pairs, pooled_end = m * p, m * p + p  # column blocks, in the order statistic() concatenates them
    return {
        "pair": (low[:pairs].reshape(m, p), high[:pairs].reshape(m, p), undefined[:pairs].reshape(m, p)),
        "pooled": (low[pairs:pooled_end], high[pairs:pooled_end], undefined[pairs:pooled_end]),
        "people": crowd.split(low[pooled_end:], high[pooled_end:]),
    }
