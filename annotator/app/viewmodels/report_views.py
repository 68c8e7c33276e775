"""Tables and Altair charts of an agreement report (the "report JSON" contract). No Streamlit here.

Undefined values stay None in the tables (shown as "n/a") and are left out of the charts, never
drawn as zero. Every figure shown as text is formatted by `annotator.core.report.fmt`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from annotator.core.report.fmt import DIGITS, fmt_flags, fmt_mcnemar, fmt_number, fmt_with_ci
from annotator.core.report.html import FLAG_HELP
from annotator.core.report.judges import JUDGE_HEADER, judge_rows, replaceable_modes
from annotator.core.report.model import Mode, Report

KAPPA_DOMAIN = [-1.0, 1.0]
NUMBER = f".{DIGITS}f"  # the d3 format of a figure in a chart tooltip: as fmt_number writes it


def _mode_label(mode: Mode) -> str:
    return f"{mode['code']} {mode.get('name') or ''}".strip()


# Bias and prevalence of each pair (annotator.core.agreement.bias): read beside kappa.
BIAS_COLUMNS = ["prevalence_a", "prevalence_b", "bias_index", "prevalence_index", "kappa_max", "McNemar p"]


def kappa_rows(report: Report) -> pd.DataFrame:
    """One row per (mode, rater pair): kappa with its 95% interval, n, agreement, flags."""
    rows = []
    for order, mode in enumerate(report.get("modes", [])):
        for pair in mode.get("pairs", []):
            rows.append({
                "order": order, "mode": _mode_label(mode), "category": mode.get("category"),
                "pair": f"{pair['a']} vs {pair['b']}", "kappa": pair.get("kappa"),
                "ci_low": pair.get("ci_low"), "ci_high": pair.get("ci_high"), "n": pair.get("n"),
                "both": pair.get("both"), "a_only": pair.get("a_only"), "b_only": pair.get("b_only"),
                "observed_agreement": pair.get("observed_agreement"),
                "positive_agreement": pair.get("positive_agreement"), "ac1": pair.get("ac1"),
                "pabak": pair.get("pabak"), "prevalence_a": pair.get("prevalence_a"),
                "prevalence_b": pair.get("prevalence_b"), "bias_index": pair.get("bias_index"),
                "prevalence_index": pair.get("prevalence_index"), "kappa_max": pair.get("kappa_max"),
                "McNemar p": fmt_mcnemar(pair.get("mcnemar_p"), pair.get("mcnemar_method")),
                "flags": fmt_flags(pair.get("flags")), "kappa_text": fmt_number(pair.get("kappa")),
            })
    columns = ["order", "mode", "category", "pair", "kappa", "ci_low", "ci_high", "n", "both", "a_only", "b_only",
               "observed_agreement", "positive_agreement", "ac1", "pabak", *BIAS_COLUMNS, "flags", "kappa_text"]
    return pd.DataFrame(rows, columns=columns)


def mode_summary(report: Report) -> pd.DataFrame:
    """One row per mode: the multi-rater figures among people (with their intervals) and the mode's flags."""
    rows = [{
        "mode": _mode_label(mode), "category": mode.get("category"),
        "people: mean pairwise kappa": fmt_with_ci(mode.get("mean_pairwise_kappa"),
                                                   mode.get("mean_pairwise_kappa_ci_low"),
                                                   mode.get("mean_pairwise_kappa_ci_high")),
        "pairs of people": mode.get("mean_pairwise_kappa_pairs"),
        "Fleiss kappa": fmt_with_ci(mode.get("fleiss_kappa"), mode.get("fleiss_kappa_ci_low"),
                                    mode.get("fleiss_kappa_ci_high")),
        "Krippendorff alpha": fmt_with_ci(mode.get("krippendorff_alpha"), mode.get("krippendorff_alpha_ci_low"),
                                          mode.get("krippendorff_alpha_ci_high")),
        "positive labels": mode.get("positive_labels"),
        "flags": list(mode.get("flags") or ()),  # a list: the page shows every flag as a chip (ListColumn)
    } for mode in report.get("modes", [])]
    return pd.DataFrame(rows, columns=["mode", "people: mean pairwise kappa", "flags", "pairs of people",  # in view
                                       "Fleiss kappa", "Krippendorff alpha", "positive labels", "category"])


PEOPLE = "people (mean pairwise kappa)"


def people_rows(report: Report) -> pd.DataFrame:
    """Per mode: the people's mean kappa and each judge's mean kappa against the people, with intervals.

    The columns are those of :func:`kappa_rows` ("pair" names who: the people, or a judge), so
    :func:`kappa_chart` draws them.
    """
    rows = []
    for order, mode in enumerate(report.get("modes", [])):
        people = mode["people"]
        entries = [(PEOPLE, people["mean_kappa"], people["ci_low"], people["ci_high"], people["pairs"], "")]
        entries += [(f"{judge['rater']} vs people", judge["mean_kappa_vs_people"], judge["ci_low"], judge["ci_high"],
                     None, "") for judge in mode["judges"]]
        rows += [{"order": order, "mode": _mode_label(mode), "category": mode.get("category"), "pair": who,
                  "kappa": value, "ci_low": low, "ci_high": high, "n": n, "observed_agreement": None, "flags": flags,
                  "kappa_text": fmt_number(value)} for who, value, low, high, n, flags in entries]
    columns = ["order", "mode", "category", "pair", "kappa", "ci_low", "ci_high", "n", "observed_agreement", "flags",
               "kappa_text"]
    return pd.DataFrame(rows, columns=columns)


JUDGE_FIRST = ["mode", "people's kappa [95% CI]", "judge", "judge vs people [95% CI]", "judge minus people [95% CI]",
               "can replace an annotator?"]


def judge_table(report: Report) -> pd.DataFrame:
    """One row per (mode, judge), read left to right: the people's own kappa, the judge's kappa against the
    people beside it, the difference, and the alt-test's verdict (the question the page answers)."""
    table = pd.DataFrame(judge_rows(report), columns=JUDGE_HEADER)
    return table[JUDGE_FIRST + [c for c in JUDGE_HEADER if c not in JUDGE_FIRST]]


def flags_help() -> str:
    """What each flag means, for a column's hover help."""
    return "\n".join(f"- **{flag}**: {meaning}" for flag, meaning in FLAG_HELP.items())


def people_pairs(report: Report) -> list[str]:
    """The pairs ("a vs b", as in :func:`kappa_rows`) whose two raters are people: the pair chart's default."""
    people = {r["name"] for r in report.get("raters", []) if r.get("kind") == "human"}
    pairs = (pair for mode in report.get("modes", []) for pair in mode.get("pairs", []))
    return list(dict.fromkeys(f"{p['a']} vs {p['b']}" for p in pairs if p["a"] in people and p["b"] in people))


def replaceable(report: Report) -> list[tuple[str, list[str]]]:
    """(judge, codes of the modes where the alt-test says it can replace an annotator), in rater order."""
    return list(replaceable_modes(report).items())


def pair_matrix(report: Report) -> pd.DataFrame:
    """Pooled kappa for every rater pair, both ways round (a symmetric matrix for a heatmap)."""
    rows = []
    for pair in (report.get("pooled") or {}).get("pairs", []):
        for a, b in ((pair["a"], pair["b"]), (pair["b"], pair["a"])):
            rows.append({"rater": a, "other": b, "kappa": pair.get("kappa"), "n": pair.get("n"),
                         "kappa_text": fmt_number(pair.get("kappa"))})
    return pd.DataFrame(rows, columns=["rater", "other", "kappa", "n", "kappa_text"])


def co_confusion(report: Report) -> pd.DataFrame:
    rows = [{"a_mode": c["a_mode"], "b_mode": c["b_mode"], "count": c.get("count"), "rate": c.get("rate"),
             "examples": ", ".join(str(x) for x in (c.get("examples") or [])[:10])}
            for c in report.get("co_confusion", [])]
    return pd.DataFrame(rows, columns=["a_mode", "b_mode", "count", "rate", "examples"])


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """A copy for display: figures to two decimals, undefined ones as "n/a" (never a blank or 0)."""
    out = table.copy()
    for column in out.columns:
        if out[column].dtype.kind == "f" or (out[column].dtype == object and
                                             out[column].map(lambda v: v is None or isinstance(v, float)).all()):
            out[column] = out[column].map(fmt_number)  # NaN (pandas' None) reads n/a too
    return out


def kappa_chart(rows: pd.DataFrame, *, color_title: str = "rater pair") -> alt.Chart:
    """Kappa per mode and pair, with its 95% interval; flagged pairs drawn as triangles.

    `color_title` names what the colours stand for (rater pairs, or judges in the judge lab).
    """
    data = rows.dropna(subset=["kappa"]).assign(flagged=lambda d: d["flags"].ne(""))
    modes = list(dict.fromkeys(rows.sort_values("order")["mode"]))
    y = alt.Y("mode:N", sort=modes, title=None, axis=alt.Axis(labelLimit=260))
    x_scale = alt.Scale(domain=KAPPA_DOMAIN, padding=10, nice=False)  # room for the marks at -1 and 1
    tooltip = ["mode", "pair", alt.Tooltip("kappa:Q", format=NUMBER), alt.Tooltip("ci_low:Q", format=NUMBER),
               alt.Tooltip("ci_high:Q", format=NUMBER), "n", alt.Tooltip("observed_agreement:Q", format=NUMBER),
               "flags"]
    legend = alt.Legend(orient="bottom", direction="vertical", labelLimit=0)  # one entry a line: never cut off
    base = alt.Chart(data).encode(y=y, yOffset=alt.YOffset("pair:N"),
                                  color=alt.Color("pair:N", title=color_title, legend=legend))
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low:Q", scale=x_scale, title="Cohen's kappa (95% CI)"),
                                                x2="ci_high:Q", tooltip=tooltip)
    points = base.mark_point(size=70, filled=True).encode(
        x=alt.X("kappa:Q", scale=x_scale), tooltip=tooltip,
        shape=alt.Shape("flagged:N", title="flagged", legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=[False, True], range=["circle", "triangle-down"])))
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#999", strokeDash=[3, 3]).encode(x="x:Q")
    height = max(240, 26 * len(modes) * max(1, data["pair"].nunique() if len(data) else 1) ** 0.5)
    return (zero + bars + points).properties(height=height)


def matrix_chart(matrix: pd.DataFrame) -> alt.Chart:
    """Rater x rater heatmap of pooled kappa."""
    base = alt.Chart(matrix).encode(x=alt.X("other:N", title=None), y=alt.Y("rater:N", title=None))
    cells = base.mark_rect().encode(
        color=alt.Color("kappa:Q", scale=alt.Scale(domain=KAPPA_DOMAIN, scheme="redblue"), title="kappa"),
        tooltip=["rater", "other", alt.Tooltip("kappa:Q", format=NUMBER), "n"])
    labels = base.mark_text(fontSize=12).encode(text="kappa_text:N")
    return (cells + labels).properties(height=max(160, 48 * matrix["rater"].nunique()))


def co_confusion_chart(pairs: pd.DataFrame) -> alt.Chart:
    """Mode x mode heatmap: how often one rater marks A (not B) where the other marks B (not A)."""
    base = alt.Chart(pairs).encode(x=alt.X("b_mode:N", title="the other rater marks"),
                                   y=alt.Y("a_mode:N", title="one rater marks"))
    cells = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="oranges"), title="count"),
                                    tooltip=["a_mode", "b_mode", "count", alt.Tooltip("rate:Q", format=NUMBER),
                                             "examples"])
    labels = base.mark_text(fontSize=11).encode(text="count:Q")
    return (cells + labels).properties(height=max(200, 30 * pairs["a_mode"].nunique()))
