"""Report rendering: JSON round-trip, tidy CSV, Markdown with n/a, one safe offline HTML file."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from annotator.core.agreement import build_report
from annotator.core.report import render
from annotator.core.report.fmt import md_escape
from tests.agreement_support import make_label_set, random_label_set

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report() -> dict:
    """4 raters (one a judge), 6 modes, one mode with no positives (undefined), hostile names."""
    values = random_label_set(21, 60, 4, 6, prevalence=0.25, noise=0.2).values.copy()
    values[:, :, 5] = 0
    modes = [("1.1", EVIL, "Spec <b>"), ("1.2", 'quote " and | pipe', "Spec"), ("2.1", "=cmd()", "Inter"),
             ("2.2", "Plain", "Inter"), ("3.1", "*bold* [x](javascript:alert(1))", "Verif"), ("3.2", "Never seen", "Verif")]
    ls = make_label_set(values, modes=modes, kinds=("human", "human", "human", "judge"),
                        raters=("ann", "<img src=x onerror=alert(1)>", "cy", "judge:m@abc"))
    return build_report(ls, bootstrap=100, seed=3, taxonomy=("mast", "1"),
                        filters={"tag": "round=<b>3</b>", "raters": ["ann", "cy"]},
                        attribution="MAST-Data (Cemri et al., arXiv:2503.13657), CC-BY-4.0",
                        generated_at="2026-11-24T00:00:00+00:00")


def test_json_round_trips(report):
    text = render(report, "json")
    assert json.loads(text) == report
    assert "NaN" not in text and "Infinity" not in text


def test_json_refuses_nan():
    with pytest.raises(ValueError):
        render({"x": float("nan")}, "json")


def test_csv_is_one_tidy_row_per_mode_and_pair(report):
    frame = pd.read_csv(io.StringIO(render(report, "csv")), dtype={"mode_code": str})
    n_pairs = len(report["modes"][0]["pairs"])
    assert len(frame) == len(report["modes"]) * n_pairs == 6 * 6
    assert {"mode_code", "mode_name", "mode_fleiss_kappa", "a", "b", "kappa", "ci_low", "ci_high", "flags"} <= set(frame.columns)
    first = report["modes"][0]["pairs"][0]
    row = frame[frame["mode_code"] == "1.1"].iloc[0]
    assert row["kappa"] == pytest.approx(first["kappa"]) and row["n"] == first["n"]
    undefined = frame[frame["mode_code"] == "3.2"]
    assert undefined["kappa"].isna().all() and undefined["flags"].str.contains("undefined").all()


def test_csv_neutralises_spreadsheet_formulas(report):
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    names = {row["mode_name"] for row in rows}
    assert "'=cmd()" in names and "=cmd()" not in names
    assert all(not row["kappa"].startswith("'") for row in rows)  # numbers are never prefixed


def test_markdown_shows_na_for_undefined_and_escapes(report):
    text = render(report, "md")
    section = text.split("### 3.2")[1].split("###")[0]
    assert "n/a" in section and "undefined" in section
    assert EVIL not in text and md_escape(EVIL) in text
    assert "\\| pipe" in text  # a pipe in a name cannot break the table
    assert "Mean pairwise Cohen's kappa" in text and "over 5 of 6 modes" in text
    assert "## Co-confusion" in text and "## Parameters" in text and "seed" in text
    assert "CC-BY-4.0" in text and "round=" in text


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.refs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [value or "" for name, value in attrs if name in ("src", "href", "xlink:href", "action")]

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_safe(report):
    page = render(report, "html")
    parsed = _Collector()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "link" not in parsed.tags
    assert not [ref for ref in parsed.refs if re.match(r"\s*(https?:)?//", ref)]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    assert "<svg" in page and "Landis" in page
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Content-Security-Policy" in page


def test_html_shows_parameters_date_filters_and_attribution(report):
    page = render(report, "html")
    for needle in ("100", "seed", "mast@1", "2026-11-24T00:00:00+00:00", "round=&lt;b&gt;3&lt;/b&gt;",
                   "CC-BY-4.0", "n/a"):
        assert needle in page, needle


def test_html_marks_undefined_and_flags(report):
    page = render(report, "html")
    assert "n/a (undefined)" in page  # in the chart
    assert page.count('fill="#e08214"') > 1  # the flag marker: in the legend and on flagged modes
    assert "low_positive_count" in page


def test_build_report_records_filters_and_date():
    ls = make_label_set(np.array([[[1], [1]], [[0], [0]], [[1], [0]]], np.int8))
    report = build_report(ls, bootstrap=10, seed=1, level="segment", taxonomy=("mast", "1"), filters={"tag": "a=b"})
    assert report["params"]["filters"] == {"tag": "a=b"}
    assert re.match(r"\d{4}-\d\d-\d\dT", report["params"]["generated_at"])
    assert "attribution" not in report["params"]
    json.dumps(report, allow_nan=False)


def test_unknown_format_is_rejected(report):
    with pytest.raises(ValueError, match="format"):
        render(report, "pdf")


def test_all_formats_render_an_all_undefined_report():
    report = build_report(make_label_set(np.zeros((3, 2, 2), np.int8)), bootstrap=5)
    for fmt in ("json", "csv", "md", "html"):
        assert render(report, fmt)
    assert "n/a" in render(report, "md") and "n/a" in render(report, "html")
