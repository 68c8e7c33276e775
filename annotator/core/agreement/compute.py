"""Assemble the agreement report (the "report JSON" contract of DESIGN.md) from a LabelSet.

The report's shape is :mod:`annotator.core.report.model`; this module fills it in, writing the keys
in the order the JSON shows them.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from annotator.core.report.model import (
    CiMethods,
    Flag,
    Level,
    Mode,
    Pair,
    Pooled,
    PooledPair,
    RaterKind,
    Report,
    Resample,
    UndefinedReasons,
)

from . import alttest, intervals, pairblocks, pairwise, people, summary
from .ambiguity import co_confusion, contested_units
from .bias import bias_fields, bias_statistics
from .labels import LabelSet, rater_pairs, rollup
from .listing import PAIRS_AUTO, list_pairs, listing_params
from .resampling import RESAMPLE_BY, choose_resample, resample_groups

Intervals = pairblocks.Intervals
# One interval: (low, high, resamples where the statistic was undefined; None without bootstrap or
# when the interval does not come from resampling).
Interval = tuple[float, float, int | None]
# Intervals per (mode, pair): (low, high, undefined resamples or None), arrays of shape (m, P).
PairIntervals = tuple[np.ndarray, np.ndarray, np.ndarray | None]

LEVELS = ("segment", "trace")


def _num(x: float | np.ndarray) -> float | None:
    """A plain float for JSON, None for undefined (NaN never leaves this module)."""
    x = float(x)
    return None if np.isnan(x) else x


def compute_report(
    label_set: LabelSet,
    *,
    bootstrap: int = 1000,
    seed: int = 0,
    level: str = "segment",
    taxonomy: tuple[str, str] | None = None,
    resample: str | None = None,
    ci_level: float = 0.95,
    ci_method: str = intervals.DEFAULT_METHOD,
    contested_limit: int = 20,
    alt_test_epsilon: float = alttest.DEFAULT_EPSILON,
    pairs: str = PAIRS_AUTO,
) -> Report:
    """Agreement per failure mode and rater pair, pooled, multi-rater, and ambiguity signals.

    Parameters
    ----------
    label_set : LabelSet
    bootstrap : int, default 1000
        Percentile-bootstrap resamples for the intervals of the pooled and mean pairwise kappas, and
        of the pair kappas with ``ci_method="percentile"`` (0: those intervals are all None).
    seed : int, default 0
        Seed of the resampling and of the posterior draws; the same input and seed give the same report.
    level : {"segment", "trace"}
        With "trace" and ``label_set.unit_groups`` set, units are first rolled up to traces
        (:func:`rollup`); without unit_groups the units are taken to be traces already.
    taxonomy : (name, version), optional
        Recorded in the report; None gives nulls.
    resample : {"segment", "trace"}, optional
        "segment" resamples units one by one, "trace" whole traces (``unit_groups``; a cluster
        bootstrap, honest when segments of a trace are correlated, and wider). None (the default)
        follows the segmentation (:func:`.resampling.choose_resample`): trace when some trace holds
        more than one segment, else segment. ``params.resample_reason`` says why.
    ci_level : float, default 0.95
    ci_method : {"dirichlet", "goodness-of-fit", "percentile"}, default "dirichlet"
        Interval of each pair's kappa per mode (:mod:`.intervals`; the default holds its coverage on
        rare modes, see BENCHMARKS.md). Pooled pair kappas and mean pairwise kappas always get the
        percentile bootstrap (their units are not independent cells of one 2x2 table).
    contested_limit : int, default 20
        How many contested units to list.
    alt_test_epsilon : float, default 0.2
        The alt-test's cost-benefit margin (:mod:`.alttest`; the paper's 0.2 for expert annotators,
        0.15 for skilled ones, 0.1 for crowd workers).
    pairs : {"auto", "all", "none"}, default "auto"
        Whether the report lists every rater pair (``modes[].pairs``, ``pooled.pairs``,
        ``summary.pairs``): "auto" does up to :data:`.listing.AUTO_MAX_RATERS` raters, "all" always,
        "none" never. Their number grows with the square of the raters; every other figure is the same
        either way, and ``params.pairs_omitted`` says whether (and why) they were left out.

    Returns
    -------
    Report
        The report JSON contract (:class:`annotator.core.report.model.Report`). Every headline
        figure (a mode's mean pairwise kappa, Fleiss' kappa, alpha, the pooled mean kappa, the
        averages, the ambiguity signals) is among people only (:mod:`.people`); the pairs keep every
        rater, and each judge gets its own figures against the people. Every
        value is a plain int, float, str, list, dict or None; undefined values are None and
        averages leave them out and say how many modes (or pairs) they cover.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([[[1], [1]], [[0], [0]], [[1], [0]], [[0], [0]]], dtype=np.int8)
    >>> ls = LabelSet(("s1", "s2", "s3", "s4"), ("ann", "bob"), ("human", "human"),
    ...               (("1.1", "Disobey task specification", "Specification"),), v)
    >>> report = compute_report(ls, bootstrap=0)
    >>> report["modes"][0]["pairs"][0]["kappa"]
    0.5
    """
    _check_options(bootstrap, level, resample, ci_level, ci_method)
    if not 0 <= alt_test_epsilon < 1:
        raise ValueError(f"alt_test_epsilon must be in [0, 1), got {alt_test_epsilon!r}")
    data = rollup(label_set) if level == "trace" and label_set.unit_groups is not None else label_set
    resample, resample_reason = choose_resample(label_set, level=level, requested=resample)
    groups = resample_groups(data, resample)
    n, r, m = data.shape
    listed, omitted_reason = list_pairs(pairs, r)
    sums, shared_units = pairblocks.pair_sums(data.values)  # (m, P, 4); per pair: units with a shared label
    per_mode = _pair_statistics(sums)
    pooled = _pair_statistics(sums.sum(axis=0))
    boot = pairblocks.bootstrap_intervals(data.values, people.Resampled(data), n_resamples=bootstrap, seed=seed,
                                          groups=groups, ci_level=ci_level, with_pairs=listed)
    pair_ci = _pair_intervals(sums, boot, ci_method, ci_level, seed) if listed else None
    # Without the listing, no pair entry is built (names is empty): the pair figures stay arrays.
    names = [(data.raters[a], data.raters[b]) for a, b in zip(*rater_pairs(r))] if listed else []
    fig = people.figures(data, per_mode["kappa"], pooled["kappa"], None if boot is None else boot["people"])
    modes = [_mode_entry(data, k, sums[k], per_mode, (pair_ci, ci_method), fig, names, alt_test_epsilon)
             for k in range(m)]
    pooled_entry = _pooled_entry(sums.sum(axis=0), pooled, boot, names, shared_units, fig)
    ambiguity = people.people_only(data)
    return {
        "taxonomy": {"name": taxonomy[0] if taxonomy else None, "version": taxonomy[1] if taxonomy else None},
        "level": cast(Level, level),  # checked by _check_options
        "raters": [{"name": name, "kind": cast(RaterKind, kind)} for name, kind in zip(data.raters, data.rater_kinds)],
        "modes": modes,
        "pooled": pooled_entry,
        "co_confusion": co_confusion(ambiguity),
        "contested": contested_units(ambiguity, limit=contested_limit),
        "classification": summary.classification(data),
        "summary": summary.summary(data, modes, pooled_entry, names),
        "params": {
            "bootstrap": int(bootstrap), "seed": int(seed), "ci_level": float(ci_level),
            "ci_method": ci_method, "ci_methods": _ci_methods(ci_method), "resample": cast(Resample, resample),
            "resample_reason": resample_reason,
            "units": n, "low_positive_threshold": pairwise.LOW_POSITIVE_THRESHOLD,
            "few_units_threshold": pairwise.FEW_UNITS_THRESHOLD,
            "uninformative_width": intervals.UNINFORMATIVE_WIDTH,
            "alt_test_epsilon": float(alt_test_epsilon), "alt_test_q": alttest.DEFAULT_Q,
            **listing_params(pairs, r, omitted_reason),
        },
    }


def _check_options(bootstrap: int, level: str, resample: str | None, ci_level: float, ci_method: str) -> None:
    if not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a non-negative integer, got {bootstrap!r}")
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if resample is not None and resample not in RESAMPLE_BY:
        raise ValueError(f"resample must be one of {', '.join(RESAMPLE_BY)}, got {resample!r}")
    if not 0 < ci_level < 1:
        raise ValueError(f"ci_level must be between 0 and 1, got {ci_level!r}")
    if ci_method not in intervals.METHODS:
        raise ValueError(f"ci_method must be one of {', '.join(intervals.METHODS)}, got {ci_method!r}")


def _ci_methods(ci_method: str) -> CiMethods:
    """What each interval of the report is: the pair kappas per mode get ``ci_method``; the rest the
    percentile bootstrap over segments or traces (``params.resample``)."""
    return {"modes.pairs": ci_method, "modes.mean_pairwise_kappa": intervals.PERCENTILE,
            "pooled.pairs": intervals.PERCENTILE, "pooled.mean_pairwise_kappa": intervals.PERCENTILE,
            "modes.fleiss_kappa": intervals.PERCENTILE, "modes.krippendorff_alpha": intervals.PERCENTILE,
            "modes.people": intervals.PERCENTILE, "modes.judges": intervals.PERCENTILE}


def _pair_intervals(sums: np.ndarray, boot: Intervals | None, ci_method: str, ci_level: float,
                    seed: int) -> PairIntervals | None:
    """The interval of every (mode, pair) kappa, or None without intervals (percentile, no bootstrap)."""
    if ci_method == intervals.PERCENTILE:
        return None if boot is None else cast(PairIntervals, boot["pair"])
    low, high = intervals.kappa_interval(*pairwise.cells_from_indicator_sums(sums), method=ci_method,
                                         level=ci_level, seed=seed)
    return low, high, None


def _pair_statistics(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Every two-rater figure of summed indicators (..., 4): agreement (pairwise) and bias (bias)."""
    cells = pairwise.cells_from_indicator_sums(sums)
    return {**pairwise.pair_statistics(*cells), **bias_statistics(*cells)}


def _at(stats: dict[str, np.ndarray], index: int | tuple[int, int]) -> dict[str, float]:
    return {key: value[index] for key, value in stats.items()}


def _ci_at(ci: tuple[np.ndarray, ...] | PairIntervals | None, index: int | tuple[int, int]) -> Interval:
    if ci is None:
        return (np.nan, np.nan, None)
    low, high, undefined = ci
    return (low[index], high[index], None if undefined is None else int(undefined[index]))


def _pair_entry(names: tuple[str, str], cell_sums: np.ndarray, values: dict[str, float], ci: Interval,
                ci_method: str, units: int | None = None) -> Pair:
    """One rater pair's contract fields plus extras, from its indicator sums and statistics.

    ``ci`` was computed by ``ci_method``. ``units`` (pooled entries only) is the number of units
    behind the n (unit, mode) cells; it decides the ``few_units`` flag.
    """
    both, a_only, b_only, neither = (round(float(x)) for x in pairwise.cells_from_indicator_sums(cell_sums))
    low, high = _num(ci[0]), _num(ci[1])
    width = None if low is None or high is None else high - low
    return {
        "a": names[0], "b": names[1], "n": both + a_only + b_only + neither,
        "both": both, "a_only": a_only, "b_only": b_only, "neither": neither,
        # the statistics of pairwise.pair_statistics, then those of bias.bias_statistics
        "observed_agreement": _num(values["observed_agreement"]), "kappa": _num(values["kappa"]),
        "se": _num(values["se"]), "positive_agreement": _num(values["positive_agreement"]),
        "negative_agreement": _num(values["negative_agreement"]), "ac1": _num(values["ac1"]),
        "pabak": _num(values["pabak"]), "prevalence_a": _num(values["prevalence_a"]),
        "prevalence_b": _num(values["prevalence_b"]), **bias_fields(values, ()),
        "ci_low": low, "ci_high": high, "ci_method": ci_method,
        "undefined_resamples": ci[2],
        "flags": pairwise.pair_flags(both, a_only, b_only, neither, float(values["kappa"]), units=units,
                                     ci_width=width),
        "undefined_reason": pairwise.undefined_reason(both, a_only, b_only, neither),
    }


def _pooled_pair(names: tuple[str, str], cell_sums: np.ndarray, values: dict[str, float], ci: Interval,
                 units: int) -> PooledPair:
    entry = dict(_pair_entry(names, cell_sums, values, ci, intervals.PERCENTILE, units))
    # The JSON has "units" just before "flags" (the contract's key order): put it there.
    tail = {key: entry.pop(key) for key in ("flags", "undefined_reason")}
    return cast(PooledPair, {**entry, "units": units, **tail})


def _mode_entry(data: LabelSet, k: int, mode_sums: np.ndarray, stats: dict[str, np.ndarray],
                pair_ci: tuple[PairIntervals | None, str], fig: people.Figures, names: list[tuple[str, str]],
                alt_test_epsilon: float) -> Mode:
    """One mode's entry; ``pair_ci`` is (the intervals per (mode, pair) or None, their method).

    The pairs are every rater pair; the multi-rater figures are among people only (``fig``).
    """
    code, name, category = data.modes[k]
    ci, ci_method = pair_ci
    pairs = [_pair_entry(names[p], mode_sums[p], _at(stats, (k, p)), _ci_at(ci, (k, p)), ci_method)
             for p in range(len(names))]
    values = data.values[:, :, k : k + 1]
    people_values = data.values[:, list(people.roles(data).people), k]
    crowd = people.people_entry(fig, k)
    fleiss, alpha = _num(fig.fleiss[k]), _num(fig.alpha[k])
    return {
        "code": code, "name": name, "category": category, "pairs": pairs,
        "mean_pairwise_kappa": crowd["mean_kappa"],
        "mean_pairwise_kappa_pairs": crowd["pairs"],
        "mean_pairwise_kappa_ci_low": crowd["ci_low"],
        "mean_pairwise_kappa_ci_high": crowd["ci_high"],
        "mean_human_kappa": crowd["mean_kappa"],
        "fleiss_kappa": fleiss,
        "fleiss_kappa_ci_low": _num(fig.fleiss_ci[0][k]), "fleiss_kappa_ci_high": _num(fig.fleiss_ci[1][k]),
        "krippendorff_alpha": alpha,
        "krippendorff_alpha_ci_low": _num(fig.alpha_ci[0][k]),
        "krippendorff_alpha_ci_high": _num(fig.alpha_ci[1][k]),
        "people": crowd,
        "judges": people.judge_entries(data, fig, k, epsilon=alt_test_epsilon, q=alttest.DEFAULT_Q),
        "labelled_units": int((values >= 0).any(axis=1).sum()),
        "positive_labels": int((values == 1).sum()),
        "flags": _mode_flags(values[:, :, 0], mode_sums, stats["kappa"][k]),
        "undefined_reasons": _mode_undefined_reasons(people_values, mean_kappa=crowd["mean_kappa"], fleiss=fleiss,
                                                     alpha=alpha),
    }


def _mode_flags(values: np.ndarray, mode_sums: np.ndarray, kappa: np.ndarray) -> list[Flag]:
    """Mode-level flags: ``undefined`` (no pair has a defined kappa), ``constant_rater`` (some
    rater gave one value to every unit they labelled), ``low_positive_count`` (fewer than 10
    positive labels from all raters together), ``kappa_paradox`` and ``few_units`` (some pair
    has it, :func:`.pairwise.pair_flags`; from the pair counts, listed or not)."""
    labelled = (values >= 0).sum(axis=0)
    positives = (values == 1).sum(axis=0)
    both, a_only, b_only, neither = pairwise.cells_from_indicator_sums(mode_sums)
    some_pair = pairwise.any_pair_flags(both, a_only, b_only, neither, kappa)
    flags: list[Flag] = []
    if np.isnan(kappa).all():
        flags.append("undefined")
    if ((labelled > 0) & ((positives == 0) | (positives == labelled))).any():
        flags.append("constant_rater")
    if positives.sum() < pairwise.LOW_POSITIVE_THRESHOLD:
        flags.append("low_positive_count")
    flags += [flag for flag in ("kappa_paradox", "few_units") if some_pair[flag]]
    return flags


def _mode_undefined_reasons(values: np.ndarray, *, mean_kappa: float | None, fleiss: float | None,
                            alpha: float | None) -> UndefinedReasons:
    """Why each None multi-rater value is None (only keys whose value is None); ``values`` are the people's."""
    r = values.shape[1]
    labelled = values >= 0
    seen = labelled.any(axis=1)
    reasons: UndefinedReasons = {}
    if mean_kappa is None:
        reasons["mean_pairwise_kappa"] = "no pair of people has a defined kappa"
    if fleiss is None:
        if r < 2 or not seen.any():
            reasons["fleiss_kappa"] = "fewer than two people or no unit labelled by people"
        elif not labelled[seen].all():
            reasons["fleiss_kappa"] = "not every labelled unit has a label from every rater"
        else:
            reasons["fleiss_kappa"] = "every label has the same value"
    if alpha is None:
        pairable = labelled.sum(axis=1) >= 2
        reasons["krippendorff_alpha"] = (
            "every label on units with two or more labels has the same value" if pairable.any()
            else "no unit has two or more labels"
        )
    return reasons


def _pooled_entry(pooled_sums: np.ndarray, stats: dict[str, np.ndarray], boot: Intervals | None,
                  names: list[tuple[str, str]], shared_units: np.ndarray, fig: people.Figures) -> Pooled:
    """Every pooled pair; the mean pairwise kappa (and its interval) over person-person pairs only."""
    ci = None if boot is None else boot["pooled"]
    pairs = [_pooled_pair(names[p], pooled_sums[p], _at(stats, p), _ci_at(ci, p), int(shared_units[p]))
             for p in range(len(names))]
    return {
        "pairs": pairs,
        "mean_pairwise_kappa": _num(fig.pooled_people_mean),
        "mean_pairwise_kappa_pairs": fig.pooled_people_pairs_defined,
        "mean_pairwise_kappa_ci_low": _num(fig.pooled_people_mean_ci[0]),
        "mean_pairwise_kappa_ci_high": _num(fig.pooled_people_mean_ci[1]),
    }
