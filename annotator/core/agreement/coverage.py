"""How much of each trace a rater pair looked at: the coverage behind a trace-level report.

At trace level a rater says "absent" only for traces she labelled completely (:func:`.labels.rollup`),
so a pair's trace-level n depends on how many traces both covered. This module counts them, per pair.
A rater covered a segment when she gave it at least one label (any mode).
"""

from __future__ import annotations

import numpy as np

from annotator.core.report.model import TraceCoverage

from .labels import LabelSet, rater_pairs, traces_of


def trace_coverage(label_set: LabelSet) -> list[TraceCoverage]:
    """Per rater pair: traces both raters labelled in full, and traces both labelled only in part.

    ``full`` counts traces where each of the two labelled every segment; ``partial`` traces where
    both labelled at least one segment but at least one of them not every segment (their trace-level
    labels are missing unless one of her segments is positive). Needs ``unit_groups``.

    Examples
    --------
    >>> import numpy as np
    >>> ls = LabelSet(("t1#0", "t1#1", "t2#0", "t2#1"), ("a", "b"), ("human", "human"), (("1.1", "x", "c"),),
    ...               np.array([[[0], [0]], [[1], [1]], [[0], [0]], [[-1], [0]]]),
    ...               unit_groups=("t1", "t1", "t2", "t2"))
    >>> trace_coverage(ls)
    [{'a': 'a', 'b': 'b', 'traces': 2, 'full': 1, 'partial': 1}]
    """
    _, r, _ = label_set.shape
    a_idx, b_idx = rater_pairs(r)
    if not label_set.units:
        return [_entry(label_set, a, b, 0, 0) for a, b in zip(a_idx, b_idx)]
    traces = traces_of(label_set)
    seen = traces.count(np.asarray((label_set.values >= 0).any(axis=2)))  # (traces, raters): segments labelled
    full = seen == traces.sizes[:, None]
    some = seen > 0
    out = []
    for a, b in zip(a_idx, b_idx):
        both_full = full[:, a] & full[:, b]
        both_some = some[:, a] & some[:, b]
        out.append(_entry(label_set, a, b, int(both_full.sum()), int((both_some & ~both_full).sum())))
    return out


def _entry(label_set: LabelSet, a: np.intp, b: np.intp, full: int, partial: int) -> TraceCoverage:
    return {"a": label_set.raters[a], "b": label_set.raters[b], "traces": full + partial, "full": full,
            "partial": partial}
