"""The report as a document: :func:`compute_report` plus how it was made (filters, date, credit)."""

from __future__ import annotations

from datetime import UTC, datetime

from annotator.core.report.model import FilterValue, Report

from .alttest import DEFAULT_EPSILON as ALT_TEST_EPSILON
from .compute import compute_report
from .coverage import trace_coverage
from .intervals import DEFAULT_METHOD
from .labels import LabelSet
from .listing import PAIRS_AUTO


def build_report(
    label_set: LabelSet,
    *,
    bootstrap: int = 1000,
    seed: int = 0,
    level: str = "segment",
    taxonomy: tuple[str, str] | None = None,
    filters: dict[str, object] | None = None,
    attribution: str | None = None,
    resample: str | None = None,
    ci_method: str = DEFAULT_METHOD,
    generated_at: str | None = None,
    alt_test_epsilon: float = ALT_TEST_EPSILON,
    pairs: str = PAIRS_AUTO,
) -> Report:
    """:func:`compute_report` plus what a reader needs to reproduce it.

    ``params`` gains ``filters`` (how the labels were selected, e.g. raters or tags, as given),
    ``generated_at`` (UTC, ISO 8601; pass it for a reproducible document) and, when given,
    ``attribution`` (the dataset's required credit line). At trace level, when the units are
    segments (``unit_groups``), the report gains ``trace_coverage``: per pair, the traces both raters
    labelled in full or in part (an empty list when the pairs are not listed, ``params.pairs_omitted``).

    Examples
    --------
    >>> import numpy as np
    >>> ls = LabelSet(("s1", "s2"), ("ann", "bob"), ("human", "human"), (("1.1", "x", "c"),),
    ...               np.array([[[1], [1]], [[0], [1]]], dtype=np.int8))
    >>> build_report(ls, bootstrap=0, filters={"tag": "round=3"})["params"]["filters"]
    {'tag': 'round=3'}
    """
    report = compute_report(label_set, bootstrap=bootstrap, seed=seed, level=level, taxonomy=taxonomy,
                            resample=resample, ci_method=ci_method, alt_test_epsilon=alt_test_epsilon, pairs=pairs)
    params = report["params"]
    params["filters"] = {str(k): _plain(v) for k, v in (filters or {}).items()}
    params["generated_at"] = generated_at or datetime.now(UTC).isoformat(timespec="seconds")
    if attribution:
        params["attribution"] = str(attribution)
    if level == "trace" and label_set.unit_groups is not None:
        report["trace_coverage"] = [] if params["pairs_omitted"] else trace_coverage(label_set)
    return report


def _plain(value: object) -> FilterValue:
    """Filter values as JSON-friendly plain data (lists and tuples stay lists, others become str)."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return value if isinstance(value, (int, float, bool)) or value is None else str(value)
