"""The judge lab: compare judge runs against gold (or a rater) mode by mode, look at their errors, diff
their prompts, and warn when a prompt's few-shot examples leak test segments.

Service layer: reads through the store, computes with the agreement engine.
"""

from __future__ import annotations

import difflib
import itertools
from typing import NotRequired, TypedDict, cast

import numpy as np
import sqlite_utils

from annotator import store
from annotator.core.agreement import LabelSet, compute_report, judge_scores
from annotator.core.agreement.judgeintervals import (
    CHANGE_METHOD_BOOTSTRAP,
    CHANGE_METHOD_DIRICHLET,
    SCORE_METHOD_AGRESTI_COULL,
    SCORE_METHOD_BOOTSTRAP,
    judge_intervals,
)
from annotator.core.agreement.resampling import SEGMENT, choose_resample, resample_groups
from annotator.core.errors import OptionError, RefusedError
from annotator.core.report.model import Classification, Flag, Report, Scores
from annotator.services.report import unsure_choice

SPLITS = ("dev", "test", "all")


class JudgeMode(TypedDict):
    """One judge on one mode against the reference: kappa with its interval, then the scores."""

    rater: str
    n: int
    kappa: float | None
    ci_low: float | None
    ci_high: float | None
    flags: list[Flag]
    precision: float | None
    precision_ci_low: float | None
    precision_ci_high: float | None
    recall: float | None
    recall_ci_low: float | None
    recall_ci_high: float | None
    f1: float | None
    f1_ci_low: float | None
    f1_ci_high: float | None
    tp: int
    fp: int
    fn: int
    tn: int
    kappa_change: NotRequired[float | None]  # from the judge before it in the list (none for the first)
    kappa_change_ci_low: NotRequired[float | None]  # paired: both judges scored on the same resampled segments
    kappa_change_ci_high: NotRequired[float | None]


class ModeRow(TypedDict):
    code: str
    name: str
    judges: list[JudgeMode]


class Overall(Scores):
    """A judge over all modes: pooled (micro) scores and its mean kappa over the modes where defined."""

    rater: str
    precision_ci_low: float | None  # pooled (micro) scores' intervals, bootstrapped by segment or trace
    precision_ci_high: float | None
    recall_ci_low: float | None
    recall_ci_high: float | None
    f1_ci_low: float | None
    f1_ci_high: float | None
    mean_kappa: float | None
    mean_kappa_modes_covered: int
    mean_kappa_change: NotRequired[float | None]  # from the judge before it in the list (none for the first)
    mean_kappa_change_ci_low: NotRequired[float | None]  # paired, as kappa_change
    mean_kappa_change_ci_high: NotRequired[float | None]


class ComparisonParams(TypedDict):
    """How the intervals were made: resamples, seed, what was resampled and why, each interval's method."""

    bootstrap: int
    seed: int
    unsure: str  # "exclude" or "include": labels submitted as unsure left out or kept
    resample: str  # "segment" or "trace" (annotator.core.agreement.resampling)
    resample_reason: str
    ci_methods: dict[str, str]  # figure -> method ("agresti-coull", "percentile", "paired dirichlet", ...)


class Comparison(TypedDict):
    """What `annotator judge compare --json` prints and the Judge lab shows."""

    taxonomy: str
    against: str
    split: str
    segments: int
    raters: list[str]
    modes: list[ModeRow]
    overall: list[Overall]
    leakage: dict[str, list[int]]
    params: ComparisonParams
    stale_gold_segments: list[int]  # against gold: segments whose gold predates newer human labels


class _Versus(TypedDict):
    report: Report
    scores: Classification


def _reference_set(db: sqlite_utils.Database, stored: store.StoredTaxonomy, raters: list[str], against: str,
                   split: str, *, include_unsure: bool = False) -> LabelSet:
    """Labels of the judges and the reference, on the reference's units of the chosen split (a human
    reference's labels submitted as unsure left out unless `include_unsure`)."""
    if against == "gold":
        labels = store.load_label_set(db, stored, raters=raters, include_gold=True, include_unsure=include_unsure)
        reference = store.GOLD_RATER
    else:
        labels = store.load_label_set(db, stored, raters=[*raters, against], include_unsure=include_unsure)
        reference = against
    if reference not in labels.raters or not (labels.values[:, labels.rater_index(reference)] >= 0).any():
        what = ("gold labels (run 'annotator gold build' or adjudicate)" if against == "gold"
                else f"labels from {against}")
        raise RefusedError(f"no {what} under {stored.taxonomy.ref}: nothing to compare against")
    keep = (labels.values[:, labels.rater_index(reference)] >= 0).any(axis=1)
    if split != "all":
        sides = store.get_split(db, stored.id)
        if not sides:
            raise RefusedError("no dev/test split yet: run 'annotator gold split' first, or use --split all")
        keep &= np.array([sides.get(int(u)) == split for u in labels.units])
    if not keep.any():
        raise RefusedError(f"no segments with reference labels in the {split} split")
    return labels.select_units(np.flatnonzero(keep))


def _judge_vs_reference(labels: LabelSet, judge: str, reference: str, *, bootstrap: int, seed: int,
                        resample: str) -> _Versus:
    pair = labels.select_raters([reference, judge])
    report = compute_report(pair, bootstrap=bootstrap, seed=seed, resample=resample)
    scores = judge_scores(pair, reference=reference, predicted=judge)
    return {"report": report, "scores": scores}


def compare_judges(db: sqlite_utils.Database, raters: list[str], *, against: str = "gold", split: str = "all",
                   taxonomy: str = "mast", bootstrap: int = 1000, seed: int = 0,
                   include_unsure: bool = False) -> Comparison:
    """Per mode, each judge's kappa, precision, recall and F1 against the reference with 95% intervals, side by
    side, with the change in kappa from the previous rater in the list (e.g. the previous prompt version) and its
    paired interval. Segments or whole traces are resampled as for the report (the same default). A human
    reference's labels submitted as unsure are left out unless `include_unsure`."""
    if split not in SPLITS:
        raise OptionError(f"--split must be one of {', '.join(SPLITS)}, not {split!r}")
    if not raters:
        raise OptionError("name at least one judge rater (see 'annotator judge list')")
    stored = store.get_taxonomy(db, taxonomy)
    labels = _reference_set(db, stored, raters, against, split, include_unsure=include_unsure)
    reference = store.GOLD_RATER if against == "gold" else against
    resample, reason = choose_resample(labels, level="segment")
    results = {r: _judge_vs_reference(labels, r, reference, bootstrap=bootstrap, seed=seed, resample=resample)
               for r in raters}
    independent = resample == SEGMENT  # closed forms assume independent segments; traces: cluster bootstrap
    ci = judge_intervals(labels.values[:, labels.rater_index(reference)],
                         np.stack([labels.values[:, labels.rater_index(r)] for r in raters]),
                         n_resamples=bootstrap, seed=seed, groups=resample_groups(labels, resample),
                         independent=independent)
    modes = [_mode_row(k, code, name, raters, results, ci) for k, (code, name, _) in enumerate(labels.modes)]
    overall = [_overall(j, r, results[r], ci) for j, r in enumerate(raters)]
    _add_changes(overall, "mean_kappa", ci, "mean_kappa_change")
    score_method = SCORE_METHOD_AGRESTI_COULL if independent else SCORE_METHOD_BOOTSTRAP
    return {
        "taxonomy": stored.taxonomy.ref, "against": against, "split": split, "segments": len(labels.units),
        "raters": raters, "modes": modes, "overall": overall,
        "leakage": {r: leaked_examples(db, r, taxonomy=taxonomy) for r in raters},
        "params": {"bootstrap": bootstrap, "seed": seed, "unsure": unsure_choice(include_unsure),
                   "resample": resample, "resample_reason": reason,
                   "ci_methods": {"modes.judges.kappa": results[raters[0]]["report"]["params"]["ci_method"],
                                  "modes.judges.precision_recall_f1": score_method,
                                  "modes.judges.kappa_change": CHANGE_METHOD_DIRICHLET if independent
                                  else CHANGE_METHOD_BOOTSTRAP,
                                  "overall.precision_recall_f1": SCORE_METHOD_BOOTSTRAP,
                                  "overall.mean_kappa_change": CHANGE_METHOD_BOOTSTRAP}},
        "stale_gold_segments": store.stale_gold_segments(db, stored.id) if against == "gold" else [],
    }


Intervals = dict[str, tuple[np.ndarray, np.ndarray]]


def _num(x: float | np.floating) -> float | None:
    return None if np.isnan(x) else float(x)


def _with_cis(scores: Scores, ci: Intervals, prefix: str, index: tuple[int, ...]) -> dict[str, float | None]:
    """precision, precision_ci_low, precision_ci_high, recall, ... f1_ci_high of one judge (and mode), the
    intervals from judge_intervals' arrays."""
    out: dict[str, float | None] = {}
    for score in ("precision", "recall", "f1"):
        low, high = ci[prefix + score]
        out.update({score: scores[score], f"{score}_ci_low": _num(low[index]), f"{score}_ci_high": _num(high[index])})
    return out


def _add_changes(rows: list, key: str, ci: Intervals | None = None, ci_key: str = "", mode: int | None = None) -> None:
    """Each row after the first gets `{key}_change` (from the row before) and, with ``ci``, its paired interval
    (``ci[ci_key]`` of judge j, at ``mode`` when given)."""
    for j, (previous, current) in enumerate(itertools.pairwise(rows), start=1):
        before, after = previous[key], current[key]
        current[f"{key}_change"] = after - before if before is not None and after is not None else None
        low, high = ci[ci_key] if ci is not None else (None, None)
        if low is not None and high is not None:
            at = (j,) if mode is None else (j, mode)
            current[f"{key}_change_ci_low"] = _num(low[at])
            current[f"{key}_change_ci_high"] = _num(high[at])


def _overall(j: int, rater: str, result: _Versus, ci: Intervals) -> Overall:
    # The report's own averages are among people only; a judge against gold has no pair of people, so take
    # the average over modes of the one pair (judge, reference).
    pair = result["report"]["summary"]["pairs"][0]
    pooled = result["scores"]["pooled"]
    row = {"rater": rater, **pooled, **_with_cis(pooled, ci, "pooled_", (j,)),
           "mean_kappa": pair["mean_kappa"], "mean_kappa_modes_covered": pair["modes_covered"]}
    return cast(Overall, row)


def _mode_row(k: int, code: str, name: str, raters: list[str], results: dict[str, _Versus], ci: Intervals) -> ModeRow:
    judges: list[JudgeMode] = []
    for j, r in enumerate(raters):
        pair = results[r]["report"]["modes"][k]["pairs"][0]
        scores = results[r]["scores"]["modes"][k]
        row = {"rater": r, "n": pair["n"], "kappa": pair["kappa"], "ci_low": pair["ci_low"],
               "ci_high": pair["ci_high"], "flags": pair["flags"], **_with_cis(scores, ci, "", (j, k)),
               "tp": scores["tp"], "fp": scores["fp"], "fn": scores["fn"], "tn": scores["tn"]}
        judges.append(cast(JudgeMode, row))
    _add_changes(judges, "kappa", ci, "kappa_change", k)
    return {"code": code, "name": name, "judges": judges}


def judge_errors(db: sqlite_utils.Database, rater: str, code: str, *, against: str = "gold", split: str = "all",
                 taxonomy: str = "mast", limit: int = 50, include_unsure: bool = False) -> list[dict]:
    """False positives and false negatives of `rater` on mode `code`, with the segment text and the evidence
    the judge quoted (FP: its quote; FN: none, it said absent)."""
    stored = store.get_taxonomy(db, taxonomy)
    labels = _reference_set(db, stored, [rater], against, split, include_unsure=include_unsure)
    k = list(labels.mode_codes).index(code) if code in labels.mode_codes else None
    if k is None:
        raise OptionError(f"{stored.taxonomy.ref} has no mode {code!r}")
    reference = labels.rater_index(store.GOLD_RATER if against == "gold" else against)
    judge = labels.rater_index(rater)
    evidence = store.judge_evidence(db, rater, stored.mode_ids[code])
    rows = []
    for i, unit in enumerate(labels.units):
        truth, said = labels.values[i, reference, k], labels.values[i, judge, k]
        if truth < 0 or said < 0 or truth == said:
            continue
        segment = store.get_segment(db, int(unit))
        if segment is None:  # deleted since its labels were read
            continue
        rows.append({"segment_id": int(unit), "trace_id": segment.trace_external_id,
                     "error": "false positive" if said == 1 else "false negative",
                     "evidence": evidence.get(int(unit)) or "", "text": segment.text})
        if len(rows) >= limit:
            break
    return rows


def prompt_diff(db: sqlite_utils.Database, version_a: str, version_b: str) -> str:
    """Unified diff of two stored prompt versions (as recorded when a run used them)."""
    texts = []
    for version in (version_a, version_b):
        prompt = store.get_prompt(db, version)
        if prompt is None:
            raise OptionError(f"no stored prompt version {version!r} (a run must have used it)")
        texts.append(prompt)
    a, b = texts
    return "".join(difflib.unified_diff(a["text"].splitlines(keepends=True), b["text"].splitlines(keepends=True),
                                        fromfile=f"{a['name']}@{a['version']}", tofile=f"{b['name']}@{b['version']}"))


def leaked_examples(db: sqlite_utils.Database, rater: str, *, taxonomy: str = "mast") -> list[int]:
    """Test-split segments that appear among the few-shot examples of the prompt behind judge `rater`."""
    from annotator.judge.prompt import PromptError, examples_in
    from annotator.services.gold import leaked_test_segments

    row = store.get_rater(db, rater)
    prompt = store.get_prompt(db, row.prompt_version) if row and row.prompt_version else None
    if prompt is None:
        return []
    try:
        texts = [example["text"] for example in examples_in(prompt["text"], prompt["path"])]
    except PromptError:
        return []
    return leaked_test_segments(db, texts, taxonomy=taxonomy) if texts else []
