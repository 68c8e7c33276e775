"""The agreement report as types: the "report JSON" contract of DESIGN.md, one TypedDict per object.

Why TypedDicts and not dataclasses
----------------------------------
The report *is* a JSON document: the CLI writes it with ``json.dumps``, the app caches it with
``st.cache_data`` (which pickles plain data), and every reader (renderers, app tables, the judge lab,
the CLI) indexes it by key. A TypedDict is a plain ``dict`` at run time, so the JSON output and every
reader stay as they are, byte for byte, while mypy checks each key and value type where the report is
built and where it is read. Dataclasses would need a ``to_json()`` whose output must be kept in step
with the contract by hand, and would change every reader from ``report["modes"]`` to ``report.modes``
for no gain in what is checked. The key order of the JSON is the order in which the builder
(``annotator.core.agreement.compute``) writes the keys; the fields below follow it (but for
``PooledPair.units``, which the JSON has just before ``flags``).

Undefined policy: a statistic that is undefined is ``None`` (JSON ``null``), never 0, 1 or NaN;
``float | None`` marks every such field. Counts are never undefined; a count that was not taken
(``undefined_resamples`` without a bootstrap) is None too.

Extending the report
--------------------
Add the field to the TypedDict here, then write it where the report is built (a new per-pair field, say
``ci_method``, goes into :class:`Pair` and ``_pair_entry`` of ``annotator.core.agreement.compute``).
``NotRequired`` is for keys that only some reports carry (marked below); a key every report has is a
plain field. ``tests/test_report_render.py`` checks reports built from synthetic data, the MAST file and
the demo against these types at run time (no missing key, no unknown key, every value of its declared
type), so a key written but not declared here, or declared as required but not written, fails it.

Who builds what
---------------
- ``annotator.core.agreement.compute_report``: everything except the keys marked below;
- ``annotator.core.agreement.build_report``: ``params.filters``, ``params.generated_at`` and, for data
  whose licence asks for credit, ``params.attribution``; at trace level from segments, ``trace_coverage``;
- ``annotator.services.report.report_for``: ``judge_self_agreement``, when a judge was sampled more than
  once per segment; ``localisation`` (``annotator.core.agreement.localisation``), when raters localised
  failures; ``stale_gold_segments``, when gold is included and some of it predates newer labels.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict, get_args

Level = Literal["segment", "trace"]
McNemarMethod = Literal["exact", "chi2"]
Resample = Literal["segment", "trace"]
PairsChoice = Literal["auto", "all", "none"]  # which reports list every rater pair (core.agreement.listing)
RaterKind = Literal["human", "judge", "gold", "reference"]
Flag = Literal["undefined", "constant_rater", "low_positive_count", "kappa_paradox", "few_units", "uninformative"]
FLAGS: tuple[Flag, ...] = get_args(Flag)

# A filter as given by the caller, made JSON-friendly (see build_report): lists of names, or a text.
FilterValue = int | float | bool | str | list[str] | None


class TaxonomyRef(TypedDict):
    name: str | None  # None when the caller did not say which taxonomy
    version: str | None


class Rater(TypedDict):
    name: str
    kind: RaterKind


class Pair(TypedDict):
    """Two raters on one mode (or pooled over modes): the 2x2 counts and the statistics from them."""

    a: str
    b: str
    n: int  # units both raters labelled
    both: int
    a_only: int
    b_only: int
    neither: int
    observed_agreement: float | None
    kappa: float | None
    se: float | None  # large-sample standard error of kappa
    positive_agreement: float | None
    negative_agreement: float | None
    ac1: float | None
    pabak: float | None
    prevalence_a: float | None
    prevalence_b: float | None
    # Bias and prevalence (annotator.core.agreement.bias): read beside kappa to tell ambiguity from habit.
    bias_index: float | None  # (a_only - b_only) / n: > 0 when rater a marks the mode more often
    prevalence_index: float | None  # (both - neither) / n: near -1 for a rare mode
    kappa_max: float | None  # the largest kappa these two prevalences allow; None where kappa is undefined
    mcnemar_statistic: float | None  # min(a_only, b_only) (exact) or the chi-square statistic (chi2)
    mcnemar_p: float | None  # McNemar's test of equal prevalences; None without a discordant unit
    mcnemar_method: McNemarMethod | None  # "exact" (binomial, a_only + b_only < 25) or "chi2"; None with mcnemar_p
    ci_low: float | None  # None when kappa is undefined, or (percentile) without bootstrap or defined resamples
    ci_high: float | None
    ci_method: str  # how ci_low and ci_high were computed: "dirichlet", "goodness-of-fit" or "percentile"
    undefined_resamples: int | None  # resamples where kappa was undefined; None when not resampled
    flags: list[Flag]
    undefined_reason: str | None  # why kappa is None; None when it is defined


class PooledPair(Pair):
    """A pair pooled over all (unit, mode) cells: ``n`` counts cells, ``units`` the units behind them."""

    units: int


class UndefinedReasons(TypedDict, total=False):
    """Why a mode's multi-rater figure is None: only the keys whose value is None are present."""

    mean_pairwise_kappa: str
    fleiss_kappa: str
    krippendorff_alpha: str


class PeopleFigure(TypedDict):
    """A mode's agreement among people (raters of kind "human"; judges and gold are not people)."""

    mean_kappa: float | None  # mean Cohen's kappa over person-person pairs with a defined kappa
    ci_low: float | None  # percentile bootstrap over the report's resamples
    ci_high: float | None
    pairs: int  # person-person pairs whose kappa is defined (the mean covers these)


class AltTestResult(TypedDict):
    """The alternative annotator test (Calderon, Reichart and Dror 2025); all None when it was not run."""

    winning_rate: float | None  # share of annotators the judge beats (H0 rejected after Benjamini-Yekutieli)
    advantage_probability: float | None  # mean over annotators of P(judge aligns at least as well): ranks judges
    passed: bool | None  # winning_rate >= 0.5: the judge can replace an annotator on this mode


class AltTestAnnotator(TypedDict):
    """One leave-one-annotator-out comparison of the alt-test."""

    rater: str  # the annotator left out
    instances: int
    judge_advantage: float  # rho^f: share of instances where the judge aligns with the rest at least as well
    annotator_advantage: float  # rho^h: the same for the annotator left out
    p_value: float | None  # one-sided t-test of H0 rho^f <= rho^h - epsilon, before correction
    judge_wins: bool  # H0 rejected after the Benjamini-Yekutieli correction


class JudgeFigure(TypedDict):
    """A judge against the people on one mode: a candidate replacement for an annotator."""

    rater: str
    mean_kappa_vs_people: float | None  # mean Cohen's kappa over judge-person pairs with a defined kappa
    ci_low: float | None  # percentile bootstrap
    ci_high: float | None
    minus_people: float | None  # mean_kappa_vs_people minus the people's own mean pairwise kappa
    minus_people_ci_low: float | None  # paired: both means from the same resampled units
    minus_people_ci_high: float | None
    alt_test: AltTestResult
    alt_test_reason: str | None  # why the alt-test was not run, or which annotators it left out
    alt_test_annotators: list[AltTestAnnotator]


class Mode(TypedDict):
    code: str
    name: str
    category: str
    pairs: list[Pair]  # one per rater pair, in rater order (a before b)
    mean_pairwise_kappa: float | None  # over person-person pairs only (people.mean_kappa); pairs keeps them all
    mean_pairwise_kappa_pairs: int  # person-person pairs whose kappa is defined (the mean covers these)
    mean_pairwise_kappa_ci_low: float | None
    mean_pairwise_kappa_ci_high: float | None
    mean_human_kappa: float | None  # mean over human-human pairs only (the same value, kept for old readers)
    fleiss_kappa: float | None  # among people only, like every multi-rater figure of a mode
    fleiss_kappa_ci_low: float | None  # percentile bootstrap (people only, the report's resamples)
    fleiss_kappa_ci_high: float | None
    krippendorff_alpha: float | None
    krippendorff_alpha_ci_low: float | None
    krippendorff_alpha_ci_high: float | None
    people: PeopleFigure
    judges: list[JudgeFigure]  # one per rater of kind "judge", in rater order
    labelled_units: int
    positive_labels: int  # (unit, rater) cells that say "present": (segment, rater), or (trace, rater) at trace level
    flags: list[Flag]
    undefined_reasons: UndefinedReasons


class Pooled(TypedDict):
    pairs: list[PooledPair]
    mean_pairwise_kappa: float | None
    mean_pairwise_kappa_pairs: int
    mean_pairwise_kappa_ci_low: float | None
    mean_pairwise_kappa_ci_high: float | None


class CoConfusion(TypedDict):
    """On one unit one rater marks ``a_mode`` and not ``b_mode``, the other the reverse."""

    a_mode: str
    b_mode: str
    count: int
    comparisons: int  # (unit, rater pair) where both raters labelled both modes
    rate: float  # count / comparisons (only pairs with count > 0 are listed, so comparisons > 0)
    examples: list[str]  # unit ids


class Contested(TypedDict):
    unit: str
    disputed_modes: list[str]
    disputed_count: int
    discordant_pairs: int


class Scores(TypedDict):
    """A judge against a reference on the positive class; None where a ratio has a zero denominator."""

    n: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None
    accuracy: float | None


class ModeScores(Scores):
    code: str


class Classification(TypedDict):
    reference: str
    predicted: str
    modes: list[ModeScores]
    pooled: Scores  # micro: counts summed over modes


class SummaryPair(TypedDict):
    a: str
    b: str
    mean_kappa: float | None
    modes_covered: int
    pooled_kappa: float | None


class ModeRank(TypedDict):
    code: str
    mean_human_kappa: float


class Summary(TypedDict):
    """Averages over modes, each with the number of modes where the averaged value is defined.

    Every average is over the people-only figures of the modes; ``pairs`` lists every rater pair.
    """

    units: int
    raters: int
    modes_total: int
    mean_kappa: float | None
    mean_kappa_modes_covered: int
    mean_fleiss_kappa: float | None
    mean_fleiss_kappa_modes_covered: int
    mean_krippendorff_alpha: float | None
    mean_krippendorff_alpha_modes_covered: int
    mean_human_kappa: float | None
    mean_human_kappa_modes_covered: int
    pooled_mean_pairwise_kappa: float | None
    pairs: list[SummaryPair]
    modes_by_human_kappa: list[ModeRank]  # least agreement first; modes without a human kappa left out


# Which interval each figure has (its method), by where the figure sits in the report.
CiMethods = TypedDict("CiMethods", {"modes.pairs": str, "modes.mean_pairwise_kappa": str, "pooled.pairs": str,
                                    "pooled.mean_pairwise_kappa": str, "modes.fleiss_kappa": str,
                                    "modes.krippendorff_alpha": str, "modes.people": str, "modes.judges": str})


class PairsListing(TypedDict):
    """Whether the pair lists are in the report (``core.agreement.listing``; issue 15). When omitted,
    ``modes[].pairs``, ``pooled.pairs``, ``summary.pairs`` (and ``trace_coverage``) are empty lists and
    every other figure is what it would be with them."""

    pairs: PairsChoice  # as asked: "auto" lists them up to pairs_auto_max_raters raters
    pairs_total: int  # rater pairs in the data, listed or not
    pairs_auto_max_raters: int
    pairs_omitted: bool
    pairs_omitted_reason: str | None  # why they were left out; None when listed


class Params(PairsListing):
    bootstrap: int
    seed: int
    ci_level: float
    ci_method: str  # the interval of each pair's kappa per mode (ci_methods has the others)
    ci_methods: CiMethods
    resample: Resample  # what the bootstrap drew: single segments or whole traces (core.agreement.resampling)
    resample_reason: str  # why: the default follows the segmentation, or the caller chose
    units: int
    low_positive_threshold: int
    few_units_threshold: int
    uninformative_width: float  # a pair whose interval is wider is flagged "uninformative"
    alt_test_epsilon: float  # the alt-test's cost-benefit margin (0.2 experts, 0.15 skilled, 0.1 crowd workers)
    alt_test_q: float  # its Benjamini-Yekutieli false-discovery level
    filters: NotRequired[dict[str, FilterValue]]  # build_report
    generated_at: NotRequired[str]  # build_report: UTC, ISO 8601
    attribution: NotRequired[str]  # build_report, when the data asks for credit


class SelfAgreementMode(TypedDict):
    code: str
    n: int  # segments with two or more samples of this mode
    mean_pairwise_agreement: float | None
    disagreement_share: float | None
    positive_rate: float | None


class SelfAgreement(TypedDict):
    """A judge asked several times per segment, against itself (``annotator.judge.selfagree``)."""

    segments: int
    max_samples: int
    modes: list[SelfAgreementMode]


class TraceCoverage(TypedDict):
    """A rater pair at trace level: how many traces both raters looked at, in full or in part
    (``annotator.core.agreement.coverage``). A rater says "absent" only for traces she labelled in full."""

    a: str
    b: str
    traces: int  # traces both raters labelled at least one segment of (full + partial)
    full: int  # traces both labelled every segment of
    partial: int  # traces both labelled, at least one of them not every segment


class Estimate(TypedDict):
    value: float | None
    ci_low: float | None  # percentile interval from resampling traces
    ci_high: float | None


class LocalisationRater(TypedDict):
    name: str
    kind: RaterKind
    traces: int  # traces it answered
    no_error: int  # of which "no decisive error"


class LocalisationModeRow(TypedDict):
    mode: str
    n: int  # traces both localised where either root cause names the mode
    same_mode: float
    agent_accuracy: float
    step_exact: float


class LocalisationPair(TypedDict):
    a: str
    b: str
    traces: int  # answered by both
    both_no_error: int
    a_only_no_error: int
    b_only_no_error: int
    error_agreement: float | None  # both localised or both "no decisive error"
    n: int  # localised by both: the figures below are over these
    agent_accuracy: Estimate
    agent_kappa: Estimate
    step_exact: Estimate
    step_within_1: Estimate
    step_within_k: Estimate
    failure_set_overlap: Estimate  # mean Jaccard of the failure turns, traces with several failures
    offsets: dict[str, int]  # b's step minus a's -> traces
    multi_failure_traces: int
    by_mode: list[LocalisationModeRow]


class ReferenceAccuracy(TypedDict):
    reference: str
    rater: str
    n: int  # traces the reference localised
    missing: int  # of which the rater did not answer (misses)
    said_no_error: int  # of which the rater said "no decisive error" (misses)
    agent_accuracy: Estimate  # Who&When agent-level accuracy
    step_accuracy: Estimate  # Who&When step-level accuracy


class LocalisationParams(TypedDict):
    bootstrap: int
    seed: int
    resample: Literal["trace"]


class Localisation(TypedDict):
    k: int  # the +-k of step_within_k
    raters: list[LocalisationRater]
    pairs: list[LocalisationPair]
    against_reference: list[ReferenceAccuracy]
    params: LocalisationParams


class Report(TypedDict):
    """The whole document, as ``annotator report --format json`` writes it."""

    taxonomy: TaxonomyRef
    level: Level
    raters: list[Rater]
    modes: list[Mode]
    pooled: Pooled
    co_confusion: list[CoConfusion]
    contested: list[Contested]
    classification: list[Classification]
    summary: Summary
    params: Params
    judge_self_agreement: NotRequired[dict[str, SelfAgreement]]  # report_for, judges with --samples > 1
    trace_coverage: NotRequired[list[TraceCoverage]]  # build_report, at trace level from segments
    localisation: NotRequired[Localisation]  # report_for, when raters localised failures
    stale_gold_segments: NotRequired[list[int]]  # report_for with gold: segments whose gold predates new labels
