"""People and judges, as rows people read: shared by the Markdown and HTML reports and the app.

A mode's headline is its agreement among people; each judge is shown beside it as a candidate
replacement for an annotator: its kappa against the people, the difference from the people's own
kappa (a paired interval), and the verdict of the alternative annotator test.
"""

from __future__ import annotations

from annotator.core.report.fmt import NA, fmt_number, fmt_percent, fmt_with_ci, is_undefined
from annotator.core.report.model import JudgeFigure, Mode, Report

JUDGE_HEADER = ["mode", "judge", "people's kappa [95% CI]", "judge vs people [95% CI]", "judge minus people [95% CI]",
                "alt-test winning rate", "advantage probability", "can replace an annotator?"]


def people_figure(mode: Mode) -> str:
    """"0.63 [0.51, 0.74] over 3 pairs": the mode's mean pairwise kappa among people."""
    people = mode["people"]
    return f"{fmt_with_ci(people['mean_kappa'], people['ci_low'], people['ci_high'])} over {people['pairs']} pairs"


def fmt_signed_with_ci(value: float | None, low: float | None, high: float | None) -> str:
    """A difference with its sign and interval: "+0.12 [+0.02, +0.21]"; "n/a" when undefined."""
    if is_undefined(value):
        return NA
    text = f"{value:+.2f}"
    if is_undefined(low) or is_undefined(high):
        return text
    return f"{text} [{low:+.2f}, {high:+.2f}]"


def verdict(judge: JudgeFigure) -> str:
    """The alt-test's answer in words: "yes", "no", or "n/a (why)"."""
    passed = judge["alt_test"]["passed"]
    if passed is None:
        return f"{NA} ({judge['alt_test_reason'] or 'not run'})"
    return "yes" if passed else "no"


def judge_cells(mode: Mode, judge: JudgeFigure) -> list[str]:
    """One row of :data:`JUDGE_HEADER` (mode and judge names unescaped: the renderer escapes them)."""
    test = judge["alt_test"]
    return [
        f"{mode['code']} {mode['name']}", judge["rater"],
        fmt_with_ci(mode["people"]["mean_kappa"], mode["people"]["ci_low"], mode["people"]["ci_high"]),
        fmt_with_ci(judge["mean_kappa_vs_people"], judge["ci_low"], judge["ci_high"]),
        fmt_signed_with_ci(judge["minus_people"], judge["minus_people_ci_low"], judge["minus_people_ci_high"]),
        fmt_percent(test["winning_rate"]), fmt_number(test["advantage_probability"]), verdict(judge),
    ]


def judge_rows(report: Report) -> list[list[str]]:
    """Every (mode, judge) row, in mode then rater order."""
    return [judge_cells(mode, judge) for mode in report["modes"] for judge in mode["judges"]]


def replaceable_modes(report: Report) -> dict[str, list[str]]:
    """Per judge: the codes of the modes where it passes the alt-test (it can replace an annotator there)."""
    out: dict[str, list[str]] = {}
    for mode in report["modes"]:
        for judge in mode["judges"]:
            codes = out.setdefault(judge["rater"], [])
            if judge["alt_test"]["passed"]:
                codes.append(mode["code"])
    return out


def judges_note(report: Report) -> str:
    """What the judge table means, with the alt-test's parameters."""
    params = report["params"]
    return (f"Judges are not annotators: every headline figure is among people only. Each judge's kappa is its "
            f"mean kappa against each person; the difference from the people's own mean kappa has a paired "
            f"interval (both from the same resampled units). The alternative annotator test (Calderon, Reichart and "
            f"Dror 2025) leaves one annotator out at a time and asks whether the judge agrees with the others at "
            f"least as well, with margin epsilon {fmt_number(params['alt_test_epsilon'])} and Benjamini-Yekutieli "
            f"correction at q {fmt_number(params['alt_test_q'])}; the judge can replace an annotator on a mode when "
            f"it wins against at least half of them. It needs three or more people with 30 or more units each.")
