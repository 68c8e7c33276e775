"""Numbers and texts of a report for people: fixed digits, "n/a" for undefined, intervals in brackets.
Shared by every renderer (Markdown, HTML, CSV) and the app."""

from __future__ import annotations

import re


def taxonomy_ref(report: dict) -> str:
    tax = report.get("taxonomy") or {}
    if not tax.get("name"):
        return "unknown taxonomy"
    return f"{tax['name']}@{tax['version']}" if tax.get("version") else str(tax["name"])


def fmt_number(value, digits: int = 2) -> str:
    """A number for people: fixed digits, "n/a" for undefined."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def fmt_with_ci(value, low, high, digits: int = 2) -> str:
    """"0.63 [0.51, 0.74]"; "n/a" when undefined; no brackets when there is no interval."""
    if value is None:
        return "n/a"
    if low is None or high is None:
        return fmt_number(value, digits)
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>|#!~])")


def md_escape(text) -> str:
    """Untrusted text for a Markdown table cell: one line, Markdown and HTML characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def summary_sentence(report: dict, escape=str) -> str:
    """One line that says what the headline number is and how much of the data it covers.

    ``escape`` is applied to every text that comes from data (rater names and kinds).
    """
    s = report.get("summary", {})
    params = report["params"]
    pooled = report["pooled"]
    raters = ", ".join(f"{escape(r['name'])} ({escape(r['kind'])})" for r in report["raters"])
    return (
        f"Mean pairwise Cohen's kappa {fmt_number(s.get('mean_kappa'))} over "
        f"{s.get('mean_kappa_modes_covered', 0)} of {s.get('modes_total', len(report['modes']))} modes "
        f"(undefined modes left out); pooled over all (unit, mode) cells "
        f"{fmt_with_ci(pooled['mean_pairwise_kappa'], pooled.get('mean_pairwise_kappa_ci_low'), pooled.get('mean_pairwise_kappa_ci_high'))}. "
        f"{s.get('units', '?')} {report['level']}s, raters: {raters}. "
        f"Intervals {_interval_description(params)} ({params['bootstrap']} resamples), seed {params['seed']}."
    )


def self_agreement_rows(report: dict) -> list[list[str]]:
    """(judge, mode, segments, mean pairwise agreement, disagreement share, positive rate) cells,
    shared by the md and html renderers."""
    rows = []
    for rater, result in (report.get("judge_self_agreement") or {}).items():
        for mode in result["modes"]:
            rows.append([rater, mode["code"], str(mode["n"]), fmt_number(mode["mean_pairwise_agreement"]),
                         fmt_number(mode["disagreement_share"]), fmt_number(mode["positive_rate"])])
    return rows


SELF_AGREEMENT_HEADER = ["judge", "mode", "segments", "agreement between samples", "segments where samples differ",
                         "positive rate"]


def _interval_description(params: dict) -> str:
    return (f"{params.get('ci_level', 0.95):.0%}: {params.get('ci_method', 'percentile')} for each pair's kappa per "
            f"mode; percentile bootstrap resampling {params.get('resample', 'unit')}s for pooled and mean kappas")


def parameter_rows(report: dict) -> list[tuple[str, str]]:
    """(name, value) rows describing how the report was made, shared by the md and html renderers."""
    params = report["params"]
    filters = params.get("filters") or {}
    rows = [
        ("taxonomy", taxonomy_ref(report)),
        ("level", report["level"]),
        ("bootstrap resamples", str(params["bootstrap"])),
        ("seed", str(params["seed"])),
        ("confidence interval", _interval_description(params)),
        ("data filter", "; ".join(f"{k}={', '.join(v) if isinstance(v, list) else v}" for k, v in filters.items())
         or "none"),
        ("generated", params.get("generated_at") or "not recorded"),
    ]
    if params.get("attribution"):
        rows.append(("data attribution", params["attribution"]))
    return rows
