"""The agreement report for a database selection: the entry point of `annotator report` and the Agreement page."""

from __future__ import annotations

import sqlite_utils

from annotator import store
from annotator.core.agreement import LabelSet, build_report
from annotator.core.agreement.alttest import DEFAULT_EPSILON as ALT_TEST_EPSILON
from annotator.core.agreement.intervals import DEFAULT_METHOD
from annotator.core.errors import OptionError, RefusedError
from annotator.core.report.model import Report, SelfAgreement


class NoLabelsError(RefusedError):
    """The selection (taxonomy, raters, tags) holds no labels: nothing to report, not a failure."""


UNSURE_CHOICES = ("exclude", "include")  # --unsure: labels submitted as unsure are left out by default

MAST_ATTRIBUTION = ("Derived from MAD: Multi-Agent System Traces Dataset (Cemri, Pan, Yang et al., "
                    "'Why Do Multi-Agent LLM Systems Fail?', 2025), CC-BY-4.0.")


def report_for(db: sqlite_utils.Database, *, taxonomy: str = "mast", raters: list[str] | None = None,
               level: str = "segment", tags: dict[str, str] | None = None, bootstrap: int = 1000, seed: int = 0,
               include_gold: bool = False, ci_method: str = DEFAULT_METHOD, resample: str | None = None,
               alt_test_epsilon: float = ALT_TEST_EPSILON, include_unsure: bool = False,
               localisation_k: int = 3, pairs: str = "auto") -> Report:
    """Load labels from the database and build the agreement report (the CLI's and the app's entry point).

    ``resample`` ("segment" or "trace") chooses what the bootstrap draws; None (the CLI's and the app's
    default) follows the segmentation: whole traces for turn- and window-level segments, single segments
    when each is a whole trace (:func:`annotator.core.agreement.resampling.choose_resample`).
    Labels a rater submitted as unsure are left out unless `include_unsure` (``params.filters.unsure``
    records which). ``pairs`` ("auto", "all", "none") says whether every rater pair is listed
    (:mod:`annotator.core.agreement.listing`: "auto" up to 20 raters).

    Raises NoLabelsError (one line) when the selection holds no labels.
    """
    if level not in ("segment", "trace"):
        raise OptionError(f"--level must be 'segment' or 'trace', not {level!r}")
    if resample not in (None, "segment", "trace"):
        raise OptionError(f"--resample must be 'segment' or 'trace', not {resample!r}")
    if pairs not in ("auto", "all", "none"):
        raise OptionError(f"--pairs must be 'auto', 'all' or 'none', not {pairs!r}")
    stored = store.get_taxonomy(db, taxonomy)
    label_set = store.load_label_set(db, stored, raters=raters, tags=tags, include_gold=include_gold,
                                     include_unsure=include_unsure)
    if not label_set.units:
        raise NoLabelsError(f"no labels under {stored.taxonomy.ref} for this selection (raters={raters}, tags={tags})")
    filters: dict[str, object] = {"raters": list(label_set.raters), "tags": dict(tags or {}),
                                  "taxonomy": stored.taxonomy.ref, "unsure": unsure_choice(include_unsure)}
    credit = MAST_ATTRIBUTION if store.traces_formats(db) & {"mad-human", "mad"} else None
    report = build_report(label_set, bootstrap=bootstrap, seed=seed, level=level,
                          taxonomy=(stored.taxonomy.name, stored.taxonomy.version), filters=filters,
                          attribution=credit, ci_method=ci_method, resample=resample,
                          alt_test_epsilon=alt_test_epsilon, pairs=pairs)
    sampled = _judge_self_agreement(db, stored, label_set)
    if sampled:
        report["judge_self_agreement"] = sampled
    _attach_localisation(db, report, raters=raters, tags=tags, k=localisation_k, bootstrap=bootstrap, seed=seed)
    stale = store.stale_gold_segments(db, stored.id) if include_gold else []
    if stale:
        report["stale_gold_segments"] = stale
    return report


def unsure_choice(include_unsure: bool) -> str:
    """How a selection treats labels submitted as unsure, in the words of `--unsure`."""
    return UNSURE_CHOICES[1] if include_unsure else UNSURE_CHOICES[0]


def _attach_localisation(db: sqlite_utils.Database, report: Report, *, raters: list[str] | None,
                         tags: dict[str, str] | None, k: int, bootstrap: int, seed: int) -> None:
    """The localisation section, when raters localised failures (reference raters join unless --raters names)."""
    from annotator.services.localisation_report import localisation_for

    section = localisation_for(db, raters=raters, tags=tags, k=k, bootstrap=bootstrap, seed=seed)
    if section is not None:
        report["localisation"] = section


def _judge_self_agreement(db: sqlite_utils.Database, stored: store.StoredTaxonomy,
                          label_set: LabelSet) -> dict[str, SelfAgreement]:
    """For judges asked several times per segment (`--samples K`), their agreement with themselves."""
    from annotator.judge.selfagree import self_agreement

    out: dict[str, SelfAgreement] = {}
    for name, kind in zip(label_set.raters, label_set.rater_kinds):
        rater = store.get_rater(db, name) if kind == "judge" else None
        if rater is None or not store.judge_has_samples(db, rater.id, stored.id):
            continue
        samples = store.judge_sample_labels(db, rater.id, stored.id)
        if any(len(per_sample) > 1 for per_sample in samples.values()):
            out[name] = self_agreement(samples, stored.taxonomy.codes)
    return out
