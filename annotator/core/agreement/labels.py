"""The input of every agreement computation: a dense unit x rater x mode array of binary labels.

Pure core: numpy and the standard library only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

RATER_KINDS = ("human", "judge", "gold")
PRESENT, ABSENT, MISSING = 1, 0, -1


@dataclass(frozen=True)
class LabelSet:
    """Binary labels of ``r`` raters on ``n`` units for ``m`` failure modes.

    Attributes
    ----------
    units : tuple of str, length n
        Unit ids (segment ids or trace ids), unique.
    raters : tuple of str, length r
        Rater names, unique.
    rater_kinds : tuple of str, length r
        ``"human"``, ``"judge"`` or ``"gold"`` for each rater.
    modes : tuple of (code, name, category), length m
        The failure modes, in display order; codes are unique.
    values : ndarray of int8, shape (n, r, m)
        1 present, 0 absent, -1 missing (the rater did not label that unit for that mode).
        "Missing" is never the same as "absent".
    unit_groups : tuple of str or None, length n
        For each unit, the trace it belongs to; needed by :func:`rollup`.
    group_sizes : tuple of int or None, length n
        For each unit, how many segments its trace has in the selection, labelled or not (the
        store knows segments nobody labelled; the units are only those somebody did). :func:`rollup`
        needs it to tell "absent from the whole trace" from "not looked at everywhere". None: the
        units of that trace in this set are all of its segments.

    The array is copied to a read-only int8 array on construction, so a LabelSet cannot change
    under a report that was computed from it.

    Examples
    --------
    >>> import numpy as np
    >>> ls = LabelSet(units=("s1", "s2"), raters=("ann", "bob"), rater_kinds=("human", "human"),
    ...               modes=(("1.1", "Disobey task specification", "Specification"),),
    ...               values=np.array([[[1], [1]], [[0], [-1]]], dtype=np.int8))
    >>> ls.values.shape
    (2, 2, 1)
    """

    units: tuple[str, ...]
    raters: tuple[str, ...]
    rater_kinds: tuple[str, ...]
    modes: tuple[tuple[str, str, str], ...]
    values: np.ndarray
    unit_groups: tuple[str, ...] | None = None
    group_sizes: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("units", "raters", "rater_kinds", "modes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "modes", tuple(tuple(mode) for mode in self.modes))
        if self.unit_groups is not None:
            object.__setattr__(self, "unit_groups", tuple(self.unit_groups))
        if self.group_sizes is not None:
            object.__setattr__(self, "group_sizes", tuple(int(size) for size in self.group_sizes))
        object.__setattr__(self, "values", _checked_values(self.values, self.shape))
        _check_names(self)

    # The generated __eq__/__hash__ would compare the array element-wise (ambiguous truth value)
    # or fail to hash it; compare and hash by content instead.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSet):
            return NotImplemented
        return self._identity() == other._identity() and np.array_equal(self.values, other.values)

    def __hash__(self) -> int:
        return hash((self._identity(), self.values.shape, self.values.tobytes()))

    def _identity(self) -> tuple:
        return (self.units, self.raters, self.rater_kinds, self.modes, self.unit_groups, self.group_sizes)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(units, raters, modes)."""
        return len(self.units), len(self.raters), len(self.modes)

    @property
    def mode_codes(self) -> tuple[str, ...]:
        return tuple(mode[0] for mode in self.modes)

    def rater_index(self, name: str) -> int:
        """Position of a rater; raises KeyError naming the rater when it is not in the set."""
        try:
            return self.raters.index(name)
        except ValueError:
            raise KeyError(f"rater {name!r} is not in this label set ({', '.join(self.raters)})") from None

    def select_raters(self, names: list[str] | tuple[str, ...]) -> LabelSet:
        """A LabelSet with only the named raters, in the order given (units and modes unchanged)."""
        idx = [self.rater_index(name) for name in names]
        return LabelSet(
            units=self.units,
            raters=tuple(self.raters[i] for i in idx),
            rater_kinds=tuple(self.rater_kinds[i] for i in idx),
            modes=self.modes,
            values=self.values[:, idx, :],
            unit_groups=self.unit_groups,
            group_sizes=self.group_sizes,
        )

    def select_units(self, index: np.ndarray | list[int]) -> LabelSet:
        """A LabelSet with only the units at ``index`` (in that order); traces keep their sizes."""
        idx = np.asarray(index, dtype=np.intp)
        return LabelSet(
            units=tuple(self.units[i] for i in idx),
            raters=self.raters,
            rater_kinds=self.rater_kinds,
            modes=self.modes,
            values=self.values[idx],
            unit_groups=None if self.unit_groups is None else tuple(self.unit_groups[i] for i in idx),
            group_sizes=None if self.group_sizes is None else tuple(self.group_sizes[i] for i in idx),
        )


def _checked_values(values, shape: tuple[int, int, int]) -> np.ndarray:
    raw = np.asarray(values)
    if raw.shape != shape:
        raise ValueError(f"values has shape {raw.shape}; units x raters x modes is {shape}")
    if raw.size and not np.isin(raw, (MISSING, ABSENT, PRESENT)).all():
        bad = raw[~np.isin(raw, (MISSING, ABSENT, PRESENT))].ravel()[0]
        raise ValueError(f"values must be 1 (present), 0 (absent) or -1 (missing); found {bad!r}")
    out = np.array(raw, dtype=np.int8, copy=True)
    out.flags.writeable = False
    return out


def _check_names(ls: LabelSet) -> None:
    n, r, _ = ls.shape
    if len(ls.rater_kinds) != r:
        raise ValueError(f"{len(ls.rater_kinds)} rater kinds for {r} raters")
    unknown = sorted(set(ls.rater_kinds) - set(RATER_KINDS))
    if unknown:
        raise ValueError(f"unknown rater kind {unknown[0]!r}; expected one of {', '.join(RATER_KINDS)}")
    for what, items in (("unit", ls.units), ("rater", ls.raters), ("mode code", ls.mode_codes)):
        if len(set(items)) != len(items):
            dup = next(x for x in items if items.count(x) > 1)
            raise ValueError(f"duplicate {what} {dup!r}")
    if any(len(mode) != 3 for mode in ls.modes):
        raise ValueError("each mode must be a (code, name, category) triple")
    if ls.unit_groups is not None and len(ls.unit_groups) != n:
        raise ValueError(f"{len(ls.unit_groups)} unit groups for {n} units")
    if ls.group_sizes is not None:
        if ls.unit_groups is None or len(ls.group_sizes) != n:
            raise ValueError("group_sizes needs unit_groups and one size per unit")
        sizes: dict[str, int] = {}
        for group, size in zip(ls.unit_groups, ls.group_sizes):
            if sizes.setdefault(group, size) != size:
                raise ValueError(f"trace {group!r} has two sizes ({sizes[group]} and {size})")
        counts = Counter(ls.unit_groups)
        short = next((g for g, size in sizes.items() if size < counts[g]), None)
        if short is not None:
            raise ValueError(f"trace {short!r} has {counts[short]} units but a size of {sizes[short]}")


@dataclass(frozen=True)
class Traces:
    """Units sorted by trace: ``order`` puts each trace's units together, ``starts`` is where each
    trace begins in that order, ``ids`` the trace ids (by first appearance) and ``sizes`` each
    trace's segment count (``group_sizes``, else its units in the set)."""

    order: np.ndarray
    starts: np.ndarray
    ids: tuple[str, ...]
    sizes: np.ndarray

    def count(self, per_unit: np.ndarray) -> np.ndarray:
        """Sum a boolean or integer array over each trace's units (first axis: units, in set order)."""
        return np.add.reduceat(per_unit[self.order].astype(np.int64), self.starts, axis=0)


def traces_of(label_set: LabelSet) -> Traces:
    """Group a non-empty LabelSet's units by trace (needs ``unit_groups``)."""
    if label_set.unit_groups is None:
        raise ValueError("rolling up to traces needs unit_groups (the trace id of each unit)")
    groups = np.asarray(label_set.unit_groups, dtype=object)
    _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    # Renumber groups by first appearance so the trace order follows the input order.
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    group_of_unit = rank[inverse.ravel()]
    order = np.argsort(group_of_unit, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(group_of_unit[order]) != 0])
    if label_set.group_sizes is None:
        sizes = np.diff(np.r_[starts, len(order)])
    else:
        sizes = np.asarray(label_set.group_sizes, dtype=np.int64)[order[starts]]
    return Traces(order, starts, tuple(groups[np.sort(first)].tolist()), sizes)


def rollup(label_set: LabelSet) -> LabelSet:
    """Roll segment labels up to trace level, respecting what each rater covered.

    For each rater and mode a trace is positive when any segment she labelled is positive, absent
    only when she labelled every segment of the trace (``group_sizes``; without it, every unit of
    the trace in this set) and marked none positive, and missing otherwise: a rater who saw 4 of
    7 turns cannot say the mode is absent from the trace. Traces appear in order of first
    appearance; the result has ``unit_groups=None``.

    Examples
    --------
    >>> import numpy as np
    >>> seg = LabelSet(units=("t1#0", "t1#1", "t2#0"), raters=("a",), rater_kinds=("human",),
    ...                modes=(("1.1", "x", "c"),), values=np.array([[[0]], [[1]], [[0]]]),
    ...                unit_groups=("t1", "t1", "t2"), group_sizes=(2, 2, 3))
    >>> tr = rollup(seg)
    >>> tr.units, tr.values[:, 0, 0].tolist()
    (('t1', 't2'), [1, -1])
    """
    if label_set.unit_groups is None:
        raise ValueError("rollup needs unit_groups (the trace id of each unit)")
    if not label_set.units:
        return LabelSet((), label_set.raters, label_set.rater_kinds, label_set.modes,
                        np.zeros((0,) + label_set.shape[1:], np.int8))
    traces = traces_of(label_set)
    # max over (-1 missing, 0 absent, 1 present) is "any positive"; absence needs full coverage.
    best = np.maximum.reduceat(label_set.values[traces.order], traces.starts, axis=0)
    labelled = traces.count(label_set.values >= 0)
    covered = labelled == traces.sizes[:, None, None]
    rolled = np.where(best == PRESENT, PRESENT, np.where((best == ABSENT) & covered, ABSENT, MISSING))
    return LabelSet(traces.ids, label_set.raters, label_set.rater_kinds, label_set.modes, rolled.astype(np.int8))


def rater_pairs(n_raters: int) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (a, b) of every unordered rater pair a < b, in row-major order."""
    a, b = np.triu_indices(n_raters, k=1)
    return a.astype(np.intp), b.astype(np.intp)
