"""A judge scored against a reference (gold or a human): precision, recall and F1 of "present"."""

from __future__ import annotations

import numpy as np

from annotator.core.report.model import Classification, ModeScores, Scores

from .labels import LabelSet


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def scores_from_counts(tp: int, fp: int, fn: int, tn: int) -> Scores:
    """Precision, recall, F1 and accuracy of the positive class, None where undefined.

    Undefined policy: precision is None when the prediction has no positive (tp + fp = 0), recall
    when the reference has none (tp + fn = 0), F1 = 2tp / (2tp + fp + fn) when neither has any
    positive. None is never replaced by 0 or 1.
    """
    n = tp + fp + fn + tn
    return {
        "n": n, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "accuracy": _ratio(tp + tn, n),
    }


def classification_scores(reference: object, predicted: object) -> list[Scores]:
    """Per-mode confusion counts and scores of ``predicted`` against ``reference``.

    Parameters
    ----------
    reference, predicted : array_like of int, shape (n,) or (n, m)
        1 present, 0 absent, -1 missing. A unit counts for a mode only when both sides labelled it.

    Returns
    -------
    list of dict, one per mode (a single-element list for 1-D input), each with
    n, tp, fp, fn, tn, precision, recall, f1, accuracy (see :func:`scores_from_counts`).

    Examples
    --------
    >>> classification_scores([1, 1, 0, 0], [1, 0, 1, 0])[0]["f1"]
    0.5
    """
    ref = np.asarray(reference)
    pred = np.asarray(predicted)
    if ref.shape != pred.shape:
        raise ValueError(f"reference has shape {ref.shape} but predicted has {pred.shape}")
    if ref.ndim == 1:
        ref, pred = ref[:, None], pred[:, None]
    both = (ref >= 0) & (pred >= 0)
    tp = ((ref == 1) & (pred == 1)).sum(axis=0)
    fp = ((ref == 0) & (pred == 1)).sum(axis=0)
    fn = ((ref == 1) & (pred == 0)).sum(axis=0)
    tn = ((ref == 0) & (pred == 0) & both).sum(axis=0)
    return [scores_from_counts(*map(int, cells)) for cells in zip(tp, fp, fn, tn)]


def judge_scores(label_set: LabelSet, *, reference: str, predicted: str) -> Classification:
    """Scores of rater ``predicted`` against rater ``reference``, per mode and pooled (micro).

    Examples
    --------
    >>> v = np.array([[[1], [1]], [[0], [1]]], dtype=np.int8)
    >>> ls = LabelSet(("s1", "s2"), ("gold", "judge:m@v"), ("gold", "judge"), (("1.1", "x", "c"),), v)
    >>> judge_scores(ls, reference="gold", predicted="judge:m@v")["pooled"]["precision"]
    0.5
    """
    ref = label_set.values[:, label_set.rater_index(reference), :]
    pred = label_set.values[:, label_set.rater_index(predicted), :]
    per_mode = classification_scores(ref, pred)
    modes: list[ModeScores] = [{"code": code, **row} for code, row in zip(label_set.mode_codes, per_mode)]
    return {
        "reference": reference,
        "predicted": predicted,
        "modes": modes,
        "pooled": scores_from_counts(*(sum(row[cell] for row in per_mode) for cell in ("tp", "fp", "fn", "tn"))),
    }
