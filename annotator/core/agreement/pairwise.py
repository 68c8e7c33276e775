"""Two-rater statistics computed from 2x2 counts, vectorised over any leading shape.

Every function takes count arrays ``both, a_only, b_only, neither`` of one shape (for example
modes x pairs, or resamples x modes x pairs) and returns float arrays of that shape, with NaN
where the statistic is undefined. NaN never leaves this package: the report turns it into None.
"""

from __future__ import annotations

import numpy as np

from annotator.core.report.model import Flag

from .intervals import UNINFORMATIVE_WIDTH
from .labels import LabelSet, rater_pairs

# Indicator columns per (unit, mode, pair); counts follow by summing them over units.
INDICATORS = ("both", "a_pos", "b_pos", "valid")
LOW_POSITIVE_THRESHOLD = 10
FEW_UNITS_THRESHOLD = 30
PARADOX_MIN_AGREEMENT = 0.9
PARADOX_MAX_KAPPA = 0.4


def pair_indicators(values: np.ndarray, *, pairs: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Per-unit indicators, shape (n, m, P, 4) bool: both positive, a positive, b positive, both labelled.

    ``values`` is a LabelSet array (n, r, m); pairs are :func:`rater_pairs` order, or the rater index
    arrays ``pairs`` (a, b) (a block of them). Only units where both raters labelled the mode count, so
    "a positive" means "a positive and b labelled".
    """
    a_idx, b_idx = rater_pairs(values.shape[1]) if pairs is None else pairs
    a = values[:, a_idx, :].transpose(0, 2, 1)  # (n, m, P)
    b = values[:, b_idx, :].transpose(0, 2, 1)
    valid = (a >= 0) & (b >= 0)
    a_pos = (a == 1) & valid
    b_pos = (b == 1) & valid
    return np.stack([a_pos & b_pos, a_pos, b_pos, valid], axis=-1)


def cells_from_indicator_sums(sums: np.ndarray) -> tuple[np.ndarray, ...]:
    """(both, a_only, b_only, neither) from summed indicators (..., 4), as float64."""
    sums = np.asarray(sums, dtype=np.float64)
    both, a_pos, b_pos, valid = (sums[..., i] for i in range(4))
    return both, a_pos - both, b_pos - both, valid - a_pos - b_pos + both


def kappa_from_counts(both, a_only, b_only, neither) -> np.ndarray:
    """Cohen's kappa of 2x2 counts; NaN where undefined.

    Uses the closed form kappa = 2(ad - bc) / (A+ B- + B+ A-), where A+ is rater a's positives and
    B- rater b's negatives. The denominator is zero exactly when both raters gave every unit the
    same value (or no unit was labelled by both), which is where kappa is undefined. With integer
    (or integer-valued bootstrap) counts that test is exact, unlike testing p_e == 1 in floats.
    """
    a, b, c, d = (np.asarray(x, dtype=np.float64) for x in (both, a_only, b_only, neither))
    denominator = (a + b) * (b + d) + (a + c) * (c + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = 2.0 * (a * d - b * c) / denominator
    return np.where(denominator > 0, kappa, np.nan)


def _safe_ratio(numerator, denominator) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def kappa_standard_error(both, a_only, b_only, neither, kappa) -> np.ndarray:
    """Large-sample SE of kappa (Fleiss, Cohen and Everitt 1969), not the SE under kappa = 0.

    This is what statsmodels reports as ``cohens_kappa(table).std_kappa`` (its ``std_kappa0`` is
    the SE under the null hypothesis, for testing kappa = 0, not for intervals).
    """
    a, b, c, d = (np.asarray(x, dtype=np.float64) for x in (both, a_only, b_only, neither))
    n = a + b + c + d
    p11, p10, p01, p00 = (_safe_ratio(x, n) for x in (a, b, c, d))
    pa, pb = p11 + p10, p11 + p01  # each rater's prevalence
    pe = pa * pb + (1 - pa) * (1 - pb)
    one_minus = 1 - kappa
    diagonal = p11 * (1 - (pa + pb) * one_minus) ** 2 + p00 * (1 - (2 - pa - pb) * one_minus) ** 2
    off_diagonal = one_minus**2 * (p10 * (pb + 1 - pa) ** 2 + p01 * (1 - pb + pa) ** 2)
    correction = (kappa - pe * one_minus) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = (diagonal + off_diagonal - correction) / (1 - pe) ** 2 / n
    # In exact arithmetic the variance is 0 when the raters never disagree or one of them is
    # constant; floats leave noise of ~1e-16 there (which sqrt would turn into an SE of ~1e-8, or
    # NaN when negative), so set those cases to exactly 0 and clip the remaining rounding noise.
    a_pos, b_pos = a + b, a + c
    exact_zero = ((b + c) == 0) | (a_pos == 0) | (a_pos == n) | (b_pos == 0) | (b_pos == n)
    variance = np.where(exact_zero, 0.0, np.clip(variance, 0.0, None))
    return np.where(np.isnan(kappa), np.nan, np.sqrt(variance))


def pair_statistics(both, a_only, b_only, neither) -> dict[str, np.ndarray]:
    """All two-rater statistics of 2x2 counts (same shape in, same shape out; NaN = undefined).

    Keys: n, prevalence_a, prevalence_b, observed_agreement, kappa, se, positive_agreement,
    negative_agreement, ac1, pabak.

    Gwet's AC1 for two raters and two categories: p_e = 2 pi (1 - pi) with pi the mean of the two
    prevalences. PABAK = 2 p_o - 1. Specific agreement: positive 2a / (2a + b + c), negative
    2d / (2d + b + c), undefined when no one used that category.

    Examples
    --------
    Cohen's (1960)-style textbook table: 20 both yes, 5 and 10 split, 15 both no.

    >>> s = pair_statistics(20, 5, 10, 15)
    >>> round(float(s["observed_agreement"]), 3), round(float(s["kappa"]), 3)
    (0.7, 0.4)
    """
    a, b, c, d = (np.asarray(x, dtype=np.float64) for x in (both, a_only, b_only, neither))
    n = a + b + c + d
    pa, pb, po = _safe_ratio(a + b, n), _safe_ratio(a + c, n), _safe_ratio(a + d, n)
    kappa = kappa_from_counts(a, b, c, d)
    mean_prevalence = (pa + pb) / 2
    chance_ac1 = 2 * mean_prevalence * (1 - mean_prevalence)  # <= 0.5, so AC1 is defined when n > 0
    return {
        "n": n,
        "prevalence_a": pa,
        "prevalence_b": pb,
        "observed_agreement": po,
        "kappa": kappa,
        "se": kappa_standard_error(a, b, c, d, kappa),
        "positive_agreement": _safe_ratio(2 * a, 2 * a + b + c),
        "negative_agreement": _safe_ratio(2 * d, 2 * d + b + c),
        "ac1": (po - chance_ac1) / (1 - chance_ac1),
        "pabak": 2 * po - 1,
    }


def pair_flags(both: int, a_only: int, b_only: int, neither: int, kappa: float, *,
               units: int | None = None, ci_width: float | None = None) -> list[Flag]:
    """Warning flags for one pair (scalar counts). Definitions:

    - ``undefined``: kappa is undefined (no unit labelled by both, or both raters gave every unit
      the same value).
    - ``constant_rater``: at least one rater gave the same value to every unit they share.
    - ``low_positive_count``: the positive labels given by the pair, counted per rater
      (2*both + a_only + b_only), number fewer than 10, so kappa rests on very few events.
    - ``kappa_paradox``: observed agreement >= 0.9 but kappa < 0.4 (high agreement on a rare or
      very common mode; read AC1/PABAK and specific agreement alongside).
    - ``few_units``: fewer than 30 units are shared by the pair (``units``; defaults to the count
      total, which is the number of units for a single mode). A percentile bootstrap over so few
      units gives intervals that are too narrow, so read the interval as optimistic.
    - ``uninformative``: the confidence interval (its width ``ci_width``; None when there is none)
      is wider than 0.5, half the way from chance to perfect agreement: the data cannot place
      kappa, e.g. cannot tell fair (0.2-0.4) from substantial (0.6-0.8) agreement.
    """
    n = both + a_only + b_only + neither
    a_pos, b_pos = both + a_only, both + b_only
    flags: list[Flag] = []
    if np.isnan(kappa):
        flags.append("undefined")
    if n > 0 and (a_pos in (0, n) or b_pos in (0, n)):
        flags.append("constant_rater")
    if a_pos + b_pos < LOW_POSITIVE_THRESHOLD:
        flags.append("low_positive_count")
    if not np.isnan(kappa) and (both + neither) / n >= PARADOX_MIN_AGREEMENT and kappa < PARADOX_MAX_KAPPA:
        flags.append("kappa_paradox")
    if 0 < (n if units is None else units) < FEW_UNITS_THRESHOLD:
        flags.append("few_units")
    if ci_width is not None and ci_width > UNINFORMATIVE_WIDTH:
        flags.append("uninformative")
    return flags


def any_pair_flags(both, a_only, b_only, neither, kappa) -> dict[str, bool]:
    """Whether some pair of count arrays (P,) has :func:`pair_flags`' ``kappa_paradox`` or ``few_units``
    (counted over the pair's units), the same tests written over arrays for the mode-level flags."""
    a, b, c, d = (np.asarray(x, dtype=np.float64) for x in (both, a_only, b_only, neither))
    n = a + b + c + d
    defined = ~np.isnan(kappa)
    with np.errstate(divide="ignore", invalid="ignore"):
        agreement = np.where(n > 0, (a + d) / np.where(n > 0, n, 1), 0.0)
    paradox = defined & (agreement >= PARADOX_MIN_AGREEMENT) & (kappa < PARADOX_MAX_KAPPA)
    return {"kappa_paradox": bool(paradox.any()), "few_units": bool(((n > 0) & (n < FEW_UNITS_THRESHOLD)).any())}


def undefined_reason(both: int, a_only: int, b_only: int, neither: int) -> str | None:
    """Why kappa is undefined for these counts, or None when it is defined."""
    n = both + a_only + b_only + neither
    if n == 0:
        return "no unit was labelled by both raters"
    if both == n:
        return "both raters marked every unit present"
    if neither == n:
        return "both raters marked every unit absent"
    return None


def two_rater_counts(label_set: LabelSet, a: str, b: str) -> dict[str, np.ndarray]:
    """2x2 counts per mode for two named raters (arrays of length m): both, a_only, b_only, neither."""
    sub = label_set.select_raters([a, b]).values
    sums = pair_indicators(sub).sum(axis=0)[:, 0, :]  # (m, 4)
    return dict(zip(("both", "a_only", "b_only", "neither"), cells_from_indicator_sums(sums)))
