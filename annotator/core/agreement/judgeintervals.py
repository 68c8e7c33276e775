"""Intervals for a judge comparison (issue 10, item 2): precision, recall and F1 per mode and pooled, and
the change in kappa from one judge run to the next with a paired interval.

Precision, recall and F1 per mode (``SCORE_METHOD_AGRESTI_COULL``, when segments are independent)
    Precision tp / (tp + fp) is a binomial proportion given the judge's positives, recall
    tp / (tp + fn) one given the reference's positives: each gets the Agresti-Coull interval (Agresti
    & Coull 1998: add z^2/2 successes and failures, then the normal interval; recommended for small
    counts by Brown, Cai & DasGupta 2001). It is never of zero width, where the percentile bootstrap
    collapses to [1, 1] on a judge that was right every time. F1 = 2J / (1 + J) is an increasing
    function of J = tp / (tp + fp + fn), itself a binomial proportion given the units where either side
    said "present"; F1's interval is the interval of J mapped through it. Measured
    (benchmarks/bench_judge_coverage.py, BENCHMARKS.md): the Wilson interval, from which Agresti-Coull
    is derived, fell to 87% on modes with about one positive (one hit in one trial gives [0.21, 1]);
    Agresti-Coull, slightly wider there, did not.
Everything else, and the scores too when segments are clustered in traces (``SCORE_METHOD_BOOTSTRAP``)
    The percentile bootstrap of :mod:`.bootstrap`, resampling segments or whole traces
    (:mod:`.resampling`). Pooled (micro) scores add up cells of one unit across modes, which are not
    independent, so they are bootstrapped by unit even with closed-form intervals per mode.
The change in kappa between consecutive judges (``kappa_change``, and ``mean_kappa_change`` over modes)
    Paired: both judges are scored on the same segments, so what the two runs share (the same hard
    segments) cancels out of the difference; an unpaired interval (from the two kappas' own intervals)
    would be far too wide. Per mode, with independent segments (``CHANGE_METHOD_DIRICHLET``): each
    segment that the reference and both judges labelled is one of 8 (reference, judge 1, judge 2)
    cells; the limits are the 2.5% and 97.5% quantiles of kappa(reference, judge 2) - kappa(reference,
    judge 1) under the Dirichlet posterior of the 8 cell probabilities with the Jeffreys prior (1/2 per
    cell). The paired percentile bootstrap fell to 83% coverage at 50 segments and a 5% mode; this
    posterior held 94-99% in every cell measured (BENCHMARKS.md). With traces resampled
    (``CHANGE_METHOD_BOOTSTRAP``), and for the mean over modes (modes share segments), the paired
    percentile bootstrap: each resample draws one set of units for both judges.

Every array is NaN where the figure is undefined; NaN never leaves the package (the services turn it
into None).
"""

from __future__ import annotations

import numpy as np

from .bootstrap import bootstrap, percentile_interval
from .intervals import normal_quantile
from .multirater import nan_mean
from .pairwise import kappa_from_counts

SCORE_METHOD_AGRESTI_COULL = "agresti-coull"
SCORE_METHOD_BOOTSTRAP = "percentile"
CHANGE_METHOD_DIRICHLET = "paired dirichlet"
CHANGE_METHOD_BOOTSTRAP = "paired percentile bootstrap"
CHANGE_PRIOR = 0.5  # Jeffreys: 1/2 per cell of the (reference, judge 1, judge 2) table
POSTERIOR_DRAWS = 4000
SCORES = ("precision", "recall", "f1")


def agresti_coull_interval(successes, trials, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Agresti-Coull interval of a binomial proportion, clipped to [0, 1], elementwise; NaN without a trial.

    >>> low, high = agresti_coull_interval(8, 10)
    >>> round(float(low), 4), round(float(high), 4)
    (0.4794, 0.9541)
    """
    x, n = (np.asarray(v, dtype=np.float64) for v in (successes, trials))
    z = normal_quantile(1 - (1 - level) / 2)
    n_tilde = n + z**2
    p_tilde = (x + z**2 / 2) / n_tilde
    half = z * np.sqrt(p_tilde * (1 - p_tilde) / n_tilde)
    undefined = n <= 0
    return (np.where(undefined, np.nan, np.clip(p_tilde - half, 0, 1)),
            np.where(undefined, np.nan, np.clip(p_tilde + half, 0, 1)))


def score_intervals(tp, fp, fn, *, level: float = 0.95) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Agresti-Coull intervals of precision, recall and F1 (see the module docstring), elementwise.

    >>> ci = score_intervals(8, 2, 0)
    >>> [round(float(x), 3) for x in ci["f1"]]
    [0.648, 0.977]
    """
    tp, fp, fn = (np.asarray(v, dtype=np.float64) for v in (tp, fp, fn))
    jaccard_low, jaccard_high = agresti_coull_interval(tp, tp + fp + fn, level=level)
    return {
        "precision": agresti_coull_interval(tp, tp + fp, level=level),
        "recall": agresti_coull_interval(tp, tp + fn, level=level),
        "f1": (2 * jaccard_low / (1 + jaccard_low), 2 * jaccard_high / (1 + jaccard_high)),
    }


def _kappas_of_triples(tables: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kappa of (reference, judge 1) and (reference, judge 2) from 8-cell tables (..., 8), cell index
    4 reference + 2 judge 1 + judge 2."""
    t = np.asarray(tables, dtype=np.float64).reshape(*np.shape(tables)[:-1], 2, 2, 2)
    kappas = []
    for other in (-1, -2):  # sum out the other judge: (..., reference, this judge)
        m = t.sum(axis=other)
        kappas.append(kappa_from_counts(m[..., 1, 1], m[..., 1, 0], m[..., 0, 1], m[..., 0, 0]))
    return kappas[0], kappas[1]


def paired_change_interval(tables, *, level: float = 0.95, seed: int = 0,
                           draws: int = POSTERIOR_DRAWS) -> tuple[np.ndarray, np.ndarray]:
    """Interval of kappa(reference, judge 2) - kappa(reference, judge 1) from 8-cell tables (..., 8), under
    the Dirichlet posterior with prior ``CHANGE_PRIOR`` per cell; NaN where either kappa is undefined.

    >>> low, high = paired_change_interval([30, 2, 3, 1, 1, 4, 2, 57])
    >>> bool(low < 0 < high)
    True
    """
    tables = np.asarray(tables, dtype=np.float64)
    k1, k2 = _kappas_of_triples(tables)
    rng = np.random.default_rng(seed)
    gamma = rng.gamma(tables + CHANGE_PRIOR, size=(draws, *tables.shape))
    p1, p2 = _kappas_of_triples(gamma / gamma.sum(axis=-1, keepdims=True))
    tail = (1 - level) / 2
    low, high = np.quantile(p2 - p1, [tail, 1 - tail], axis=0)
    undefined = np.isnan(k1) | np.isnan(k2)
    return np.where(undefined, np.nan, low), np.where(undefined, np.nan, high)


def _triple_tables(reference: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(J - 1, m, 8) counts of consecutive judges on the units that the reference and both labelled."""
    ref = reference[None]
    first, second = predicted[:-1], predicted[1:]
    valid = (ref >= 0) & (first >= 0) & (second >= 0)
    cell = 4 * (ref == 1) + 2 * (first == 1) + (second == 1)  # (J - 1, n, m)
    return np.stack([((cell == c) & valid).sum(axis=1) for c in range(8)], axis=-1)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def _confusion_indicators(reference: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Per unit (n, J, m, 4) bool: tp, fp, fn, both labelled; ``predicted`` is (J, n, m), -1 missing."""
    ref = reference[None]  # (1, n, m)
    valid = (ref >= 0) & (predicted >= 0)
    tp = (ref == 1) & (predicted == 1)
    fp = (ref == 0) & (predicted == 1)
    fn = (ref == 1) & (predicted == 0)
    return np.stack([tp, fp, fn, valid], axis=-1).transpose(1, 0, 2, 3)


def _figures(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Per resample (c, J, m, 4) sums: kappa, P, R, F1 per mode, pooled P, R, F1 and mean kappa per judge."""
    tp, fp, fn, valid = (sums[..., i] for i in range(4))
    kappa = kappa_from_counts(tp, fn, fp, valid - tp - fp - fn)  # a = reference, b = judge
    pooled = [sums[..., i].sum(axis=-1) for i in range(3)]
    out = {"kappa": kappa, "mean_kappa": nan_mean(kappa, axis=-1)[0]}
    for prefix, (t, p, n) in (("", (tp, fp, fn)), ("pooled_", tuple(pooled))):
        out[prefix + "precision"] = _ratio(t, t + p)
        out[prefix + "recall"] = _ratio(t, t + n)
        out[prefix + "f1"] = _ratio(2 * t, 2 * t + p + n)
    return out


def judge_intervals(reference: np.ndarray, predicted: np.ndarray, *, n_resamples: int, seed: int,
                    groups: np.ndarray | None = None, level: float = 0.95,
                    independent: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Intervals for J judges scored against one reference, per mode and pooled.

    Parameters
    ----------
    reference : ndarray (n, m) of int, 1 present, 0 absent, -1 missing
    predicted : ndarray (J, n, m), the judges in the order they are compared (each against the one before)
    n_resamples, seed : bootstrap resamples (0: no bootstrap intervals) and seed
    groups : trace index per unit to resample whole traces, or None (:func:`.resampling.resample_groups`)
    independent : closed-form per-mode intervals (independent units: Agresti-Coull scores, the paired Dirichlet
        change) instead of the bootstrap

    Returns
    -------
    dict of (low, high): ``precision``, ``recall``, ``f1`` and ``kappa_change`` of shape (J, m),
    ``pooled_precision``, ``pooled_recall``, ``pooled_f1`` and ``mean_kappa_change`` of shape (J,).
    The first judge has no change (NaN); without bootstrap the bootstrapped figures are NaN.
    """
    indicators = _confusion_indicators(np.asarray(reference), np.asarray(predicted))
    n, judges, modes, _ = indicators.shape
    nan_pair = (np.full((judges, modes), np.nan), np.full((judges, modes), np.nan))
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {"kappa_change": nan_pair}
    out.update({f"pooled_{s}": (np.full(judges, np.nan), np.full(judges, np.nan)) for s in SCORES})
    out["mean_kappa_change"] = (np.full(judges, np.nan), np.full(judges, np.nan))
    out.update({s: nan_pair for s in SCORES})
    if independent:  # independent segments: closed-form scores and the posterior of the paired table
        sums = indicators.sum(axis=0)
        out.update(score_intervals(sums[..., 0], sums[..., 1], sums[..., 2], level=level))
        if judges > 1:
            tables = _triple_tables(np.asarray(reference), np.asarray(predicted))
            change = paired_change_interval(tables, level=level, seed=seed)
            first = np.full((1, modes), np.nan)
            out["kappa_change"] = (np.concatenate([first, change[0]]), np.concatenate([first, change[1]]))
    if n_resamples == 0:
        return out
    names = [*(() if independent else SCORES), *(f"pooled_{s}" for s in SCORES)]
    changes = ["mean_kappa_change"] if independent else ["kappa_change", "mean_kappa_change"]

    def statistic(column_sums: np.ndarray) -> np.ndarray:
        figures = _figures(column_sums.reshape(len(column_sums), judges, modes, 4))
        change = np.diff(figures["kappa"], axis=1)  # (c, J - 1, m): each judge minus the one before
        mean_change = np.diff(figures["mean_kappa"], axis=1)
        blocks = [*([] if independent else [change]), mean_change, *(figures[name] for name in names)]
        return np.concatenate([b.reshape(len(column_sums), -1) for b in blocks], axis=1)

    samples = bootstrap(indicators.reshape(n, -1), statistic, n_resamples=n_resamples, seed=seed, groups=groups)
    low, high, _ = percentile_interval(samples, level=level)
    shapes = [*([] if independent else [(judges - 1, modes)]), (judges - 1,),
              *((judges, modes) if name in SCORES else (judges,) for name in names)]
    cuts = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
    for name, shape, lo, hi in zip([*changes, *names], shapes, np.split(low, cuts), np.split(high, cuts)):
        first = np.full((1, *shape[1:]), np.nan)  # the first judge is compared with no one
        lo, hi = lo.reshape(shape), hi.reshape(shape)
        out[name] = (np.concatenate([first, lo]), np.concatenate([first, hi])) if "change" in name else (lo, hi)
    return out
