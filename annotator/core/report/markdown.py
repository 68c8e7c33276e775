"""The agreement report as Markdown, to paste into a paper draft or an issue."""

from __future__ import annotations

from annotator.core.report.fmt import (
    BIAS_HEADER,
    SELF_AGREEMENT_HEADER,
    TRACE_COVERAGE_HEADER,
    TRACE_COVERAGE_NOTE,
    bias_cells,
    fmt_count,
    fmt_flags,
    fmt_number,
    fmt_with_ci,
    md_escape,
    pairs_note,
    parameter_rows,
    self_agreement_rows,
    summary_sentence,
    taxonomy_ref,
    trace_coverage_rows,
)
from annotator.core.report.judges import JUDGE_HEADER, judge_rows, judges_note, people_figure
from annotator.core.report.localisation import localisation_tables
from annotator.core.report.model import Localisation, Pair, PooledPair, Report, Scores


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _md_pair_rows(pairs: list[Pair] | list[PooledPair]) -> list[list[str]]:
    return [[md_escape(p["a"]), md_escape(p["b"]), fmt_count(p["n"]), fmt_count(p["both"]), fmt_count(p["a_only"]),
             fmt_count(p["b_only"]), fmt_count(p["neither"]), fmt_number(p["observed_agreement"]),
             fmt_with_ci(p["kappa"], p["ci_low"], p["ci_high"]), fmt_number(p["se"]),
             fmt_number(p["positive_agreement"]), fmt_number(p["ac1"]), fmt_number(p["pabak"]),
             *bias_cells(p), fmt_flags(p["flags"])] for p in pairs]


PAIR_HEADER = ["a", "b", "n", "both", "a only", "b only", "neither", "p_o", "kappa [95% CI]", "SE",
               "pos. agr.", "AC1", "PABAK", *BIAS_HEADER, "flags"]


def render_markdown(report: Report) -> str:
    """Markdown to paste into a paper draft or an issue; undefined values read "n/a"."""
    lines = [f"# Agreement report: {md_escape(taxonomy_ref(report))}, {report['level']} level", "",
             summary_sentence(report, md_escape), ""]
    omitted = pairs_note(report)  # our own text (counts and option names), not data
    if omitted:
        lines += [omitted, ""]
    if stale := report.get("stale_gold_segments"):
        lines += [f"**Stale gold** on {len(stale)} segments (people labelled them after their gold was set; "
                  f"rebuild or adjudicate again): {', '.join(map(str, stale[:50]))}"
                  + (" …" if len(stale) > 50 else ""), ""]
    lines += ["## Per mode", ""]
    for mode in report["modes"]:
        lines += [f"### {md_escape(mode['code'])} {md_escape(mode['name'])} ({md_escape(mode['category'])})", "",
                  "People: mean pairwise kappa " + people_figure(mode)
                  + " · Fleiss' kappa " + fmt_with_ci(mode["fleiss_kappa"], mode["fleiss_kappa_ci_low"],
                                                      mode["fleiss_kappa_ci_high"])
                  + " · Krippendorff's alpha " + fmt_with_ci(mode["krippendorff_alpha"],
                                                             mode["krippendorff_alpha_ci_low"],
                                                             mode["krippendorff_alpha_ci_high"])
                  + (f" · flags: {fmt_flags(mode['flags'])}" if mode["flags"] else ""), ""]
        lines += [] if omitted else _md_table(PAIR_HEADER, _md_pair_rows(mode["pairs"]))
    lines += ["## Pooled over all (unit, mode) cells", ""]
    lines += [omitted, ""] if omitted else _md_table(PAIR_HEADER, _md_pair_rows(report["pooled"]["pairs"]))
    lines += _md_trace_coverage(report)
    lines += (_md_judges(report) + _md_classification(report) + _md_self_agreement(report) + _md_co_confusion(report)
              + _md_contested(report) + localisation_markdown(report.get("localisation")) + _md_params(report))
    return "\n".join(lines)


def _md_judges(report: Report) -> list[str]:
    rows = judge_rows(report)
    if not rows:
        return []
    return ["## Judges against the people", "", judges_note(report), ""] + _md_table(
        JUDGE_HEADER, [[md_escape(row[0]), md_escape(row[1]), *row[2:7], md_escape(row[7])] for row in rows])


def _md_score_row(judge: str, reference: str, code: str, m: Scores) -> list[str]:
    return [md_escape(judge), md_escape(reference), md_escape(code), fmt_count(m["n"]), fmt_count(m["tp"]),
            fmt_count(m["fp"]), fmt_count(m["fn"]), fmt_number(m["precision"]), fmt_number(m["recall"]),
            fmt_number(m["f1"])]


def _md_classification(report: Report) -> list[str]:
    blocks = report["classification"]
    if not blocks:
        return []
    rows = [_md_score_row(b["predicted"], b["reference"], code, scores) for b in blocks
            for code, scores in [*((m["code"], m) for m in b["modes"]), ("all (micro)", b["pooled"])]]
    header = ["judge", "reference", "mode", "n", "TP", "FP", "FN", "precision", "recall", "F1"]
    return ["## Judge against reference (positive class)", ""] + _md_table(header, rows)


def _md_trace_coverage(report: Report) -> list[str]:
    rows = trace_coverage_rows(report)
    if not rows:
        return []
    return ["## Trace coverage per pair", "", TRACE_COVERAGE_NOTE, ""] + _md_table(
        TRACE_COVERAGE_HEADER, [[md_escape(r[0]), md_escape(r[1]), *r[2:]] for r in rows])


def _md_co_confusion(report: Report) -> list[str]:
    rows = [[md_escape(c["a_mode"]), md_escape(c["b_mode"]), fmt_count(c["count"]), fmt_count(c["comparisons"]),
             fmt_number(c["rate"], 3), md_escape(", ".join(c["examples"]))] for c in report["co_confusion"]]
    out = ["## Co-confusion (one rater marks A not B, the other B not A)", ""]
    if not rows:
        return out + ["No co-confused mode pairs.", ""]
    return out + _md_table(["mode A", "mode B", "count", "comparisons", "rate", "examples"], rows)


def _md_self_agreement(report: Report) -> list[str]:
    rows = self_agreement_rows(report)
    if not rows:
        return []
    return ["## Judge self-agreement across samples", "",
            ("How often the judge agrees with itself when asked again: disagreement with people that is larger "
             "than this is not the judge's noise."), ""] + _md_table(
        SELF_AGREEMENT_HEADER, [[md_escape(r[0]), md_escape(r[1]), *r[2:]] for r in rows])


def _md_contested(report: Report) -> list[str]:
    contested = report["contested"]
    if not contested:
        return []
    rows = [[md_escape(c["unit"]), fmt_count(c["disputed_count"]), fmt_count(c["discordant_pairs"]),
             md_escape(", ".join(c["disputed_modes"]))] for c in contested]
    return ["## Contested units (most disputed first)", ""] + _md_table(
        ["unit", "disputed modes", "discordant pairs", "modes"], rows)


def localisation_markdown(section: Localisation | None) -> list[str]:
    """The localisation section (turn and agent of the decisive error), when raters localised failures."""
    out: list[str] = []
    for title, note, header, rows, text_columns in localisation_tables(section) if section else []:
        cells = [[md_escape(c) if i < text_columns else c for i, c in enumerate(row)] for row in rows]
        out += [f"## {title}", "", note, ""] + _md_table(header, cells)
    return out


def _md_params(report: Report) -> list[str]:
    return ["## Parameters", ""] + _md_table(["parameter", "value"],
                                             [[md_escape(k), md_escape(v)] for k, v in parameter_rows(report)])
