"""Co-confusion counts without a (unit, mode, mode) tensor, so that they scale to large taxonomies.

On one unit and one rater pair, the modes the first rater marked and the second, having labelled them,
did not (``only_a``) and the reverse (``only_b``) are few: raters disagree on a handful of modes. Every
co-confused mode pair {A, B} on that unit is one element of only_a x only_b (A and B cannot both be in
one set, and (A, B) and (B, A) are disjoint events), so the counts are a histogram of those products.
Their number grows with the disagreements, not with m^2 per unit as a dense tensor would; they are
built in chunks of units of bounded size. Comparisons (both raters labelled both modes) are a matrix
product, computed by einsum's own loop in floating point (exact below 2^53): a threaded BLAS call of this
size was up to 25 times slower on a loaded machine than the plain loop.
"""

from __future__ import annotations

import numpy as np

from .labels import rater_pairs

PRODUCTS_PER_CHUNK = 2_000_000  # (unit, A, B) products held at once


def confusion_counts(values: np.ndarray, *, max_examples: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """(counts, comparisons, examples) for values of shape (n, r, m).

    ``counts[A, B]`` (A < B; zero elsewhere) counts (unit, rater pair) where one rater marked A and not
    B and the other B and not A; ``comparisons[A, B]`` the (unit, rater pair) where both labelled both
    modes; ``examples[(A, B)]`` the first ``max_examples`` unit indices (ascending) where it happened.
    """
    n, r, m = values.shape
    counts = np.zeros(m * m, dtype=np.int64)
    comparisons = np.zeros((m, m), dtype=np.int64)
    candidates: list[np.ndarray] = []  # unit-major codes key * n + unit, at most max_examples per key per chunk
    for a_idx, b_idx in zip(*rater_pairs(r)):
        a, b = values[:, a_idx, :], values[:, b_idx, :]
        both_labelled = ((a >= 0) & (b >= 0)).astype(np.float64)
        comparisons += np.rint(np.einsum("ua,ub->ab", both_labelled, both_labelled)).astype(np.int64)
        ua, ma = np.nonzero((a == 1) & (b == 0))  # (unit, mode) where a marked and b, having labelled it, did not
        ub, mb = np.nonzero((b == 1) & (a == 0))
        for keys, units in _products((ua, ma), (ub, mb), n, m):
            counts += np.bincount(keys, minlength=m * m)
            candidates.append(_first_per_key(keys * n + units, n, max_examples))
    return counts.reshape(m, m), comparisons, _examples(candidates, n, m, max_examples)


def _products(only_a: tuple[np.ndarray, np.ndarray], only_b: tuple[np.ndarray, np.ndarray], n: int, m: int):
    """Yield (keys, units) of every (unit, A in only_a, B in only_b), key = min(A,B) * m + max(A,B), in
    chunks of at most about PRODUCTS_PER_CHUNK. Both inputs are np.nonzero results (sorted by unit)."""
    (ua, ma), (ub, mb) = only_a, only_b
    per_unit_a, per_unit_b = np.bincount(ua, minlength=n), np.bincount(ub, minlength=n)
    start_b = np.concatenate([[0], np.cumsum(per_unit_b)[:-1]])
    products = per_unit_a * per_unit_b
    ends = np.cumsum(products)
    if not len(ends) or ends[-1] == 0:
        return
    start_a = np.concatenate([[0], np.cumsum(per_unit_a)[:-1]])
    first = 0
    while first < n:
        # units first..last-1 hold at most PRODUCTS_PER_CHUNK products (at least one unit per chunk)
        done = ends[first - 1] if first else 0
        last = max(first + 1, int(np.searchsorted(ends, done + PRODUCTS_PER_CHUNK, side="right")))
        entries = np.arange(start_a[first], start_a[last - 1] + per_unit_a[last - 1])  # only_a entries in range
        if len(entries):
            unit = ua[entries]
            repeats = per_unit_b[unit]
            owner = np.repeat(entries, repeats)  # one row per product, pointing at its only_a entry
            offset = np.arange(len(owner)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
            mode_b = mb[np.repeat(start_b[unit], repeats) + offset]
            mode_a = ma[owner]
            keys = np.minimum(mode_a, mode_b) * m + np.maximum(mode_a, mode_b)
            if len(keys):
                yield keys, ua[owner]
        first = last


def _first_per_key(codes: np.ndarray, n: int, limit: int) -> np.ndarray:
    """The distinct codes (key * n + unit) with at most ``limit`` smallest units per key."""
    codes = np.unique(codes)
    keys = codes // n
    _, starts, sizes = np.unique(keys, return_index=True, return_counts=True)
    rank = np.arange(len(codes)) - np.repeat(starts, sizes)
    return codes[rank < limit]


def _examples(candidates: list[np.ndarray], n: int, m: int, limit: int) -> dict[tuple[int, int], list[int]]:
    if not candidates:
        return {}
    codes = _first_per_key(np.concatenate(candidates), n, limit)
    out: dict[tuple[int, int], list[int]] = {}
    for key, unit in zip((codes // n).tolist(), (codes % n).tolist()):
        out.setdefault(divmod(key, m), []).append(unit)
    return out
