"""The agreement report as ONE self-contained HTML file: inline CSS and SVG, no script, nothing remote.

A Content-Security-Policy meta tag forbids scripts and remote loads as a second line of defence;
the first is that every text from data is HTML-escaped.
"""

from __future__ import annotations

from annotator.core.report.fmt import (
    BIAS_HEADER,
    NA,
    SELF_AGREEMENT_HEADER,
    TRACE_COVERAGE_HEADER,
    TRACE_COVERAGE_NOTE,
    bias_cells,
    fmt_count,
    fmt_flags,
    fmt_mean_kappa,
    fmt_number,
    fmt_with_ci,
    pairs_note,
    parameter_rows,
    self_agreement_rows,
    summary_sentence,
    taxonomy_ref,
    trace_coverage_rows,
)
from annotator.core.report.judges import JUDGE_HEADER, judge_rows, judges_note
from annotator.core.report.localisation import localisation_tables
from annotator.core.report.model import Flag, Localisation, Pair, PooledPair, Report, Scores
from annotator.core.report.svg import HeatCell, KappaRow, band, esc, heatmap, kappa_chart, legend, sequential

CSS = """
body{font:14px/1.45 system-ui,sans-serif;color:#111;max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f5f5f5}td.t,th.t{text-align:left}
.na{color:#777;font-style:italic}.flag{color:#a35400}
figure{margin:1em 0}figcaption{font-size:13px;color:#444;max-width:880px}
details{margin:.3em 0}summary{cursor:pointer}
.note{font-size:13px;color:#444}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
FLAG_HELP: dict[Flag, str] = {
    "undefined": "kappa is undefined (no shared unit, or both raters gave every unit the same value); "
                 "shown as n/a and left out of averages",
    "constant_rater": "a rater gave the same value to every unit",
    "low_positive_count": "fewer than 10 positive labels from the pair (2*both + a_only + b_only), "
                          "or from all raters for a mode",
    "kappa_paradox": "observed agreement >= 0.9 but kappa < 0.4: read AC1, PABAK and specific agreement too",
    "few_units": "fewer than 30 units shared by the pair: "
                 "a percentile bootstrap interval from so few units is too narrow",
    "uninformative": "the pair's 95% interval is wider than 0.5: the data cannot place kappa "
                     "(e.g. cannot tell fair from substantial agreement)",
}


def _figure_cell(text: str) -> str:
    """A figure formatted by fmt; "n/a" is set apart (greyed) so undefined never reads as a number."""
    return f'<td class="na">{NA}</td>' if text == NA else f"<td>{text}</td>"


def _num_cell(value: float | None, digits: int = 2) -> str:
    return _figure_cell(fmt_number(value, digits))


def _count_cell(value: int | None) -> str:
    return f"<td>{fmt_count(value)}</td>"


def _text_cell(text: object) -> str:
    return f'<td class="t">{esc(text)}</td>'


def _flags_cell(flags: list[Flag]) -> str:
    return f'<td class="t flag">{esc(fmt_flags(flags))}</td>'


def _table(header: list[str], rows: list[str], *, left: int = 0) -> str:
    head = "".join(f'<th{" class=t" if i < left else ""}>{esc(h)}</th>' for i, h in enumerate(header))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _pair_table(pairs: list[Pair] | list[PooledPair]) -> str:
    header = ["a", "b", "n", "both", "a only", "b only", "neither", "p_o", "kappa [95% CI]", "SE",
              "pos. agr.", "neg. agr.", "AC1", "PABAK", *BIAS_HEADER, "undefined resamples", "flags"]
    rows = []
    for p in pairs:
        rows.append(
            "<tr>" + _text_cell(p["a"]) + _text_cell(p["b"])
            + "".join(_count_cell(n) for n in (p["n"], p["both"], p["a_only"], p["b_only"], p["neither"]))
            + _num_cell(p["observed_agreement"])
            + _figure_cell(fmt_with_ci(p["kappa"], p["ci_low"], p["ci_high"]))
            + "".join(_num_cell(x) for x in (p["se"], p["positive_agreement"], p["negative_agreement"], p["ac1"],
                                             p["pabak"]))
            + "".join(f"<td>{esc(cell)}</td>" for cell in bias_cells(p))
            + _count_cell(p["undefined_resamples"]) + _flags_cell(p["flags"]) + "</tr>")
    return _table(header, rows, left=2)


def _mode_chart(report: Report) -> str:
    rows: list[KappaRow] = [{
        "label": f"{m['code']} {m['name']}",
        "tooltip": f"{m['code']} {m['name']} ({m['category']}): " + fmt_mean_kappa(m),
        "value": m["mean_pairwise_kappa"],
        "low": m["mean_pairwise_kappa_ci_low"],
        "high": m["mean_pairwise_kappa_ci_high"],
        "flags": list(m["flags"]),
    } for m in report["modes"]]
    return kappa_chart(rows, title="Cohen's kappa among people per failure mode with 95% bootstrap CI")


def _judges(report: Report) -> str:
    """Per mode, the people's kappa and each judge's kappa against the people; then the table with the verdict."""
    rows: list[KappaRow] = []
    for m in report["modes"]:
        if not m["judges"]:
            continue
        people = m["people"]
        rows.append({"label": f"{m['code']} people", "tooltip": f"{m['code']} {m['name']}: people "
                     + fmt_with_ci(people["mean_kappa"], people["ci_low"], people["ci_high"]),
                     "value": people["mean_kappa"], "low": people["ci_low"], "high": people["ci_high"], "flags": []})
        rows += [{"label": f"{m['code']} {j['rater']} vs people",
                  "tooltip": f"{m['code']} {m['name']}: {j['rater']} vs people "
                             + fmt_with_ci(j["mean_kappa_vs_people"], j["ci_low"], j["ci_high"]),
                  "value": j["mean_kappa_vs_people"], "low": j["ci_low"], "high": j["ci_high"], "flags": []}
                 for j in m["judges"]]
    if not rows:
        return ""
    table = _table(JUDGE_HEADER, ["<tr>" + _text_cell(row[0]) + _text_cell(row[1])
                                  + "".join(_figure_cell(esc(cell)) for cell in row[2:7]) + _text_cell(row[7])
                                  + "</tr>" for row in judge_rows(report)], left=2)
    return ("<h2>Judges against the people</h2><figure>"
            + kappa_chart(rows, title="People's mean kappa and each judge's mean kappa against the people")
            + f"<figcaption>{esc(judges_note(report))}</figcaption></figure>" + table)


def _pair_matrix(report: Report) -> str:
    names = [r["name"] for r in report["raters"]]
    lookup = {}
    for pair in report["summary"]["pairs"]:
        lookup[(pair["a"], pair["b"])] = lookup[(pair["b"], pair["a"])] = pair
    cells = []
    for a in names:
        row: list[HeatCell | None] = []
        for b in names:
            p = lookup.get((a, b))
            if p is None:
                row.append(None)
                continue
            value = p["mean_kappa"]
            row.append({"fill": band(value)[1], "text": fmt_number(value),
                        "tooltip": f"{a} vs {b}: mean kappa {fmt_number(value)} over {p['modes_covered']} modes; "
                                   f"pooled kappa {fmt_number(p['pooled_kappa'])}"})
        cells.append(row)
    return heatmap(names, names, cells, title="Mean kappa per rater pair (over modes where defined)", cell=56)


def _co_confusion_map(report: Report) -> str:
    codes = [m["code"] for m in report["modes"]]
    names = {m["code"]: m["name"] for m in report["modes"]}
    found = {(c["a_mode"], c["b_mode"]): c for c in report["co_confusion"]}
    found.update({(b, a): c for (a, b), c in list(found.items())})
    top = max((c["rate"] for c in report["co_confusion"]), default=0.0) or 1.0
    cells = []
    for a in codes:
        row: list[HeatCell | None] = []
        for b in codes:
            c = found.get((a, b))
            if a == b:
                row.append(None)
            elif c is None:
                row.append({"fill": "#ffffff", "text": "", "tooltip": f"{a} {names[a]} / {b} {names[b]}: 0"})
            else:
                row.append({"fill": sequential(c["rate"] / top), "text": str(c["count"]),
                            "tooltip": f"{a} {names[a]} / {b} {names[b]}: {c['count']} of {c['comparisons']} "
                                       f"comparisons (rate {fmt_number(c['rate'], 3)}); "
                                       f"e.g. {', '.join(c['examples'])}"})
        cells.append(row)
    return heatmap(codes, codes, cells, title="Co-confusion counts between modes (colour: rate)", cell=34, label_w=60)


def _modes_overview(report: Report) -> str:
    header = ["code", "mode", "category", "people: mean pairwise kappa [95% CI]", "pairs of people",
              "Fleiss' kappa (people) [95% CI]", "Krippendorff's alpha (people) [95% CI]", "positive labels", "flags"]
    rows = []
    for m in report["modes"]:
        rows.append("<tr>" + _text_cell(m["code"]) + _text_cell(m["name"]) + _text_cell(m["category"])
                    + _figure_cell(fmt_mean_kappa(m)) + _count_cell(m["mean_pairwise_kappa_pairs"])
                    + _figure_cell(fmt_with_ci(m["fleiss_kappa"], m["fleiss_kappa_ci_low"], m["fleiss_kappa_ci_high"]))
                    + _figure_cell(fmt_with_ci(m["krippendorff_alpha"], m["krippendorff_alpha_ci_low"],
                                               m["krippendorff_alpha_ci_high"]))
                    + _count_cell(m["positive_labels"])
                    + _flags_cell(m["flags"]) + "</tr>")
    return _table(header, rows, left=3)


def _mode_details(report: Report) -> str:
    parts = []
    for m in report["modes"]:
        reasons = "".join(f"<li>{esc(k)}: {esc(v)}</li>" for k, v in m["undefined_reasons"].items())
        parts.append(f"<details><summary>{esc(m['code'])} {esc(m['name'])} ({esc(m['category'])})</summary>"
                     + (f'<ul class="note">{reasons}</ul>' if reasons else "") + _pair_table(m["pairs"]) + "</details>")
    return "".join(parts)


def _score_row(judge: str, reference: str, code: str, m: Scores) -> str:
    return ("<tr>" + _text_cell(judge) + _text_cell(reference) + _text_cell(code)
            + "".join(_count_cell(n) for n in (m["n"], m["tp"], m["fp"], m["fn"], m["tn"]))
            + "".join(_num_cell(x) for x in (m["precision"], m["recall"], m["f1"], m["accuracy"])) + "</tr>")


def _classification(report: Report) -> str:
    blocks = report["classification"]
    if not blocks:
        return ""
    header = ["judge", "reference", "mode", "n", "TP", "FP", "FN", "TN", "precision", "recall", "F1", "accuracy"]
    rows = [_score_row(b["predicted"], b["reference"], code, scores) for b in blocks
            for code, scores in [*((m["code"], m) for m in b["modes"]), ("all (micro)", b["pooled"])]]
    return "<h2>Judge against reference (positive class)</h2>" + _table(header, rows, left=3)


def _co_confusion_table(report: Report) -> str:
    if not report["co_confusion"]:
        return "<p>No co-confused mode pairs.</p>"
    rows = ["<tr>" + _text_cell(c["a_mode"]) + _text_cell(c["b_mode"]) + _count_cell(c["count"])
            + _count_cell(c["comparisons"]) + _num_cell(c["rate"], 3)
            + _text_cell(", ".join(c["examples"])) + "</tr>" for c in report["co_confusion"]]
    return _table(["mode A", "mode B", "count", "comparisons", "rate", "examples"], rows, left=2)


def _contested(report: Report) -> str:
    contested = report["contested"]
    if not contested:
        return ""
    rows = ["<tr>" + _text_cell(c["unit"]) + _count_cell(c["disputed_count"]) + _count_cell(c["discordant_pairs"])
            + _text_cell(", ".join(c["disputed_modes"])) + "</tr>" for c in contested]
    return "<h2>Contested units (most disputed first)</h2>" + _table(
        ["unit", "disputed modes", "discordant pairs", "modes"], rows, left=1)


def _self_agreement(report: Report) -> str:
    rows = ["<tr>" + "".join(_text_cell(cell) for cell in row) + "</tr>" for row in self_agreement_rows(report)]
    if not rows:
        return ""
    return ("<h2>Judge self-agreement across samples</h2><p class=note>How often the judge agrees with itself "
            "when asked again: disagreement with people larger than this is not the judge's noise.</p>"
            + _table(SELF_AGREEMENT_HEADER, rows, left=2))


def _trace_coverage(report: Report) -> str:
    rows = ["<tr>" + _text_cell(r[0]) + _text_cell(r[1]) + "".join(f"<td>{c}</td>" for c in r[2:]) + "</tr>"
            for r in trace_coverage_rows(report)]
    if not rows:
        return ""
    return (f"<h2>Trace coverage per pair</h2><p class=note>{esc(TRACE_COVERAGE_NOTE)}</p>"
            + _table(TRACE_COVERAGE_HEADER, rows, left=2))


def localisation_html(section: Localisation | None) -> str:
    """The localisation section (turn and agent of the decisive error), when raters localised failures."""
    parts = []
    for title, note, header, rows, text_columns in localisation_tables(section) if section else []:
        cells = ["<tr>" + "".join(_text_cell(c) if i < text_columns else _figure_cell(esc(c))
                                  for i, c in enumerate(row)) + "</tr>" for row in rows]
        parts.append(f"<h2>{esc(title)}</h2><p class=note>{esc(note)}</p>"
                     + _table(header, cells, left=text_columns))
    return "".join(parts)


def _parameters(report: Report) -> str:
    rows = [f'<tr><th class="t">{esc(k)}</th>{_text_cell(v)}</tr>' for k, v in parameter_rows(report)]
    return "<h2>Parameters</h2><table><tbody>" + "".join(rows) + "</tbody></table>"


def render_localisation_html(section: Localisation) -> str:
    """The localisation section alone, as one HTML document that opens offline."""
    title = "Localisation agreement"
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>{title}</title><style>{CSS}</style></head><body><h1>{title}</h1>"
            + localisation_html(section) + "</body></html>\n")


def render_html(report: Report) -> str:
    """The whole report as one HTML document that opens offline."""
    title = f"Agreement report: {taxonomy_ref(report)}, {report['level']} level"
    flags = "".join(f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in FLAG_HELP.items())
    omitted = pairs_note(report)
    sections = [
        f"<h1>{esc(title)}</h1>",
        f"<p>{summary_sentence(report, esc)}</p>",
        "<h2>Kappa among people per failure mode</h2><figure>" + _mode_chart(report) + legend()
        + "<figcaption>Dot: mean of the pairwise Cohen's kappas among people (judges and gold are not people); "
          "bar: 95% percentile bootstrap interval. n/a: undefined, left out of every average.</figcaption></figure>",
        _judges(report),
        "<h2>Rater pairs</h2>" + (f"<p class=note>{esc(omitted)}</p>" if omitted else "<figure>"
                                  + _pair_matrix(report) + "<figcaption>Mean kappa of each rater pair over the "
                                  "modes where it is defined; colours as above.</figcaption></figure>"),
        "<h2>Modes</h2>" + _modes_overview(report) + f'<ul class="note">{flags}</ul>',
        "" if omitted else "<h2>Rater pairs per mode</h2>" + _mode_details(report),
        "<h2>Pooled over all (unit, mode) cells</h2>"
        + (f"<p class=note>{esc(omitted)}</p>" if omitted else _pair_table(report["pooled"]["pairs"])),
        _trace_coverage(report),
        _classification(report),
        _self_agreement(report),
        "<h2>Co-confusion</h2><p class=note>One rater marks A and not B while the other marks B and not A; "
        "rate = count / (unit, rater pair) comparisons where both labelled both modes.</p><figure>"
        + _co_confusion_map(report) + "</figure>" + _co_confusion_table(report),
        _contested(report),
        localisation_html(report.get("localisation")),
        _parameters(report),
    ]
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(s for s in sections if s) + "</body></html>\n")
