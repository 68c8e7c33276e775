"""The report: its model (every key and type, on synthetic and real data), the shared formatting of figures,
and its renderings (JSON round-trip, tidy CSV, Markdown with n/a, one safe offline HTML file)."""

from __future__ import annotations

import ast
import copy
import csv
import io
import json
import math
import re
from decimal import ROUND_HALF_EVEN, Decimal
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from agreement_support import make_label_set, random_label_set
from helpers import run_cli
from typeguard import CollectionCheckStrategy, TypeCheckError, check_type

import annotator
from annotator.core.agreement import build_report
from annotator.core.report import fmt, render
from annotator.core.report.fmt import md_escape
from annotator.core.report.html import FLAG_HELP
from annotator.core.report.model import FLAGS, Report

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
    section = text.split("### 3\\.2")[1].split("###")[0]
    assert "n/a" in section and "undefined" in section
    assert EVIL not in text and md_escape(EVIL) in text
    assert "\\| pipe" in text  # a pipe in a name cannot break the table
    assert "Mean pairwise Cohen's kappa" in text and "over 5 of 6 modes" in text
    assert "## Co-confusion" in text and "## Parameters" in text and "seed" in text
    assert "CC\\-BY\\-4\\.0" in text and "round\\=" in text  # escaped: rendered as CC-BY-4.0, round=


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
    for form in ("json", "csv", "md", "html"):
        assert render(report, form)
    assert "n/a" in render(report, "md") and "n/a" in render(report, "html")


# --------------------------------------------------------------------------------------------------
# The model: typeguard, a run-time checker independent of the code under test, reads the TypedDicts of
# annotator.core.report.model and checks a document against them: every declared key present, no key
# that is not declared, every value of its declared type (in every list item, not just the first).

def assert_is_report(document: object) -> None:
    check_type(document, Report, collection_check_strategy=CollectionCheckStrategy.ALL_ITEMS)
    as_json = json.loads(render(document, "json"))  # type: ignore[arg-type]
    assert as_json == document
    check_type(as_json, Report, collection_check_strategy=CollectionCheckStrategy.ALL_ITEMS)


def test_synthetic_report_matches_the_model(report):
    assert_is_report(report)
    assert {"filters", "generated_at", "attribution"} <= set(report["params"])


@pytest.mark.parametrize("spoil", [
    lambda r: r["modes"][0]["pairs"][0].update(kappa="0.5"),             # a number written as text
    lambda r: r["modes"][0]["pairs"][0].pop("undefined_resamples"),      # a key missing
    lambda r: r["pooled"]["pairs"][0].pop("units"),                      # a pooled-only key missing
    lambda r: r["modes"][0].update(ci_method="percentile"),              # a key the model does not declare
    lambda r: r["modes"][0]["flags"].append("odd"),                      # a flag outside the vocabulary
    lambda r: r["summary"]["pairs"][-1].update(modes_covered=np.int64(2)),  # a numpy integer, not JSON
    lambda r: r.update(level="unit"),                                     # a level that does not exist
])
def test_the_model_check_catches_a_spoilt_report(report, spoil):
    spoilt = copy.deepcopy(report)
    spoil(spoilt)
    with pytest.raises(TypeCheckError):
        check_type(spoilt, Report, collection_check_strategy=CollectionCheckStrategy.ALL_ITEMS)


def test_an_all_undefined_report_matches_the_model():
    assert_is_report(build_report(make_label_set(np.zeros((3, 2, 2), np.int8)), bootstrap=5))
    assert_is_report(build_report(make_label_set(np.zeros((0, 2, 1), np.int8)), bootstrap=0))


def test_real_mast_reports_match_the_model(tmp_path, mast_human_path):
    """The MAST human file through `annotator import`, reported at both levels and for one round."""
    db = tmp_path / "mast.db"
    assert run_cli("import", str(mast_human_path), db=db).exit_code == 0
    from annotator import store
    from annotator.services.report import report_for

    conn = store.connect(db)
    documents = [report_for(conn, bootstrap=50), report_for(conn, level="trace", bootstrap=50),
                 report_for(conn, tags={"round": "Round 2"}, bootstrap=0),
                 report_for(conn, taxonomy="mast@draft-round-1", bootstrap=20)]
    for document in documents:
        assert_is_report(document)
        assert "attribution" in document["params"]  # MAD asks for credit
    first = documents[0]
    kappas = [p["kappa"] for m in first["modes"] for p in m["pairs"]]
    assert None in kappas and any(k is not None for k in kappas)  # both branches of float | None were checked
    cli = run_cli("report", "--format", "json", "--bootstrap", "20", db=db)
    assert_is_report(json.loads(cli.stdout))


def test_demo_report_with_judge_gold_and_samples_matches_the_model(tmp_path):
    """The bundled demo (people, a recorded judge run, gold), with a second judge sample on two segments so
    the report carries judge_self_agreement too."""
    from annotator import store
    from annotator.services.demo import build_demo
    from annotator.services.report import report_for

    build_demo(tmp_path / "demo.db")
    db = store.connect(tmp_path / "demo.db")
    judge = next(r for r in store.list_raters(db) if r.kind == "judge")
    tax = store.get_taxonomy(db, "mast")
    first_two = sorted(store.judge_sample_labels(db, judge.id, tax.id))[:2]
    for segment in first_two:
        values = {mode_id: int(code == "1.1") for code, mode_id in tax.mode_ids.items()}
        store.write_labels(db, store.LabelWrite(segment, judge.id, tax.id, values, sample=1))
    document = report_for(db, include_gold=True, bootstrap=100)
    assert_is_report(document)
    assert document["classification"] and document["judge_self_agreement"]
    assert {r["kind"] for r in document["raters"]} == {"human", "judge", "gold"}


# --------------------------------------------------------------------------------------------------
# Formatting: the expected texts come from the policy in fmt's docstring, the rounding from Decimal.

def _decimal_text(value: float, digits: int) -> str:
    """The exact binary value of ``value`` rounded half-to-even: an independent reference for rounding."""
    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN))


@pytest.mark.parametrize("value", [0.005, 0.015, 0.025, 0.125, 0.375, 0.625, 1.005, 2.675, 0.995, -0.125,
                                   -0.005, -0.335, 0.1 + 0.2, 1 / 3, -2 / 3])
def test_numbers_round_as_the_stored_binary_value_says(value):
    assert fmt.fmt_number(value) == _decimal_text(value, 2)
    assert fmt.fmt_number(value, 3) == _decimal_text(value, 3)


def test_ties_and_near_ties_at_the_third_decimal():
    assert [fmt.fmt_number(v) for v in (0.125, 0.375, 2.675, 1.005, -0.125)] == ["0.12", "0.38", "2.67", "1.00",
                                                                                 "-0.12"]


@pytest.mark.parametrize("undefined", [None, float("nan"), np.nan, np.float64("nan")])
def test_undefined_reads_n_a_everywhere(undefined):
    assert fmt.fmt_number(undefined) == fmt.fmt_with_ci(undefined, 0.1, 0.2) == "n/a"
    assert fmt.fmt_signed(undefined) == fmt.fmt_percent(undefined) == "n/a"
    assert fmt.fmt_money(undefined) == "n/a (price unknown)"


def test_intervals_negative_kappas_and_missing_bounds():
    assert fmt.fmt_with_ci(-0.25, -0.5, 0.0) == "-0.25 [-0.50, 0.00]"
    assert fmt.fmt_with_ci(0.634, 0.512, 0.738) == "0.63 [0.51, 0.74]"
    assert fmt.fmt_with_ci(0.634, 0.512, 0.738, 3) == "0.634 [0.512, 0.738]"
    assert fmt.fmt_with_ci(-1.0, None, None) == "-1.00"  # no bootstrap: the value alone
    assert fmt.fmt_with_ci(0.5, 0.1, None) == fmt.fmt_with_ci(0.5, math.nan, 0.9) == "0.50"
    assert fmt.fmt_with_ci(None, None, None) == "n/a"


def test_signed_percent_counts_money_and_flags():
    assert (fmt.fmt_signed(0.1234), fmt.fmt_signed(-0.05), fmt.fmt_signed(0.0)) == ("+0.12", "-0.05", "+0.00")
    assert (fmt.fmt_percent(0.95), fmt.fmt_percent(0.9), fmt.fmt_percent(0.125, 1)) == ("95%", "90%", "12.5%")
    assert (fmt.fmt_count(0), fmt.fmt_count(1234), fmt.fmt_count(None)) == ("0", "1234", "")
    assert (fmt.fmt_money(0.01234), fmt.fmt_money(1234.5)) == ("$0.0123", "$1,234.5000")
    assert (fmt.fmt_flags(["undefined", "few_units"]), fmt.fmt_flags([]), fmt.fmt_flags(None)) == (
        "undefined, few_units", "", "")


def test_every_flag_is_explained_in_the_html_report():
    assert set(FLAG_HELP) == set(FLAGS)


def test_no_module_spells_n_a_but_fmt():
    """One policy for undefined: the literal "n/a" lives in annotator/core/report/fmt.py only."""
    package = Path(annotator.__file__).parent
    found = []
    for path in package.rglob("*.py"):
        if path == package / "core" / "report" / "fmt.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip() == "n/a":
                found.append(f"{path.relative_to(package)}:{node.lineno}")
    assert not found


def test_renderers_show_the_same_figures(report):
    """The Markdown and HTML reports write every pair kappa as fmt writes it."""
    md, page = render(report, "md"), render(report, "html")
    for mode in report["modes"]:
        for pair in mode["pairs"]:
            text = fmt.fmt_with_ci(pair["kappa"], pair["ci_low"], pair["ci_high"])
            assert text in md and text in page


def test_markdown_and_html_show_hostile_names_as_text():
    """No maths ($...$), no image, link or entity, and no bidi control (U+202E reverses the rest of a line)."""
    from markdown_it import MarkdownIt

    values = np.array([[[1], [1]], [[0], [1]], [[1], [0]], [[0], [0]]], np.int8)
    ls = make_label_set(values, modes=[("1.1", "$\\frac{a}{b}$ ![x](http://evil.test/p.png) &amp;", "cat $$E$$")],
                        raters=("trace\u202eevil", "$x$ www.evil.test"))
    report = build_report(ls, bootstrap=0, seed=1, taxonomy=("t$", "1"))
    text = render(report, "md")
    assert not re.search(r"(?<!\\)\$", text), "an unescaped $ starts maths on GitHub"
    assert "\u202e" not in text
    shown = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)
    assert "<img" not in shown and "<a " not in shown and "&amp;amp;" in shown
    page = render(report, "html")
    assert "\u202e" not in page and "traceevil" in page
