"""Ambiguity signals: co-confused mode pairs and contested units."""

from __future__ import annotations

import numpy as np

from annotator.core.report.model import CoConfusion, Contested

from .confusion import confusion_counts
from .labels import LabelSet


def co_confusion(label_set: LabelSet, *, max_examples: int = 5) -> list[CoConfusion]:
    """Mode pairs that raters confuse with each other.

    For an unordered mode pair {A, B}, a *co-confusion* is a (unit, rater pair) where one rater
    marked A and not B while the other marked B and not A. Counts are summed over all unordered
    rater pairs.

    ``rate`` = count / comparisons, where comparisons is the number of (unit, rater pair) in which
    both raters labelled both A and B (so missing labels neither count nor dilute the rate).
    ``examples`` lists up to ``max_examples`` unit ids where it happened, in unit order.
    Only pairs with count > 0 are returned, most frequent first (ties: higher rate, then the
    taxonomy order of A, then of B).

    Examples
    --------
    >>> v = np.array([[[1, 0], [0, 1]]], dtype=np.int8)   # one unit: ann says A, bob says B
    >>> ls = LabelSet(("s1",), ("ann", "bob"), ("human", "human"),
    ...               (("A", "a", "c"), ("B", "b", "c")), v)
    >>> [(c["a_mode"], c["b_mode"], c["count"], c["rate"]) for c in co_confusion(ls)]
    [('A', 'B', 1, 1.0)]
    """
    counts, comparisons, examples = confusion_counts(label_set.values, max_examples=max_examples)
    return _co_confusion_rows(label_set, counts, comparisons, examples)


def _co_confusion_rows(label_set: LabelSet, counts: np.ndarray, comparisons: np.ndarray,
                       examples: dict[tuple[int, int], list[int]]) -> list[CoConfusion]:
    codes = label_set.mode_codes
    rows: list[CoConfusion] = []
    for a, b in zip(*np.nonzero(counts)):
        a, b = int(a), int(b)
        rows.append({
            "a_mode": codes[a],
            "b_mode": codes[b],
            "count": int(counts[a, b]),
            "comparisons": int(comparisons[a, b]),
            "rate": float(counts[a, b] / comparisons[a, b]),
            "examples": [label_set.units[i] for i in sorted(examples.get((a, b), []))],
        })
    rows.sort(key=lambda row: (-row["count"], -row["rate"], codes.index(row["a_mode"]), codes.index(row["b_mode"])))
    return rows


def contested_units(label_set: LabelSet, *, limit: int = 20) -> list[Contested]:
    """Units ranked by how much their raters disagree.

    A unit *disputes* a mode when at least two raters labelled it and they did not all give the same
    value. Units are ranked by the number of disputed modes, then by the number of discordant
    (rater pair, mode) combinations, then by unit order; only units with a dispute are listed,
    at most ``limit`` of them.

    Examples
    --------
    >>> v = np.array([[[1, 1], [0, 1]], [[0, 0], [0, 0]]], dtype=np.int8)
    >>> ls = LabelSet(("s1", "s2"), ("a", "b"), ("human", "human"), (("A", "", ""), ("B", "", "")), v)
    >>> contested_units(ls)
    [{'unit': 's1', 'disputed_modes': ['A'], 'disputed_count': 1, 'discordant_pairs': 1}]
    """
    values = label_set.values
    positives = (values == 1).sum(axis=1)
    negatives = (values == 0).sum(axis=1)
    disputed = (positives > 0) & (negatives > 0)  # (n, m)
    disputed_count = disputed.sum(axis=1)
    discordant = (positives * negatives).sum(axis=1)  # rater pairs that disagree, summed over modes
    order = np.lexsort((np.arange(len(disputed_count)), -discordant, -disputed_count))
    order = order[disputed_count[order] > 0][:limit]
    codes = label_set.mode_codes
    return [
        {
            "unit": label_set.units[i],
            "disputed_modes": [codes[k] for k in np.flatnonzero(disputed[i])],
            "disputed_count": int(disputed_count[i]),
            "discordant_pairs": int(discordant[i]),
        }
        for i in order.tolist()
    ]
