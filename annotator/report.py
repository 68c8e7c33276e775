"""Agreement reports: build one from a LabelSet, and render it as JSON, CSV, Markdown or HTML.

A service over the pure core (:mod:`annotator.agreement`); it does no database work: the store
provides the LabelSet. Every text that comes from data (mode names, rater names, unit ids,
filters) is untrusted and escaped for the target format.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone

from annotator.agreement import LabelSet, compute_report
from annotator.csvsafe import csv_cell, csv_text

FORMATS = ("json", "csv", "md", "html")
PAIR_COLUMNS = ("a", "b", "n", "both", "a_only", "b_only", "neither", "observed_agreement", "kappa",
                "ci_low", "ci_high", "se", "positive_agreement", "negative_agreement", "ac1", "pabak",
                "prevalence_a", "prevalence_b", "undefined_resamples", "flags")
MODE_COLUMNS = ("code", "name", "category", "mean_pairwise_kappa", "fleiss_kappa", "krippendorff_alpha", "flags")


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
    generated_at: str | None = None,
) -> dict:
    """:func:`annotator.agreement.compute_report` plus what a reader needs to reproduce it.

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
                            resample=resample)
    params = report["params"]
    params["filters"] = {str(k): _plain(v) for k, v in (filters or {}).items()}
    params["generated_at"] = generated_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
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
    renderers = {"json": render_json, "csv": render_csv, "md": render_markdown, "html": _render_html}
    if fmt not in renderers:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return renderers[fmt](report)


def _render_html(report: dict) -> str:
    from annotator.report_html import render_html  # the HTML/SVG code is only needed for html

    return render_html(report)


def render_json(report: dict) -> str:
    """Pretty JSON; fails loudly (ValueError) rather than writing NaN or infinity."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# --- CSV: one row per mode x rater pair ------------------------------------------------------------


def render_csv(report: dict) -> str:
    """A tidy table: one row per (mode, rater pair), mode-level values repeated on each row.

    Columns: level, taxonomy, mode_* (code, name, category, mean_pairwise_kappa, fleiss_kappa,
    krippendorff_alpha, flags), then the pair fields. Empty cell = undefined; flags are joined
    with ";". Numbers keep full precision.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["level", "taxonomy", *(f"mode_{c}" for c in MODE_COLUMNS), *PAIR_COLUMNS])
    taxonomy = taxonomy_ref(report)
    for mode in report["modes"]:
        mode_cells = [csv_cell(mode.get(c)) for c in MODE_COLUMNS]
        for pair in mode["pairs"]:
            writer.writerow([report["level"], csv_text(taxonomy), *mode_cells,
                             *(csv_cell(pair.get(c)) for c in PAIR_COLUMNS)])
    return out.getvalue()


# --- Markdown ---------------------------------------------------------------------------------------


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


def summary_sentence(report: dict, escape=str) -> str:
    """One line that says what the headline number is and how much of the data it covers.

    ``escape`` is applied to every text that comes from data (rater names and kinds).
    """
    s = report.get("summary", {})
    params = report["params"]
    pooled = report["pooled"]
    raters = ", ".join(f"{escape(r['name'])} ({escape(r['kind'])})" for r in report["raters"])
    ci = f"{params.get('ci_level', 0.95):.0%} percentile bootstrap over {params.get('resample', 'unit')}s"
    return (
        f"Mean pairwise Cohen's kappa {fmt_number(s.get('mean_kappa'))} over "
        f"{s.get('mean_kappa_modes_covered', 0)} of {s.get('modes_total', len(report['modes']))} modes "
        f"(undefined modes left out); pooled over all (unit, mode) cells "
        f"{fmt_with_ci(pooled['mean_pairwise_kappa'], pooled.get('mean_pairwise_kappa_ci_low'), pooled.get('mean_pairwise_kappa_ci_high'))}. "
        f"{s.get('units', '?')} {report['level']}s, raters: {raters}. "
        f"Intervals: {ci}, {params['bootstrap']} resamples, seed {params['seed']}."
    )


def render_markdown(report: dict) -> str:
    """Markdown to paste into a paper draft or an issue; undefined values read "n/a"."""
    lines = [f"# Agreement report: {md_escape(taxonomy_ref(report))}, {report['level']} level", "",
             summary_sentence(report, md_escape), ""]
    lines += ["## Per mode", ""]
    for mode in report["modes"]:
        lines += [f"### {md_escape(mode['code'])} {md_escape(mode['name'])} ({md_escape(mode['category'])})", "",
                  "Mean pairwise kappa " + fmt_with_ci(mode["mean_pairwise_kappa"], mode.get("mean_pairwise_kappa_ci_low"),
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


def parameter_rows(report: dict) -> list[tuple[str, str]]:
    """(name, value) rows describing how the report was made, shared by the md and html renderers."""
    params = report["params"]
    filters = params.get("filters") or {}
    rows = [
        ("taxonomy", taxonomy_ref(report)),
        ("level", report["level"]),
        ("bootstrap resamples", str(params["bootstrap"])),
        ("seed", str(params["seed"])),
        ("confidence interval", f"{params.get('ci_level', 0.95):.0%} {params.get('ci_method', 'percentile')}, "
                                f"resampling {params.get('resample', 'unit')}s"),
        ("data filter", "; ".join(f"{k}={', '.join(v) if isinstance(v, list) else v}" for k, v in filters.items())
         or "none"),
        ("generated", params.get("generated_at") or "not recorded"),
    ]
    if params.get("attribution"):
        rows.append(("data attribution", params["attribution"]))
    return rows


def _md_params(report: dict) -> list[str]:
    return ["## Parameters", ""] + _md_table(["parameter", "value"],
                                             [[md_escape(k), md_escape(v)] for k, v in parameter_rows(report)])


class NoLabelsError(ValueError):
    """The selection (taxonomy, raters, tags) holds no labels: nothing to report, not a failure."""


MAST_ATTRIBUTION = ("Derived from MAD: Multi-Agent System Traces Dataset (Cemri, Pan, Yang et al., "
                    "'Why Do Multi-Agent LLM Systems Fail?', 2025), CC-BY-4.0.")


def report_for(db, *, taxonomy: str = "mast", raters: list[str] | None = None, level: str = "segment",
               tags: dict[str, str] | None = None, bootstrap: int = 1000, seed: int = 0,
               include_gold: bool = False) -> dict:
    """Load labels from the database and build the agreement report (the CLI's and the app's entry point).

    Raises ValueError (one line) when the selection holds no labels.
    """
    from annotator import store

    if level not in ("segment", "trace"):
        raise ValueError(f"--level must be 'segment' or 'trace', not {level!r}")
    stored = store.get_taxonomy(db, taxonomy)
    label_set = store.load_label_set(db, stored, raters=raters, tags=tags, include_gold=include_gold)
    if not label_set.units:
        raise NoLabelsError(f"no labels under {stored.taxonomy.ref} for this selection (raters={raters}, tags={tags})")
    filters = {"raters": list(label_set.raters), "tags": dict(tags or {}), "taxonomy": stored.taxonomy.ref}
    credit = MAST_ATTRIBUTION if store.traces_formats(db) & {"mad-human", "mad"} else None
    report = build_report(label_set, bootstrap=bootstrap, seed=seed, level=level,
                          taxonomy=(stored.taxonomy.name, stored.taxonomy.version), filters=filters,
                          attribution=credit)
    sampled = _judge_self_agreement(db, stored, label_set)
    if sampled:
        report["judge_self_agreement"] = sampled
    return report


def _judge_self_agreement(db, stored, label_set: LabelSet) -> dict:
    """For judges asked several times per segment (`--samples K`), their agreement with themselves."""
    from annotator import store
    from annotator.judge.selfagree import self_agreement

    out = {}
    for name, kind in zip(label_set.raters, label_set.rater_kinds):
        rater = store.get_rater(db, name) if kind == "judge" else None
        if rater is None:
            continue
        samples = store.judge_sample_labels(db, rater.id, stored.id)
        if any(len(per_sample) > 1 for per_sample in samples.values()):
            out[name] = self_agreement(samples, stored.taxonomy.codes)
    return out
