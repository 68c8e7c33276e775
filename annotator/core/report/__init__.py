"""The agreement report as a document: its shape (``model``), the texts people read (``fmt``), and its
renderings as JSON, CSV (``csvtable``), Markdown (``markdown``) or HTML (``html``, ``svg``).

Pure, and independent of how the report is computed: ``annotator.core.agreement.build_report`` fills
the model in from a LabelSet (the store provides the LabelSet; ``annotator.services.report`` wires the
two). Every text that comes from data (mode names, rater names, unit ids, filters) is untrusted and
escaped for the target format by the renderer that writes it.
"""

from __future__ import annotations

import json

from annotator.core.errors import OptionError
from annotator.core.report.model import Report

FORMATS = ("json", "csv", "md", "html")


def render(report: Report, fmt: str) -> str:
    """The report as text in ``fmt``: "json", "csv", "md" or "html"."""
    from annotator.core.report import csvtable, html, markdown  # each renderer loads only when asked for

    renderers = {"json": render_json, "csv": csvtable.render_csv, "md": markdown.render_markdown,
                 "html": html.render_html}
    if fmt not in renderers:
        raise OptionError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return renderers[fmt](report)


def render_json(report: Report) -> str:
    """Pretty JSON; fails loudly (ValueError) rather than writing NaN or infinity."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
