"""`annotator plan`: how many segments an agreement figure needs, before annotator time is spent.

Two questions: for a planned prevalence and kappa, how many segments give a 95% interval of a given
width (:func:`plan_segments`); and, from the labels so far, how wide each mode's interval will be after
N more segments (:func:`plan_from_db`). Both simulate the report's own interval method
(``annotator.core.agreement.planning``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import numpy as np
import sqlite_utils

from annotator import store
from annotator.core.agreement import planning
from annotator.core.agreement.intervals import DEFAULT_METHOD, kappa_interval
from annotator.core.agreement.pairwise import cells_from_indicator_sums, kappa_from_counts, pair_indicators
from annotator.core.errors import OptionError, RefusedError
from annotator.services.report import unsure_choice


class Projected(TypedDict):
    more: int  # further segments labelled by both raters of a pair
    n: int
    median_width: float | None
    mc_low: float | None
    mc_high: float | None
    defined_share: float  # simulated datasets where kappa is defined


class ModeProjection(TypedDict):
    code: str
    name: str
    pairs: int  # rater pairs behind the figures (people only when there are two or more)
    n: int  # segments a pair shares now (mean over the pairs, rounded)
    kappa: float | None  # kappa of the mean pair table
    width_now: float | None  # the report's interval width on the mean pair table
    projected: list[Projected]  # empty when kappa is undefined so far
    reason: str | None  # why there is no projection


class Projection(TypedDict):
    taxonomy: str
    raters: list[str]
    method: str
    level: float
    reps: int
    seed: int
    unsure: str
    modes: list[ModeProjection]


def _check_method(method: str) -> None:
    from annotator.core.agreement.intervals import METHODS

    if method not in METHODS:
        raise OptionError(f"--ci must be one of {', '.join(METHODS)}, not {method!r}")


def plan_segments(prevalence: float, kappa: float, width: float, *, prevalence_b: float | None = None,
                  method: str = DEFAULT_METHOD, reps: int = planning.DEFAULT_REPS, seed: int = 0) -> planning.Plan:
    """Segments for a 95% interval of median width ``width`` (one line of error for impossible input)."""
    _check_method(method)
    for name, value in (("--prevalence", prevalence), ("--prevalence-b", prevalence_b)):
        if value is not None and not 0 < value < 1:
            raise OptionError(f"{name} must be strictly between 0 and 1, not {value!r}")
    if not -1 <= kappa < 1:
        raise OptionError(f"--kappa must be at least -1 and below 1 (a kappa of 1 needs no interval), not {kappa!r}")
    if not 0 < width < 2:
        raise OptionError(f"--width must be between 0 and 2 (kappa lies in [-1, 1]), not {width!r}")
    try:
        return planning.segments_for_width(prevalence, kappa, width, prevalence_b=prevalence_b, method=method,
                                           reps=reps, seed=seed)
    except ValueError as exc:  # a kappa the prevalences cannot reach
        raise OptionError(str(exc)) from None


def _people(label_set) -> list[str]:
    """The raters whose agreement more segments would sharpen: people, or everyone when fewer than two."""
    humans = [name for name, kind in zip(label_set.raters, label_set.rater_kinds) if kind == "human"]
    return humans if len(humans) >= 2 else list(label_set.raters)


def plan_from_db(db: sqlite_utils.Database, *, taxonomy: str = "mast", mode: str | None = None,
                 raters: list[str] | None = None, more: Sequence[int] = planning.DEFAULT_MORE,
                 method: str = DEFAULT_METHOD, reps: int = planning.DEFAULT_REPS, seed: int = 0,
                 include_unsure: bool = False) -> Projection:
    """Per mode, the interval width now and the expected width after each number in ``more`` of further
    segments, from the rater pairs' labels so far (people only when there are two or more)."""
    _check_method(method)
    if not more or any(k < 0 for k in more):
        raise OptionError("--more needs one or more non-negative numbers of segments")
    stored = store.get_taxonomy(db, taxonomy)
    if mode is not None and mode not in stored.taxonomy.codes:
        raise OptionError(f"{stored.taxonomy.ref} has no mode {mode!r}")
    labels = store.load_label_set(db, stored, raters=raters, include_unsure=include_unsure)
    chosen = _people(labels) if raters is None else list(labels.raters)
    if len(chosen) < 2:
        raise RefusedError(f"fewer than two raters with labels under {stored.taxonomy.ref}: no agreement to project")
    labels = labels.select_raters(chosen)
    tables = cells_from_indicator_sums(pair_indicators(labels.values).sum(axis=0))  # 4 x (m, P)
    modes = [_mode_projection(labels.modes[k], np.stack([t[k] for t in tables], axis=-1), more=more,
                              method=method, reps=reps, seed=seed)
             for k in range(len(labels.modes)) if mode is None or labels.modes[k][0] == mode]
    return {"taxonomy": stored.taxonomy.ref, "raters": chosen, "method": method, "level": 0.95, "reps": reps,
            "seed": seed, "unsure": unsure_choice(include_unsure), "modes": modes}


def _mode_projection(mode: tuple[str, str, str], pair_tables: np.ndarray, *, more: Sequence[int], method: str,
                     reps: int, seed: int) -> ModeProjection:
    """One mode: the pairs' tables (P, 4) averaged into a typical pair, projected."""
    shared = pair_tables[pair_tables.sum(axis=1) > 0]
    entry: ModeProjection = {"code": mode[0], "name": mode[1], "pairs": len(shared), "n": 0, "kappa": None,
                             "width_now": None, "projected": [], "reason": None}
    if not len(shared):
        entry["reason"] = "no segment labelled by two raters yet"
        return entry
    table = shared.mean(axis=0)
    entry["n"] = int(round(float(table.sum())))
    kappa = float(kappa_from_counts(*table))
    if np.isnan(kappa):
        entry["reason"] = "kappa undefined so far (no positive label, or no negative one)"
        return entry
    entry["kappa"] = kappa
    entry["width_now"] = _width_now(shared, method, seed)
    estimates = planning.project_widths(table, more, method=method, reps=reps, seed=seed)
    entry["projected"] = [{"more": int(k), "n": e.n, "median_width": e.median_width, "mc_low": e.mc_low,
                           "mc_high": e.mc_high, "defined_share": e.defined / e.datasets}
                          for k, e in zip(more, estimates)]
    return entry


def _width_now(pair_tables: np.ndarray, method: str, seed: int) -> float | None:
    """The median over the pairs of the interval width the report gives each of them now."""
    if method == "percentile":
        low, high = planning.percentile_from_counts(*pair_tables.T, seed=seed)
    else:
        low, high = kappa_interval(*pair_tables.T, method=method, seed=seed)
    widths = np.asarray(high) - np.asarray(low)
    widths = widths[~np.isnan(widths)]
    return float(np.median(widths)) if len(widths) else None

