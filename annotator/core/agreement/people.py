"""People apart from judges: the headline figures among people only, and each judge against the people.

A judge (rater kind "judge") is a candidate replacement for an annotator, never one of the annotators;
gold is a reference, not a person. So a mode's mean pairwise kappa, Fleiss' kappa, Krippendorff's alpha
and the pooled mean kappa are computed over people (kind "human") only, and each judge gets its own
figures: its mean kappa against the people (over judge-person pairs) and that minus the people's own
mean pairwise kappa.

Every interval here is a percentile bootstrap computed inside the report's bootstrap (:class:`Resampled`),
so it sees the very resampled units (or traces) the pair intervals see. The difference judge minus people
is computed inside each resample, which makes its interval a paired one.

Fleiss' kappa and Krippendorff's alpha are sums over units of per-unit terms (positives, labels, and for
alpha the disagreeing pairs n0 n1 / (m_u - 1)), so a resample is again one matrix product of the
resample weights with those per-unit columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator.core.report.model import JudgeFigure, PeopleFigure

from .alttest import alt_test
from .labels import LabelSet, rater_pairs
from .multirater import fleiss_kappa, krippendorff_alpha, nan_mean

PEOPLE_KIND = "human"
JUDGE_KIND = "judge"


@dataclass(frozen=True)
class Roles:
    """Who is a person and who is a judge, as rater indices and as rater-pair indices."""

    people: tuple[int, ...]  # rater indices of kind "human"
    judges: tuple[int, ...]  # rater indices of kind "judge"
    people_pairs: tuple[int, ...]  # pair indices (rater_pairs order) of person-person pairs
    judge_pairs: tuple[tuple[int, ...], ...]  # per judge: the pair indices of judge-person pairs


def roles(label_set: LabelSet) -> Roles:
    """The people, the judges and their pairs in ``rater_pairs`` order."""
    kinds = label_set.rater_kinds
    people = tuple(i for i, kind in enumerate(kinds) if kind == PEOPLE_KIND)
    judges = tuple(i for i, kind in enumerate(kinds) if kind == JUDGE_KIND)
    a_idx, b_idx = rater_pairs(len(kinds))
    pairs = list(zip(a_idx.tolist(), b_idx.tolist()))
    people_pairs = tuple(p for p, (a, b) in enumerate(pairs) if a in people and b in people)
    judge_pairs = tuple(tuple(p for p, pair in enumerate(pairs) if j in pair and set(pair) - {j} <= set(people))
                        for j in judges)
    return Roles(people, judges, people_pairs, judge_pairs)


@dataclass(frozen=True)
class Figures:
    """Point estimates and intervals (NaN = undefined) of the people and judge figures.

    Arrays are per mode (m,) or per judge and mode (J, m); ``*_ci`` are (low, high) pairs of such
    arrays, all NaN without bootstrap.
    """

    people_mean: np.ndarray  # (m,) mean kappa over person-person pairs with a defined kappa
    people_pairs_defined: np.ndarray  # (m,) how many such pairs
    people_mean_ci: tuple[np.ndarray, np.ndarray]
    pooled_people_mean: float
    pooled_people_pairs_defined: int
    pooled_people_mean_ci: tuple[float, float]
    fleiss: np.ndarray  # (m,) among people
    fleiss_ci: tuple[np.ndarray, np.ndarray]
    alpha: np.ndarray  # (m,) among people
    alpha_ci: tuple[np.ndarray, np.ndarray]
    judge_mean: np.ndarray  # (J, m) mean kappa over judge-person pairs with a defined kappa
    judge_mean_ci: tuple[np.ndarray, np.ndarray]
    minus_people: np.ndarray  # (J, m) judge_mean - people_mean
    minus_people_ci: tuple[np.ndarray, np.ndarray]


def _means(kappa: np.ndarray, who: Roles) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """From pair kappas (..., P): people mean and count (...), judge means (..., J) and differences (..., J)."""
    people_mean, people_count = nan_mean(kappa[..., list(who.people_pairs)])
    judge = [nan_mean(kappa[..., list(pairs)])[0] for pairs in who.judge_pairs]
    shape = kappa.shape[:-1] + (len(who.judges),)
    judge_mean = np.stack(judge, axis=-1) if judge else np.empty(shape)
    return people_mean, people_count, judge_mean, judge_mean - people_mean[..., None]


def multirater_columns(values: np.ndarray) -> np.ndarray:
    """Per-unit terms (n, m, 6) whose sums over units give Fleiss' kappa and Krippendorff's alpha.

    Columns: labelled by anyone, positives, pos^2 + neg^2 - r (Fleiss, r raters), then positives and
    negatives on units with two or more labels, and n0 n1 / (m_u - 1) there (alpha).
    """
    r = values.shape[1]
    positives = (values == 1).sum(axis=1).astype(np.float64)
    labelled = (values >= 0).sum(axis=1).astype(np.float64)
    seen = labelled > 0
    negatives_all = r - positives
    agreeing = np.where(seen, positives**2 + negatives_all**2 - r, 0.0)
    pairable = labelled >= 2
    n1 = np.where(pairable, positives, 0.0)
    n0 = np.where(pairable, labelled - positives, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        disagreeing = np.where(pairable, n1 * n0 / np.maximum(labelled - 1, 1), 0.0)
    return np.stack([seen.astype(np.float64), np.where(seen, positives, 0.0), agreeing, n1, n0, disagreeing], axis=-1)


def multirater_from_sums(sums: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Fleiss' kappa and Krippendorff's alpha from summed :func:`multirater_columns` (..., 6).

    Fleiss' applicability (every labelled unit labelled by all r raters) is not checked here: it does
    not change under resampling, so the caller checks it once on the full data.
    """
    units, pos, agreeing, n1, n0, disagreeing = (sums[..., i] for i in range(6))
    total = units * r
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = pos / total
        chance = p1**2 + (1 - p1) ** 2
        observed = agreeing / (r * (r - 1)) / units
        fleiss = (observed - chance) / (1 - chance)
        alpha = 1 - (n1 + n0 - 1) * disagreeing / (n1 * n0)
    fleiss = np.where((r >= 2) & (units > 0) & (pos > 0) & (pos < total), fleiss, np.nan)
    return fleiss, np.where((n1 > 0) & (n0 > 0), alpha, np.nan)


def figures(data: LabelSet, kappa: np.ndarray, pooled_kappa: np.ndarray,
            intervals: dict[str, tuple[np.ndarray, np.ndarray]] | None) -> Figures:
    """The people and judge figures of every mode, with their bootstrap intervals.

    ``kappa`` are the pair kappas per mode (m, P) and ``pooled_kappa`` the pooled pair kappas (P,) on
    the full data; ``intervals`` is :meth:`Resampled.split` of the report's bootstrap (None without one).
    """
    who = roles(data)
    people_values = data.values[:, list(who.people), :]
    people_mean, people_count, judge_mean, minus = _means(kappa, who)
    pooled_mean, pooled_count, _, _ = _means(pooled_kappa, who)
    fleiss, alpha = fleiss_kappa(people_values), krippendorff_alpha(people_values)
    points = {"people_mean": people_mean, "pooled": pooled_mean, "fleiss": fleiss, "alpha": alpha,
              "judge_mean": judge_mean.T, "minus_people": minus.T}
    ci = {}
    for name, point in points.items():
        low, high = intervals[name] if intervals is not None else (np.nan, np.nan)
        # Where the full-data figure is undefined (e.g. Fleiss with missing labels), so is its interval.
        ci[name] = (np.where(np.isnan(point), np.nan, low), np.where(np.isnan(point), np.nan, high))
    return Figures(
        people_mean=people_mean, people_pairs_defined=people_count, people_mean_ci=ci["people_mean"],
        pooled_people_mean=float(pooled_mean), pooled_people_pairs_defined=int(pooled_count),
        pooled_people_mean_ci=(float(ci["pooled"][0]), float(ci["pooled"][1])),
        fleiss=fleiss, fleiss_ci=ci["fleiss"], alpha=alpha, alpha_ci=ci["alpha"],
        judge_mean=judge_mean.T, judge_mean_ci=ci["judge_mean"],
        minus_people=minus.T, minus_people_ci=ci["minus_people"],
    )


class Resampled:
    """The people and judge figures inside the report's bootstrap (one matrix product for everything).

    The report's bootstrap appends :attr:`columns` (per-unit Fleiss and alpha terms of the people) to its
    pair indicators, calls the instance on each batch of resamples with the batch's pair kappas, pooled
    pair kappas and the sums of these columns, and hands the percentile bounds of the returned columns to
    :meth:`split`.
    """

    def __init__(self, data: LabelSet):
        self.who = roles(data)
        people_values = data.values[:, list(self.who.people), :]
        n, self.r, self.m = people_values.shape
        self.columns = multirater_columns(people_values).reshape(n, self.m * 6)
        j = len(self.who.judges)
        self.blocks: dict[str, tuple[int, ...]] = {"people_mean": (self.m,), "pooled": (), "fleiss": (self.m,),
                                                   "alpha": (self.m,), "judge_mean": (j, self.m),
                                                   "minus_people": (j, self.m)}

    def __call__(self, kappa: np.ndarray, pooled: np.ndarray, column_sums: np.ndarray) -> np.ndarray:
        """Columns (c, s) from pair kappas (c, m, P), pooled kappas (c, P) and summed :attr:`columns` (c, 6m)."""
        c = len(kappa)
        people_mean, _, judge_mean, minus = _means(kappa, self.who)  # (c, m), (c, m, J)
        pooled_mean = _means(pooled, self.who)[0]  # (c,)
        fleiss, alpha = multirater_from_sums(column_sums.reshape(c, self.m, 6), self.r)
        return np.concatenate([people_mean, pooled_mean[:, None], fleiss, alpha,
                               judge_mean.transpose(0, 2, 1).reshape(c, -1),
                               minus.transpose(0, 2, 1).reshape(c, -1)], axis=1)

    def split(self, low: np.ndarray, high: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The percentile bounds of :meth:`__call__`'s columns, by figure, in the shapes of :class:`Figures`."""
        cuts = np.cumsum([int(np.prod(shape)) for shape in self.blocks.values()])[:-1]
        return {name: (lo.reshape(shape), hi.reshape(shape))
                for (name, shape), lo, hi in zip(self.blocks.items(), np.split(low, cuts), np.split(high, cuts))}


def _num(x: float | np.floating | np.ndarray) -> float | None:
    x = float(x)
    return None if np.isnan(x) else x


def people_entry(fig: Figures, k: int) -> PeopleFigure:
    """``modes[k].people`` of the report."""
    return {"mean_kappa": _num(fig.people_mean[k]), "ci_low": _num(fig.people_mean_ci[0][k]),
            "ci_high": _num(fig.people_mean_ci[1][k]), "pairs": int(fig.people_pairs_defined[k])}


def judge_entries(data: LabelSet, fig: Figures, k: int, *, epsilon: float, q: float) -> list[JudgeFigure]:
    """``modes[k].judges`` of the report: each judge against the people, with the alt-test."""
    who = roles(data)
    people_names = [data.raters[i] for i in who.people]
    people_values = data.values[:, list(who.people), k]
    entries: list[JudgeFigure] = []
    for position, j in enumerate(who.judges):
        test = alt_test(data.values[:, j, k], people_values, people_names, epsilon=epsilon, q=q)
        entries.append({
            "rater": data.raters[j],
            "mean_kappa_vs_people": _num(fig.judge_mean[position, k]),
            "ci_low": _num(fig.judge_mean_ci[0][position, k]), "ci_high": _num(fig.judge_mean_ci[1][position, k]),
            "minus_people": _num(fig.minus_people[position, k]),
            "minus_people_ci_low": _num(fig.minus_people_ci[0][position, k]),
            "minus_people_ci_high": _num(fig.minus_people_ci[1][position, k]),
            "alt_test": {"winning_rate": test.winning_rate, "advantage_probability": test.advantage_probability,
                         "passed": test.passed},
            "alt_test_reason": test.reason,
            "alt_test_annotators": [{"rater": a.rater, "instances": a.instances, "judge_advantage": a.judge_advantage,
                                     "annotator_advantage": a.annotator_advantage, "p_value": _num(a.p_value),
                                     "judge_wins": a.rejected} for a in test.annotators],
        })
    return entries


def people_only(data: LabelSet) -> LabelSet:
    """The label set without judges and gold (for the ambiguity signals, which are about people)."""
    return data.select_raters([data.raters[i] for i in roles(data).people])
