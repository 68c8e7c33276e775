"""The judge lab: compare judge runs against gold (or a rater) mode by mode, look at their errors, diff
their prompts, and warn when a prompt's few-shot examples leak test segments.

Service layer: reads through the store, computes with the agreement engine.
"""

from __future__ import annotations

import difflib
import itertools
from typing import NotRequired, TypedDict

import numpy as np
import sqlite_utils

from annotator import store
from annotator.core.agreement import LabelSet, compute_report, judge_scores
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
    recall: float | None
    f1: float | None
    tp: int
    fp: int
    fn: int
    tn: int
    kappa_change: NotRequired[float | None]  # from the judge before it in the list (none for the first)


class ModeRow(TypedDict):
    code: str
    name: str
    judges: list[JudgeMode]


class Overall(Scores):
    """A judge over all modes: pooled (micro) scores and its mean kappa over the modes where defined."""

    rater: str
    mean_kappa: float | None
    mean_kappa_modes_covered: int


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
    params: dict[str, int | str]  # bootstrap, seed, unsure ("exclude" | "include")
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


def _judge_vs_reference(labels: LabelSet, judge: str, reference: str, *, bootstrap: int, seed: int) -> _Versus:
    pair = labels.select_raters([reference, judge])
    report = compute_report(pair, bootstrap=bootstrap, seed=seed)
    scores = judge_scores(pair, reference=reference, predicted=judge)
    return {"report": report, "scores": scores}


def compare_judges(db: sqlite_utils.Database, raters: list[str], *, against: str = "gold", split: str = "all",
                   taxonomy: str = "mast", bootstrap: int = 1000, seed: int = 0,
                   include_unsure: bool = False) -> Comparison:
    """Per mode, each judge's kappa (95% CI), precision, recall and F1 against the reference, side by side,
    with the change from the previous rater in the list (e.g. the previous prompt version). A human
    reference's labels submitted as unsure are left out unless `include_unsure`."""
    if split not in SPLITS:
        raise OptionError(f"--split must be one of {', '.join(SPLITS)}, not {split!r}")
    if not raters:
        raise OptionError("name at least one judge rater (see 'annotator judge list')")
    stored = store.get_taxonomy(db, taxonomy)
    labels = _reference_set(db, stored, raters, against, split, include_unsure=include_unsure)
    reference = store.GOLD_RATER if against == "gold" else against
    results = {r: _judge_vs_reference(labels, r, reference, bootstrap=bootstrap, seed=seed) for r in raters}
    modes = [_mode_row(k, code, name, raters, results) for k, (code, name, _) in enumerate(labels.modes)]
    return {
        "taxonomy": stored.taxonomy.ref, "against": against, "split": split, "segments": len(labels.units),
        "raters": raters, "modes": modes,
        "overall": [_overall(r, results[r]) for r in raters],
        "leakage": {r: leaked_examples(db, r, taxonomy=taxonomy) for r in raters},
        "params": {"bootstrap": bootstrap, "seed": seed, "unsure": unsure_choice(include_unsure)},
        "stale_gold_segments": store.stale_gold_segments(db, stored.id) if against == "gold" else [],
    }


def _overall(rater: str, result: _Versus) -> Overall:
    # The report's own averages are among people only; a judge against gold has no pair of people, so take
    # the average over modes of the one pair (judge, reference).
    pair = result["report"]["summary"]["pairs"][0]
    return {"rater": rater, **result["scores"]["pooled"], "mean_kappa": pair["mean_kappa"],
            "mean_kappa_modes_covered": pair["modes_covered"]}


def _mode_row(k: int, code: str, name: str, raters: list[str], results: dict[str, _Versus]) -> ModeRow:
    judges: list[JudgeMode] = []
    for r in raters:
        pair = results[r]["report"]["modes"][k]["pairs"][0]
        scores = results[r]["scores"]["modes"][k]
        judges.append({"rater": r, "n": pair["n"], "kappa": pair["kappa"], "ci_low": pair["ci_low"],
                       "ci_high": pair["ci_high"], "flags": pair["flags"],
                       "precision": scores["precision"], "recall": scores["recall"], "f1": scores["f1"],
                       "tp": scores["tp"], "fp": scores["fp"], "fn": scores["fn"], "tn": scores["tn"]})
    for previous, current in itertools.pairwise(judges):
        before, after = previous["kappa"], current["kappa"]
        current["kappa_change"] = after - before if before is not None and after is not None else None
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
