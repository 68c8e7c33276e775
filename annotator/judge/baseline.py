"""`annotator judge baseline`: a cheap classifier to beat, trained per mode on gold, labelling every segment.

The baseline is a rater of kind "judge" named `baseline:tfidf-logreg@<hash>`, the hash covering the training
data (content and gold of every training segment, in order), the parameters and the scikit-learn version, so
the same data and parameters always give the same rater and a rerun changes nothing. Being a judge, it is
never averaged with the people, appears under `modes[].judges` in reports, and can be compared with an LLM
judge in `judge compare` and the Judge lab.

Training segments (the dev split of gold, or all gold) get *out-of-fold* labels: each comes from a model that
neither saw it nor chose its C with it (annotator.judge.tfidf), so the baseline's figures on dev are honest.
Every other segment (test, unlabelled) is labelled by the model fitted on all training segments.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np
import sqlite_utils

from annotator import store
from annotator.core.errors import OptionError, RefusedError
from annotator.judge import tfidf

FEATURES = ("tfidf",)
TRAIN_SPLITS = ("dev", "all")
MODEL = "tfidf-logreg"
PREFIX = f"baseline:{MODEL}"
HASH_DIGITS = 12  # as prompt versions
PREDICT_CHUNK = 256  # segments featurised and written at a time: memory stays bounded on any database


@dataclass
class ModeOutcome:
    """One mode's training: its counts, and either the folds and C used or why it was skipped."""

    code: str
    positives: int
    negatives: int
    folds: int | None = None
    c: float | None = None
    skipped: str | None = None  # the reason, when the mode could not be trained


@dataclass
class BaselineResult:
    rater: str
    taxonomy: str
    split: str
    training_segments: int
    modes: list[ModeOutcome] = field(default_factory=list)
    labelled: int = 0  # segments given labels
    out_of_fold: int = 0  # of which training segments, labelled out of fold
    changed: int = 0  # label rows written or changed (0 when rerun on the same data)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Training:
    segment_ids: list[int]
    texts: list[str]
    content_hashes: list[str]
    groups: np.ndarray  # trace content hash per segment
    gold: np.ndarray  # (n, m) 0/1, -1 where a segment has no gold for a mode


def train_baseline(db: sqlite_utils.Database, *, taxonomy: str = "mast", split: str = "dev",
                   features: str = "tfidf", seed: int = 0, folds: int = 5,
                   skip_untrainable: bool = False) -> BaselineResult:
    """Train the baseline on gold of `split` and label every queued or gold segment with it.

    Refuses (RefusedError, nothing written) when a mode has too few positive or negative training segments,
    unless `skip_untrainable`: then such modes are left unlabelled and listed with their reason.
    """
    if features not in FEATURES:
        raise OptionError(f"--features must be one of {', '.join(FEATURES)}, not {features!r}")
    if split not in TRAIN_SPLITS:
        raise OptionError(f"--split must be one of {', '.join(TRAIN_SPLITS)}, not {split!r}")
    if folds < tfidf.MIN_FOLDS:
        raise OptionError(f"--folds must be at least {tfidf.MIN_FOLDS}, not {folds}")
    stored = store.get_taxonomy(db, taxonomy)
    codes = stored.taxonomy.codes
    training = _training_set(db, stored, split, codes)
    params = tfidf.TfidfParams(seed=seed, folds=folds)
    outcomes = _check_modes(training, codes, params, split=split, skip_untrainable=skip_untrainable)
    name = rater_name(training, params, taxonomy=stored.taxonomy.ref, split=split)
    result = BaselineResult(rater=name, taxonomy=stored.taxonomy.ref, split=split,
                            training_segments=len(training.segment_ids), modes=outcomes)
    fits = _fit_modes(training, outcomes, params)
    rater_id = store.ensure_rater(db, name, "judge", model=MODEL,
                                  params={"features": features, "split": split, **params.as_dict(),
                                          "sklearn": _sklearn_version()})
    _label_segments(db, stored, rater_id, training, fits, params, result)
    return result


def _training_set(db: sqlite_utils.Database, stored: store.StoredTaxonomy, split: str,
                  codes: list[str]) -> _Training:
    gold = store.gold_by_segment(db, stored.id)
    if not gold:
        raise RefusedError(f"no gold labels under {stored.taxonomy.ref}: run 'annotator gold build' first")
    if split == "dev":
        sides = store.get_split(db, stored.id)
        if not sides:
            raise RefusedError("no dev/test split yet: run 'annotator gold split' first, or train on --split all")
        gold = {s: v for s, v in gold.items() if sides.get(s) == "dev"}
        if not gold:
            raise RefusedError(f"the dev split of {stored.taxonomy.ref} has no gold segments")
    rows = list(store.segment_texts(db, list(gold)))
    values = np.array([[gold[r.id].get(c, -1) for c in codes] for r in rows], dtype=np.int8).reshape(-1, len(codes))
    return _Training(segment_ids=[r.id for r in rows], texts=[r.text for r in rows],
                     content_hashes=[r.content_hash for r in rows],
                     groups=np.array([r.trace_hash for r in rows], dtype=object), gold=values)


def _check_modes(training: _Training, codes: list[str], params: tfidf.TfidfParams, *, split: str,
                 skip_untrainable: bool) -> list[ModeOutcome]:
    outcomes = []
    for k, code in enumerate(codes):
        known = training.gold[:, k] >= 0
        y = training.gold[known, k]
        reason = tfidf.untrainable_reason(y, training.groups[known], params)
        outcomes.append(ModeOutcome(code, int((y == 1).sum()), int((y == 0).sum()), skipped=reason))
    blocked = [o for o in outcomes if o.skipped]
    if blocked and (not skip_untrainable or len(blocked) == len(outcomes)):
        listed = ", ".join(f"{o.code} ({o.positives}+/{o.negatives}-)" for o in blocked)
        advice = "label more segments" if len(blocked) == len(outcomes) else \
            "label more, or pass --skip-untrainable to train the other modes"
        raise RefusedError(f"too few {split} gold segments to train mode(s) {listed}: each needs at least "
                           f"{tfidf.MIN_FOLDS} positive and {tfidf.MIN_FOLDS} negative, in different traces "
                           f"({tfidf.MIN_FOLDS}-fold cross-validation); {advice}")
    return outcomes


def rater_name(training: _Training, params: tfidf.TfidfParams, *, taxonomy: str, split: str) -> str:
    """`baseline:tfidf-logreg@<12 hex>`: SHA-256 of the training data (in order), parameters and sklearn version."""
    document = {"taxonomy": taxonomy, "split": split, "params": params.as_dict(), "sklearn": _sklearn_version(),
                "data": [[h, g, row.tolist()] for h, g, row in zip(training.content_hashes, training.groups,
                                                                   training.gold)]}
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    return f"{PREFIX}@{digest[:HASH_DIGITS]}"


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


def _fit_modes(training: _Training, outcomes: list[ModeOutcome],
               params: tfidf.TfidfParams) -> dict[int, tuple[np.ndarray, dict[int, float], object]]:
    """Mode position -> (training rows, {segment id: out-of-fold P(present)}, the final model)."""
    counts = tfidf.featurize(training.texts, params)
    fits = {}
    for k, outcome in enumerate(outcomes):
        if outcome.skipped:
            continue
        rows = np.flatnonzero(training.gold[:, k] >= 0)
        fit = tfidf.fit_mode(counts[rows], training.gold[rows, k], training.groups[rows], params)
        outcome.folds, outcome.c = fit.folds, fit.c
        oof = {training.segment_ids[i]: float(p) for i, p in zip(rows, fit.oof_probability)}
        fits[k] = (rows, oof, fit.model)
    return fits


def _label_segments(db: sqlite_utils.Database, stored: store.StoredTaxonomy, rater_id: int, training: _Training,
                    fits: dict, params: tfidf.TfidfParams, result: BaselineResult) -> None:
    """Label every queued or gold segment, PREDICT_CHUNK at a time; training segments out of fold."""
    mode_ids = [stored.mode_ids[c] for c in stored.taxonomy.codes]
    ids = store.segments_to_label(db, stored.id)
    out_of_fold: set[int] = set()
    for start in range(0, len(ids), PREDICT_CHUNK):
        chunk = list(store.segment_texts(db, ids[start:start + PREDICT_CHUNK]))
        counts = tfidf.featurize([s.text for s in chunk], params)
        probabilities = {k: model.predict_proba(counts)[:, 1] for k, (_, _, model) in fits.items()}
        writes = []
        for i, segment in enumerate(chunk):
            values, notes = {}, {}
            for k, (_, oof, _) in fits.items():
                held_out = segment.id in oof
                p = oof[segment.id] if held_out else float(probabilities[k][i])
                values[mode_ids[k]] = int(tfidf.present(np.array([p]))[0])
                notes[mode_ids[k]] = f"P(present) {p:.3f}" + (" out of fold" if held_out else "")
                if held_out:
                    out_of_fold.add(segment.id)
            writes.append(store.LabelWrite(segment.id, rater_id, stored.id, values, rationales=notes))
        result.changed += store.write_label_batch(db, writes)
        result.labelled += len(chunk)
    result.out_of_fold = len(out_of_fold)
