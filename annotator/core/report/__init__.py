"""The agreement report: built from a LabelSet by the pure engine, rendered as JSON, CSV, Markdown or HTML.

Pure: no database work (the store provides the LabelSet; `annotator.services.report` wires the two).
Every text that comes from data (mode names, rater names, unit ids, filters) is untrusted and escaped
for the target format by the renderer that writes it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from annotator.core.agreement import LabelSet, compute_report
from annotator.core.agreement.intervals import DEFAULT_METHOD

FORMATS = ("json", "csv", "md", "html")


def build_report(
    label_set: LabelSet,
    *,
    bootstrap: int = 1000,
    seed: int = 0,
    level: str = "segment",
    taxonomy: tuple[str, str] | None = None,
    filters: dict | None = None,
    attribution: str | None = None,
    resample: str = "unit",
    ci_method: str = DEFAULT_METHOD,
    generated_at: str | None = None,
) -> dict:
    """:func:`annotator.core.agreement.compute_report` plus what a reader needs to reproduce it.

    ``params`` gains ``filters`` (how the labels were selected, e.g. raters or tags, as given),
    ``generated_at`` (UTC, ISO 8601; pass it for a reproducible document) and, when given,
    ``attribution`` (the dataset's required credit line).

    Examples
    --------
    >>> import numpy as np
    >>> ls = LabelSet(("s1", "s2"), ("ann", "bob"), ("human", "human"), (("1.1", "x", "c"),),
    ...               np.array([[[1], [1]], [[0], [1]]], dtype=np.int8))
    >>> build_report(ls, bootstrap=0, filters={"tag": "round=3"})["params"]["filters"]
    {'tag': 'round=3'}
    """
    report = compute_report(label_set, bootstrap=bootstrap, seed=seed, level=level, taxonomy=taxonomy,
                            resample=resample, ci_method=ci_method)
    params = report["params"]
    params["filters"] = {str(k): _plain(v) for k, v in (filters or {}).items()}
    params["generated_at"] = generated_at or datetime.now(UTC).isoformat(timespec="seconds")
    if attribution:
        params["attribution"] = str(attribution)
    return report


def _plain(value):
    """Filter values as JSON-friendly plain data (lists and tuples stay lists, others become str)."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return value if isinstance(value, (int, float, bool)) or value is None else str(value)


def render(report: dict, fmt: str) -> str:
    """The report as text in ``fmt``: "json", "csv", "md" or "html"."""
    from annotator.core.report import csvtable, html, markdown  # each renderer loads only when asked for

    renderers = {"json": render_json, "csv": csvtable.render_csv, "md": markdown.render_markdown,
                 "html": html.render_html}
    if fmt not in renderers:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return renderers[fmt](report)


def render_json(report: dict) -> str:
    """Pretty JSON; fails loudly (ValueError) rather than writing NaN or infinity."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
