"""Every figure a person reads, in one place: the report renderers (Markdown, HTML), the app and the CLI
format numbers, intervals, percentages, counts, costs and flags here and nowhere else.

Policy
------
- A number has fixed digits (two by default, :data:`DIGITS`): ``0.63``, ``-0.20``, ``1.00``. It is
  rounded as Python's ``format`` rounds: the stored binary value to the nearest, exact ties to even
  (0.125 gives "0.12", 0.375 gives "0.38", and 1.005, stored as 1.00499..., gives "1.00").
- Undefined is :data:`NA` ("n/a"): ``None``, and NaN (pandas turns None into NaN in a float column).
  Never "0.00", never a blank.
- An interval follows its value in brackets: ``0.63 [0.51, 0.74]``. An undefined value is "n/a" alone
  (an interval of an undefined statistic says nothing); a value without both bounds (no bootstrap) is
  shown alone.
- A change is signed: ``+0.12``, ``-0.05``. A percentage has no decimals by default: ``95%``.
- A count is a whole number as is (``1234``); a count that was not taken (``None``, e.g. undefined
  resamples without a bootstrap) is blank: nothing is undefined there, nothing was counted.
- Flags read as a comma-separated list: ``low_positive_count, few_units``.

Machines get full precision instead: the CSV report writes raw values through
:func:`annotator.core.csvsafe.csv_cell` (undefined is an empty cell, text is kept from becoming a
spreadsheet formula), and the JSON report writes ``null``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import cast

from annotator.core.plaintext import md_literal
from annotator.core.report.model import Mode, Pair, Params, Pooled, Report

NA = "n/a"
DIGITS = 2


def is_undefined(value: float | None) -> bool:
    """None or NaN (a Python, numpy or pandas float NaN)."""
    return value is None or (isinstance(value, numbers.Real) and math.isnan(value))


def fmt_number(value: float | None, digits: int = DIGITS) -> str:
    """A number for people: fixed digits, "n/a" for undefined.

    >>> fmt_number(0.6349), fmt_number(-0.2), fmt_number(None), fmt_number(0.06667, 3)
    ('0.63', '-0.20', 'n/a', '0.067')
    """
    return NA if is_undefined(value) else f"{value:.{digits}f}"


def fmt_p_value(value: float | None) -> str:
    """A p-value: three digits, "<0.001" below that (never "0.000"), "n/a" when there was nothing to test.

    >>> fmt_p_value(0.0703), fmt_p_value(0.00002), fmt_p_value(None)
    ('0.070', '<0.001', 'n/a')
    """
    if value is None or is_undefined(value):
        return NA
    return "<0.001" if value < 0.0005 else f"{value:.3f}"


def fmt_with_ci(value: float | None, low: float | None, high: float | None, digits: int = DIGITS, *,
                signed: bool = False) -> str:
    """A value with its interval: "0.63 [0.51, 0.74]"; "n/a" when undefined; no brackets without both bounds.
    A change (``signed``) has every figure signed: "+0.12 [-0.05, +0.30]".

    >>> fmt_with_ci(0.634, 0.512, 0.738), fmt_with_ci(0.634, None, None), fmt_with_ci(None, 0.1, 0.2)
    ('0.63 [0.51, 0.74]', '0.63', 'n/a')
    >>> fmt_with_ci(0.12, -0.05, 0.3, signed=True)
    '+0.12 [-0.05, +0.30]'
    """
    if is_undefined(value):
        return NA
    show = fmt_signed if signed else fmt_number
    if is_undefined(low) or is_undefined(high):
        return show(value, digits)
    return f"{show(value, digits)} [{show(low, digits)}, {show(high, digits)}]"


def fmt_field_with_ci(entry: Mapping[str, object], key: str) -> str:
    """``entry[key]`` with its interval ``entry[key + "_ci_low"]``, ``entry[key + "_ci_high"]``; a change
    (a key ending in "_change") is signed. Missing keys read as undefined.

    >>> fmt_field_with_ci({"f1": 0.5, "f1_ci_low": 0.25, "f1_ci_high": 0.7}, "f1")
    '0.50 [0.25, 0.70]'
    """
    value, low, high = (cast(float | None, entry.get(key + suffix)) for suffix in ("", "_ci_low", "_ci_high"))
    return fmt_with_ci(value, low, high, signed=key.endswith("_change"))


def fmt_mean_kappa(entry: Mode | Pooled) -> str:
    """A mode's (or the pooled) mean pairwise kappa with its interval."""
    return fmt_with_ci(entry["mean_pairwise_kappa"], entry["mean_pairwise_kappa_ci_low"],
                       entry["mean_pairwise_kappa_ci_high"])


def fmt_signed(value: float | None, digits: int = DIGITS) -> str:
    """A change, with its sign: "+0.12", "-0.05"; "n/a" when undefined."""
    return NA if is_undefined(value) else f"{value:+.{digits}f}"


def fmt_percent(value: float | None, digits: int = 0) -> str:
    """A share as a percentage: 0.95 gives "95%"; "n/a" when undefined."""
    return NA if is_undefined(value) else f"{value:.{digits}%}"


def fmt_count(value: int | None) -> str:
    """A count as is; blank when it was not taken (None)."""
    return "" if value is None else str(value)


def fmt_money(cost: float | None) -> str:
    """A cost in US dollars to four decimals, "n/a (price unknown)" when the model's price is not known."""
    return f"{NA} (price unknown)" if is_undefined(cost) else f"${cost:,.4f}"


def fmt_flags(flags: Iterable[str] | None) -> str:
    """Flags as one comma-separated text ("" when there is none)."""
    return ", ".join(flags or ())


def taxonomy_ref(report: Report) -> str:
    tax = report["taxonomy"]
    if not tax["name"]:
        return "unknown taxonomy"
    return f"{tax['name']}@{tax['version']}" if tax["version"] else str(tax["name"])


def md_escape(text: object) -> str:
    """Untrusted text for the Markdown report (a table cell, a heading): one line that renders as the
    text itself, without bidi controls (see :mod:`annotator.core.plaintext`)."""
    return md_literal(text)


def summary_sentence(report: Report, escape: Callable[[object], str] = str) -> str:
    """One line that says what the headline number is and how much of the data it covers.

    ``escape`` is applied to every text that comes from data (rater names and kinds).
    """
    s = report["summary"]
    params = report["params"]
    raters = ", ".join(f"{escape(r['name'])} ({escape(r['kind'])})" for r in report["raters"])
    return (
        f"Mean pairwise Cohen's kappa among people {fmt_number(s['mean_kappa'])} over "
        f"{s['mean_kappa_modes_covered']} of {s['modes_total']} modes "
        f"(undefined modes left out); pooled over all (unit, mode) cells {fmt_mean_kappa(report['pooled'])}. "
        f"Judges and gold are not people: they are left out of these figures. "
        f"{s['units']} {report['level']}s, raters: {raters}. "
        f"Intervals {interval_description(report)} ({params['bootstrap']} resamples), seed {params['seed']}."
    )


def self_agreement_rows(report: Report) -> list[list[str]]:
    """(judge, mode, segments, mean pairwise agreement, disagreement share, positive rate) cells,
    shared by the md and html renderers."""
    rows = []
    for rater, result in (report.get("judge_self_agreement") or {}).items():
        for mode in result["modes"]:
            rows.append([rater, mode["code"], fmt_count(mode["n"]), fmt_number(mode["mean_pairwise_agreement"]),
                         fmt_number(mode["disagreement_share"]), fmt_number(mode["positive_rate"])])
    return rows


# Bias and prevalence beside kappa (annotator.core.agreement.bias), compact: BI, PI, kappa_max, McNemar's p.
BIAS_HEADER = ["BI", "PI", "kappa max", "McNemar p"]


def bias_cells(pair: Pair) -> list[str]:
    """A pair's bias index, prevalence index, maximum kappa and McNemar p-value ("exact" marks the binomial
    version), shared by the md and html renderers."""
    return [fmt_number(pair["bias_index"]), fmt_number(pair["prevalence_index"]), fmt_number(pair["kappa_max"]),
            fmt_mcnemar(pair["mcnemar_p"], pair["mcnemar_method"])]


def fmt_mcnemar(p_value: float | None, method: str | None) -> str:
    """McNemar's p-value, marked when it is the exact binomial test: "0.070 (exact)", "<0.001", "n/a".

    >>> fmt_mcnemar(0.0703, "exact"), fmt_mcnemar(0.00002, "chi2"), fmt_mcnemar(None, None)
    ('0.070 (exact)', '<0.001', 'n/a')
    """
    return fmt_p_value(p_value) + (" (exact)" if method == "exact" else "")


SELF_AGREEMENT_HEADER = ["judge", "mode", "segments", "agreement between samples", "segments where samples differ",
                         "positive rate"]


TRACE_COVERAGE_HEADER = ["a", "b", "traces both labelled", "in full by both", "in part by one or both"]
TRACE_COVERAGE_NOTE = ("A rater counts a mode as absent from a trace only when she labelled every segment of it; "
                       "on a trace she saw in part, her label is missing unless one of her segments is positive.")


def trace_coverage_rows(report: Report) -> list[list[str]]:
    """(a, b, traces, full, partial) cells of the trace-level coverage per pair (md and html)."""
    return [[c["a"], c["b"], fmt_count(c["traces"]), fmt_count(c["full"]), fmt_count(c["partial"])]
            for c in report.get("trace_coverage") or []]


def interval_description(report: Report) -> str:
    """Which interval the figures have: the pair kappas per mode one method, the rest the bootstrap."""
    params = report["params"]
    return (f"{fmt_percent(params['ci_level'])}: {params['ci_method']} for each pair's kappa per mode; percentile "
            f"bootstrap resampling {params['resample']}s for pooled and mean kappas")


def pairs_note(report: Report) -> str | None:
    """Why the report does not list its rater pairs (``params.pairs_omitted``), or None when it does."""
    params = report["params"]
    if not params.get("pairs_omitted"):
        return None
    return (f"Rater pairs not listed: {params.get('pairs_omitted_reason')}. Every per-mode figure among people, "
            "each judge against the people and their intervals are complete; `annotator report --pairs all` "
            "lists the pairs.")


def _pairs_row(params: Params) -> str:
    total = params.get("pairs_total")
    if params.get("pairs_omitted"):
        return f"{total} not listed (--pairs {params.get('pairs')})"
    return f"{total} listed (--pairs {params.get('pairs', 'all')})"


def parameter_rows(report: Report) -> list[tuple[str, str]]:
    """(name, value) rows describing how the report was made, shared by the md and html renderers."""
    params = report["params"]
    filters = params.get("filters") or {}
    rows = [
        ("taxonomy", taxonomy_ref(report)),
        ("level", report["level"]),
        ("bootstrap resamples", fmt_count(params["bootstrap"])),
        ("seed", str(params["seed"])),
        ("confidence interval", interval_description(report)),
        ("data filter", "; ".join(f"{k}={', '.join(v) if isinstance(v, list) else v}" for k, v in filters.items())
         or "none"),
        ("generated", params.get("generated_at") or "not recorded"),
        ("rater pairs", _pairs_row(params)),
    ]
    if params.get("attribution"):
        rows.append(("data attribution", params["attribution"]))
    return rows
