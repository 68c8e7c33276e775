"""How much the judge agrees with itself across samples (`--samples K`). Pure: plain data in and out.

The report engine calls `self_agreement` with the labels of one judge rater; `store.judge_sample_labels`
gives them in the shape it takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from annotator.core.report.model import SelfAgreement, SelfAgreementMode


def _pair_agreement(values: Sequence[int]) -> float:
    """Share of the k*(k-1)/2 pairs of samples that give the same value."""
    k, positives = len(values), sum(values)
    pairs = k * (k - 1) / 2
    return (positives * (positives - 1) / 2 + (k - positives) * (k - positives - 1) / 2) / pairs


def self_agreement(labels: Mapping[int, Mapping[int, Mapping[str, int]]], codes: Sequence[str]) -> SelfAgreement:
    """Per mode, the judge's agreement with itself over segments that have two or more samples.

    Parameters
    ----------
    labels : {segment id: {sample index: {mode code: 0 or 1}}}
    codes : the taxonomy's mode codes, in the order to report them.

    Returns
    -------
    dict with ``segments`` (segments with >= 2 samples of some mode), ``max_samples``, and ``modes``:
    one entry per code with ``n`` (segments with >= 2 samples of that mode), ``mean_pairwise_agreement``
    (mean over segments of the share of sample pairs that agree), ``disagreement_share`` (share of
    segments where the samples do not all agree) and ``positive_rate`` (share of positive samples).
    Values are None where ``n`` is 0: undefined, not zero.

    Examples
    --------
    >>> out = self_agreement({1: {0: {"a": 1}, 1: {"a": 1}, 2: {"a": 0}}}, ["a"])
    >>> round(out["modes"][0]["mean_pairwise_agreement"], 4), out["modes"][0]["disagreement_share"]
    (0.3333, 1.0)
    """
    modes: list[SelfAgreementMode] = []
    segments: set[int] = set()
    max_samples = 0
    for code in codes:
        agreements: list[float] = []
        disagreeing, positives, total = 0, 0, 0
        for segment_id, samples in labels.items():
            values = [int(s[code]) for s in samples.values() if code in s]
            if len(values) < 2:
                continue
            segments.add(segment_id)
            max_samples = max(max_samples, len(values))
            agreements.append(_pair_agreement(values))
            disagreeing += 0 < sum(values) < len(values)
            positives, total = positives + sum(values), total + len(values)
        n = len(agreements)
        modes.append({
            "code": code,
            "n": n,
            "mean_pairwise_agreement": sum(agreements) / n if n else None,
            "disagreement_share": disagreeing / n if n else None,
            "positive_rate": positives / total if total else None,
        })
    return {"segments": len(segments), "max_samples": max_samples, "modes": modes}
