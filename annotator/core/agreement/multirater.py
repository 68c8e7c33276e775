"""Agreement across more than two raters, per mode, vectorised over modes (NaN = undefined)."""

from __future__ import annotations

import numpy as np


def _positive_and_labelled(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per (unit, mode): number of raters who marked present, and who labelled at all."""
    positives = (values == 1).sum(axis=1)
    labelled = (values >= 0).sum(axis=1)
    return positives, labelled


def fleiss_kappa(values: np.ndarray) -> np.ndarray:
    """Fleiss' kappa per mode (length m) for a LabelSet array (n, r, m).

    Units no one labelled for a mode are ignored. Fleiss' kappa assumes every unit has the same
    number of ratings, so it is NaN (undefined) for a mode where some unit lacks a label from some
    rater; it is also NaN with fewer than two raters, no labelled unit, or when every label is the
    same value (chance agreement 1).

    Examples
    --------
    >>> v = np.array([[[1], [1], [0]], [[0], [0], [0]], [[1], [1], [1]]], dtype=np.int8)
    >>> round(float(fleiss_kappa(v)[0]), 4)
    0.55
    """
    r = values.shape[1]
    positives, labelled = _positive_and_labelled(values)
    seen = labelled > 0
    units = seen.sum(axis=0)
    applicable = (r >= 2) & (units > 0) & ((labelled == r) | ~seen).all(axis=0)
    pos = np.where(seen, positives, 0).astype(np.float64)
    neg = np.where(seen, r - positives, 0).astype(np.float64)
    total_pos, total = pos.sum(axis=0), units * r
    with np.errstate(divide="ignore", invalid="ignore"):
        # share of agreeing rater pairs per unit, then the mean over units
        per_unit = np.where(seen, (pos**2 + neg**2 - r) / (r * (r - 1)), 0.0)
        observed = per_unit.sum(axis=0) / units
        p1 = total_pos / total
        chance = p1**2 + (1 - p1) ** 2
        kappa = (observed - chance) / (1 - chance)
    # Integer test for "every label the same value", where chance agreement is exactly 1.
    defined = applicable & (total_pos > 0) & (total_pos < total)
    return np.where(defined, kappa, np.nan)


def krippendorff_alpha(values: np.ndarray) -> np.ndarray:
    """Krippendorff's alpha (nominal) per mode (length m), missing labels allowed.

    Only units with at least two labels are pairable. With N pairable labels, N0 absent and N1
    present, and o01 = sum over units of n0_u n1_u / (m_u - 1) (the off-diagonal coincidences),
    alpha = 1 - (N - 1) o01 / (N0 N1). Undefined (NaN) when only one value occurs among the
    pairable labels.

    Examples
    --------
    >>> v = np.array([[[1], [1], [0]], [[0], [0], [0]], [[1], [1], [1]]], dtype=np.int8)
    >>> round(float(krippendorff_alpha(v)[0]), 4)
    0.6
    """
    positives, labelled = _positive_and_labelled(values)
    pairable = labelled >= 2
    n1 = np.where(pairable, positives, 0).astype(np.float64)
    n0 = np.where(pairable, labelled - positives, 0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        disagreeing = np.where(pairable, n1 * n0 / (labelled - 1), 0.0).sum(axis=0)
        total1, total0 = n1.sum(axis=0), n0.sum(axis=0)
        alpha = 1 - (total1 + total0 - 1) * disagreeing / (total1 * total0)
    return np.where((total1 > 0) & (total0 > 0), alpha, np.nan)


def nan_mean(samples: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean over defined (non-NaN) entries and how many there were; NaN where none is defined."""
    defined = ~np.isnan(samples)
    count = defined.sum(axis=axis)
    total = np.where(defined, samples, 0.0).sum(axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean, count
