"""Where the judge is unsure: the segments a `judge-uncertain` queue hands to people first. Pure: plain data.

A segment is uncertain on a mode when
- the judge's samples (`judge run --samples K`) do not all give the same value there, or
- the judge's answer differs from the people's majority there, and the mode is one whose people agreement
  is still low (mean pairwise kappa below a threshold, or undefined: not yet shown to be high).

The judge's answer on a mode is the value most of its samples give (a tie is no answer: its samples
disagree, which the first rule catches). The people's majority is the value more than half of the people
who labelled the segment gave it (one person is her own majority; a tie is no majority).
Segments are ordered by how many modes they are uncertain on (most first), then by segment id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# {segment id: {sample index: {mode code: 0 or 1}}}: the shape store.judge_sample_labels gives.
JudgeSamples = Mapping[int, Mapping[int, Mapping[str, int]]]
# {segment id: {mode code: [the people's values]}}
PeopleValues = Mapping[int, Mapping[str, Sequence[int]]]


@dataclass(frozen=True)
class UncertainSegment:
    segment_id: int
    samples_disagree: tuple[str, ...]  # modes where the judge's samples differ, in taxonomy order
    judge_vs_people: tuple[str, ...]  # low-agreement modes where the judge's answer is not the people's majority

    @property
    def modes(self) -> tuple[str, ...]:
        """Every mode the segment is uncertain on (either reason), each once."""
        return tuple(dict.fromkeys(self.samples_disagree + self.judge_vs_people))


def majority(values: Sequence[int]) -> int | None:
    """The value more than half of `values` are; None for no values or a tie.

    >>> majority([1, 1, 0]), majority([1, 0]), majority([0]), majority([])
    (1, None, 0, None)
    """
    positives = sum(values)
    if 2 * positives > len(values):
        return 1
    if 2 * positives < len(values):
        return 0
    return None


def low_agreement_modes(people_kappa: Mapping[str, float | None], below: float) -> set[str]:
    """Modes whose people mean kappa is below `below`, or undefined (None).

    >>> sorted(low_agreement_modes({"a": 0.2, "b": 0.8, "c": None}, 0.6))
    ['a', 'c']
    """
    return {code for code, kappa in people_kappa.items() if kappa is None or kappa < below}


def first_samples(samples: Mapping[int, Mapping[str, int]], limit: int | None) -> list[Mapping[str, int]]:
    """The judge's samples of one segment, sample 0 first, at most `limit` of them (None: all)."""
    ordered = [samples[i] for i in sorted(samples)]
    return ordered if limit is None else ordered[:limit]


def _segment(segment_id: int, samples: list[Mapping[str, int]], people: Mapping[str, Sequence[int]],
             codes: Sequence[str], low: set[str]) -> UncertainSegment:
    disagree, versus = [], []
    for code in codes:
        values = [int(s[code]) for s in samples if code in s]
        if len(set(values)) > 1:
            disagree.append(code)
        judge = majority(values)
        crowd = majority(people.get(code, ()))
        if code in low and judge is not None and crowd is not None and judge != crowd:
            versus.append(code)
    return UncertainSegment(segment_id, tuple(disagree), tuple(versus))


def uncertain_segments(judge: JudgeSamples, people: PeopleValues, codes: Sequence[str], *,
                       low_modes: Iterable[str], samples: int | None = None) -> list[UncertainSegment]:
    """The segments the judge is unsure of, most uncertain modes first, ties by segment id.

    Parameters
    ----------
    judge : {segment id: {sample index: {code: 0/1}}} of one judge.
    people : {segment id: {code: [each person's value]}}.
    codes : the taxonomy's codes, in order.
    low_modes : codes whose people agreement is still low (see :func:`low_agreement_modes`).
    samples : read at most this many samples per segment (sample 0 first); None: every sample.

    Examples
    --------
    >>> judge = {1: {0: {"a": 1}, 1: {"a": 0}}, 2: {0: {"a": 1}}, 3: {0: {"a": 0}}}
    >>> people = {2: {"a": [0, 0]}, 3: {"a": [0, 1]}}
    >>> [(u.segment_id, u.modes) for u in uncertain_segments(judge, people, ["a"], low_modes={"a"})]
    [(1, ('a',)), (2, ('a',))]
    """
    low = set(low_modes)
    found = []
    for segment_id, per_sample in judge.items():
        entry = _segment(segment_id, first_samples(per_sample, samples), people.get(segment_id, {}), codes, low)
        if entry.modes:
            found.append(entry)
    return sorted(found, key=lambda u: (-len(u.modes), u.segment_id))


def queue_ranks(found: Sequence[UncertainSegment]) -> dict[int, int]:
    """Segment id -> hand-out rank (lower first): minus the number of uncertain modes; the rest stay 0.

    Within a rank the queue takes the lower segment id first, which is the order of `found`.
    """
    return {u.segment_id: -len(u.modes) for u in found}
