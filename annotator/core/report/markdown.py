"""The agreement report as Markdown, to paste into a paper draft or an issue."""

from __future__ import annotations

from annotator.core.report.fmt import (
    SELF_AGREEMENT_HEADER,
    fmt_number,
    fmt_with_ci,
    md_escape,
    parameter_rows,
    self_agreement_rows,
    summary_sentence,
    taxonomy_ref,
)


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _md_flags(flags: list[str]) -> str:
    return ", ".join(flags) if flags else ""


def _md_pair_rows(pairs: list[dict]) -> list[list[str]]:
    return [[md_escape(p["a"]), md_escape(p["b"]), str(p["n"]), str(p["both"]), str(p["a_only"]),
             str(p["b_only"]), str(p["neither"]), fmt_number(p["observed_agreement"]),
             fmt_with_ci(p["kappa"], p["ci_low"], p["ci_high"]), fmt_number(p["se"]),
             fmt_number(p["positive_agreement"]), fmt_number(p["ac1"]), fmt_number(p["pabak"]),
             _md_flags(p["flags"])] for p in pairs]


PAIR_HEADER = ["a", "b", "n", "both", "a only", "b only", "neither", "p_o", "kappa [95% CI]", "SE",
               "pos. agr.", "AC1", "PABAK", "flags"]


def render_markdown(report: dict) -> str:
    """Markdown to paste into a paper draft or an issue; undefined values read "n/a"."""
    lines = [f"# Agreement report: {md_escape(taxonomy_ref(report))}, {report['level']} level", "",
             summary_sentence(report, md_escape), ""]
    lines += ["## Per mode", ""]
    for mode in report["modes"]:
        lines += [f"### {md_escape(mode['code'])} {md_escape(mode['name'])} ({md_escape(mode['category'])})", "",
                  "Mean pairwise kappa " + fmt_with_ci(mode["mean_pairwise_kappa"],
                                                       mode.get("mean_pairwise_kappa_ci_low"),
                                                       mode.get("mean_pairwise_kappa_ci_high"))
                  + f" · Fleiss' kappa {fmt_number(mode['fleiss_kappa'])}"
                  + f" · Krippendorff's alpha {fmt_number(mode['krippendorff_alpha'])}"
                  + (f" · flags: {_md_flags(mode['flags'])}" if mode["flags"] else ""), ""]
        lines += _md_table(PAIR_HEADER, _md_pair_rows(mode["pairs"]))
    lines += ["## Pooled over all (unit, mode) cells", ""]
    lines += _md_table(PAIR_HEADER, _md_pair_rows(report["pooled"]["pairs"]))
    lines += (_md_classification(report) + _md_self_agreement(report) + _md_co_confusion(report)
              + _md_contested(report) + _md_params(report))
    return "\n".join(lines)


def _md_classification(report: dict) -> list[str]:
    blocks = report.get("classification") or []
    if not blocks:
        return []
    rows = [[md_escape(b["predicted"]), md_escape(b["reference"]), md_escape(m["code"]), str(m["n"]), str(m["tp"]),
             str(m["fp"]), str(m["fn"]), fmt_number(m["precision"]), fmt_number(m["recall"]), fmt_number(m["f1"])]
            for b in blocks for m in [*b["modes"], {"code": "all (micro)", **b["pooled"]}]]
    header = ["judge", "reference", "mode", "n", "TP", "FP", "FN", "precision", "recall", "F1"]
    return ["## Judge against reference (positive class)", ""] + _md_table(header, rows)


def _md_co_confusion(report: dict) -> list[str]:
    rows = [[md_escape(c["a_mode"]), md_escape(c["b_mode"]), str(c["count"]), str(c.get("comparisons", "")),
             fmt_number(c["rate"], 3), md_escape(", ".join(c["examples"]))] for c in report["co_confusion"]]
    out = ["## Co-confusion (one rater marks A not B, the other B not A)", ""]
    if not rows:
        return out + ["No co-confused mode pairs.", ""]
    return out + _md_table(["mode A", "mode B", "count", "comparisons", "rate", "examples"], rows)


def _md_self_agreement(report: dict) -> list[str]:
    rows = self_agreement_rows(report)
    if not rows:
        return []
    return ["## Judge self-agreement across samples", "",
            "How often the judge agrees with itself when asked again: disagreement with people that is larger "
            "than this is not the judge's noise.", ""] + _md_table(
        SELF_AGREEMENT_HEADER, [[md_escape(r[0]), *r[1:]] for r in rows])


def _md_contested(report: dict) -> list[str]:
    contested = report.get("contested") or []
    if not contested:
        return []
    rows = [[md_escape(c["unit"]), str(c["disputed_count"]), str(c["discordant_pairs"]),
             md_escape(", ".join(c["disputed_modes"]))] for c in contested]
    return ["## Contested units (most disputed first)", ""] + _md_table(
        ["unit", "disputed modes", "discordant pairs", "modes"], rows)


def _md_params(report: dict) -> list[str]:
    return ["## Parameters", ""] + _md_table(["parameter", "value"],
                                             [[md_escape(k), md_escape(v)] for k, v in parameter_rows(report)])
