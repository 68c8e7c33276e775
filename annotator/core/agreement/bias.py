"""Rater bias and prevalence of two raters, in numbers: what to read beside kappa (issue 10, item 6).

A low kappa has three common causes: the raters disagree about the mode (ambiguity), one rater marks
it more often than the other (bias), or the mode is rare or near universal, so that chance agreement
is already high (prevalence). These figures tell them apart, per (mode, pair), from the 2x2 counts
``both`` (a), ``a_only`` (b: rater a present, rater b absent), ``b_only`` (c) and ``neither`` (d),
n = a + b + c + d, vectorised over any leading shape like :mod:`.pairwise` (NaN = undefined):

``bias_index``
    BI = (b - c) / n (Byrt, Bishop & Carlin 1993, "Bias, prevalence and kappa"): the difference of the
    raters' prevalences. Signed: positive when rater a marks the mode more often than rater b.
``prevalence_index``
    PI = (a - d) / n (same paper): positive when "present" is the more common joint answer, near -1 for
    a rare mode both raters mostly call absent. A large |PI| depresses kappa for a given agreement.
``kappa_max``
    The largest kappa the two raters' marginals allow (Cohen 1960; Sim & Wright 2005): with the
    marginals fixed, the most agreement possible is p_o,max = min(p_a, p_b) + min(1 - p_a, 1 - p_b).
    kappa_max = (p_o,max - p_e) / (1 - p_e). Below 1 exactly when the prevalences differ: the gap
    between kappa and kappa_max that bias alone explains. Undefined where kappa is.
``mcnemar_*``
    McNemar's test of marginal homogeneity (H0: both raters mark the mode equally often), on the
    discordant counts b and c. With b + c < ``MCNEMAR_EXACT_BELOW`` the exact binomial test
    (statistic min(b, c), p = min(1, 2 P[Bin(b + c, 1/2) <= min(b, c)])), as
    ``statsmodels.stats.contingency_tables.mcnemar(table, exact=True)``; from there on the chi-square
    test with continuity correction (statistic (|b - c| - 1)^2 / (b + c), 1 degree of freedom), as
    ``mcnemar(table, exact=False, correction=True)``. ``mcnemar_method`` says which ("exact" or
    "chi2"). Undefined (None) when b + c = 0: without a discordant unit there is nothing to test.

Only numpy and math (no scipy at run time): the binomial tail below the threshold comes from a small
table of exact binomial coefficients, the chi-square tail from ``math.erfc``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypedDict

import numpy as np

from annotator.core.report.model import McNemarMethod

MCNEMAR_EXACT_BELOW = 25  # discordant units: exact binomial test below, chi-square approximation from here
BIAS_FIELDS = ("bias_index", "prevalence_index", "kappa_max", "mcnemar_statistic", "mcnemar_p")


class BiasFields(TypedDict):
    """The bias and prevalence figures of one pair, as the report writes them (None = undefined)."""

    bias_index: float | None
    prevalence_index: float | None
    kappa_max: float | None
    mcnemar_statistic: float | None
    mcnemar_p: float | None
    mcnemar_method: McNemarMethod | None


def _binomial_half_cdf_table(size: int) -> np.ndarray:
    """table[N, k] = P[Bin(N, 1/2) <= k] for 0 <= k <= N < size (exact integers, then one division)."""
    table = np.ones((size, size))
    for total in range(size):
        running = 0
        for k in range(total + 1):
            running += math.comb(total, k)
            table[total, k] = running / 2**total
    return table


_EXACT_CDF = _binomial_half_cdf_table(MCNEMAR_EXACT_BELOW)


def _chi2_one_df_sf(statistic: np.ndarray) -> np.ndarray:
    """P[chi-square(1) > x] = erfc(sqrt(x / 2)), elementwise (NaN stays NaN)."""
    statistic = np.asarray(statistic, dtype=np.float64)
    tail = np.full(statistic.shape, np.nan)
    defined = ~np.isnan(statistic)
    tail[defined] = [math.erfc(math.sqrt(x / 2)) for x in statistic[defined]]
    return tail


def mcnemar(a_only, b_only) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """McNemar's test on the discordant counts: (statistic, p-value, exact?) arrays; NaN where b + c = 0.

    Examples
    --------
    >>> statistic, p, exact = mcnemar(1, 7)
    >>> float(statistic), round(float(p), 4), bool(exact)
    (1.0, 0.0703, True)
    """
    b, c = (np.asarray(x, dtype=np.float64) for x in (a_only, b_only))
    discordant = b + c
    exact = discordant < MCNEMAR_EXACT_BELOW
    smaller = np.minimum(b, c)
    rows = np.where(exact, discordant, 0).astype(np.intp)
    cols = np.where(exact, smaller, 0).astype(np.intp)
    exact_p = np.minimum(1.0, 2 * _EXACT_CDF[rows, cols])
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = (np.abs(b - c) - 1) ** 2 / discordant
    chi2 = np.where(exact, np.nan, chi2)
    statistic = np.where(exact, smaller, chi2)
    p_value = np.where(exact, exact_p, _chi2_one_df_sf(chi2))
    undefined = discordant == 0
    return np.where(undefined, np.nan, statistic), np.where(undefined, np.nan, p_value), exact


def bias_statistics(both, a_only, b_only, neither) -> dict[str, np.ndarray]:
    """BI, PI, kappa_max and McNemar's test of 2x2 counts (same shape in and out; NaN = undefined).

    Keys: ``BIAS_FIELDS`` plus ``mcnemar_exact`` (bool: the exact binomial version was used).

    Examples
    --------
    Feinstein & Cicchetti (1990), "High agreement but low kappa", table B: 80 both present, 10 and 5
    split, 5 both absent (p_o = 0.85, kappa = 0.32).

    >>> s = bias_statistics(80, 10, 5, 5)
    >>> round(float(s["bias_index"]), 2), round(float(s["prevalence_index"]), 2), round(float(s["kappa_max"]), 3)
    (0.05, 0.75, 0.773)
    """
    a, b, c, d = (np.asarray(x, dtype=np.float64) for x in (both, a_only, b_only, neither))
    n = a + b + c + d
    a_pos, a_neg, b_pos, b_neg = a + b, c + d, a + c, b + d
    # Both kappa_max terms times n^2, so that the test for "undefined" is exact on integer counts:
    # the denominator n^2 (1 - p_e) = A+ B- + A- B+ is zero exactly where kappa is undefined.
    denominator = a_pos * b_neg + a_neg * b_pos
    numerator = n * (np.minimum(a_pos, b_pos) + np.minimum(a_neg, b_neg)) - (a_pos * b_pos + a_neg * b_neg)
    statistic, p_value, exact = mcnemar(b, c)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "bias_index": np.where(n > 0, (b - c) / n, np.nan),
            "prevalence_index": np.where(n > 0, (a - d) / n, np.nan),
            "kappa_max": np.where(denominator > 0, numerator / denominator, np.nan),
            "mcnemar_statistic": statistic,
            "mcnemar_p": p_value,
            "mcnemar_exact": exact,
        }


def bias_fields(stats: Mapping[str, Any], index: int | tuple[int, ...]) -> BiasFields:
    """One pair's figures from :func:`bias_statistics` arrays, as plain floats with None for undefined."""
    values = {key: float(stats[key][index]) for key in BIAS_FIELDS}
    plain = {key: None if math.isnan(value) else value for key, value in values.items()}
    method: McNemarMethod | None = None
    if plain["mcnemar_p"] is not None:
        method = "exact" if bool(stats["mcnemar_exact"][index]) else "chi2"
    return {"bias_index": plain["bias_index"], "prevalence_index": plain["prevalence_index"],
            "kappa_max": plain["kappa_max"], "mcnemar_statistic": plain["mcnemar_statistic"],
            "mcnemar_p": plain["mcnemar_p"], "mcnemar_method": method}
