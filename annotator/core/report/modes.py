"""Views over agreement reports that point at ambiguous definitions. Pure: reports in, rows out.

The rows are what `annotator taxonomy ambiguous --json` and `taxonomy compare --json` print.
"""

from __future__ import annotations

from typing import TypedDict

from annotator.core.report.model import CoConfusion, Flag, Report


class Partner(TypedDict):
    """A mode confused with the one of the row (co-confusion, either way round)."""

    mode: str
    count: int
    rate: float
    examples: list[str]


class AmbiguousMode(TypedDict):
    code: str
    name: str
    category: str
    human_kappa: float | None
    flags: list[Flag]
    confused_with: list[Partner]
    contested_examples: list[str]


# "from" is a Python keyword, hence the functional form.
VersionChange = TypedDict("VersionChange", {
    "code": str, "name": str, "change": str, "from": list[str],
    "kappa_before": list[float | None], "kappa_after": float | None,
})


def ambiguous_modes(report: Report, *, examples: int = 3) -> list[AmbiguousMode]:
    """Modes ranked from least to most human-human agreement, each with the modes it is confused with
    (co-confusion pairs, most frequent first) and example segments where raters disagreed on it.

    Modes whose human kappa is undefined come last (nothing to rank them by).
    """
    kappa = {row["code"]: row["mean_human_kappa"] for row in report["summary"]["modes_by_human_kappa"]}
    contested: dict[str, list[str]] = {}
    for unit in report["contested"]:
        for code in unit["disputed_modes"]:
            contested.setdefault(code, []).append(unit["unit"])
    rows: list[AmbiguousMode] = []
    for mode in report["modes"]:
        partners: list[tuple[str, CoConfusion]] = [
            (c["b_mode"] if c["a_mode"] == mode["code"] else c["a_mode"], c)
            for c in report["co_confusion"] if mode["code"] in (c["a_mode"], c["b_mode"])]
        partners.sort(key=lambda p: (-p[1]["count"], p[0]))
        rows.append({
            "code": mode["code"], "name": mode["name"], "category": mode["category"],
            "human_kappa": kappa.get(mode["code"], mode["mean_human_kappa"]),
            "flags": mode["flags"],
            "confused_with": [{"mode": other, "count": c["count"], "rate": c["rate"],
                               "examples": c["examples"][:examples]} for other, c in partners],
            "contested_examples": contested.get(mode["code"], [])[:examples],
        })
    rows.sort(key=lambda r: (r["human_kappa"] is None, r["human_kappa"] if r["human_kappa"] is not None else 0,
                             r["code"]))
    return rows


def compare_versions(before: Report, after: Report,
                     mapping: list[tuple[str, str | None, str]]) -> list[VersionChange]:
    """Per mode of the newer version: where it came from and its mean pairwise kappa before and after.

    `mapping` rows are (old code, new code or None, kind), as stored for a refinement.
    """
    old_kappa = {m["code"]: m["mean_pairwise_kappa"] for m in before["modes"]}
    sources: dict[str, list[tuple[str, str]]] = {}
    for old, new, kind in mapping:
        if new is not None:
            sources.setdefault(new, []).append((old, kind))
    rows: list[VersionChange] = []
    for mode in after["modes"]:
        olds = sources.get(mode["code"], [])
        rows.append({
            "code": mode["code"], "name": mode["name"],
            "change": olds[0][1] if olds else "add",
            "from": [o for o, _ in olds],
            "kappa_before": [old_kappa.get(o) for o, _ in olds],
            "kappa_after": mode["mean_pairwise_kappa"],
        })
    retired = [old for old, new, _ in mapping if new is None]
    rows += [{"code": old, "name": "", "change": "retire", "from": [old], "kappa_before": [old_kappa.get(old)],
              "kappa_after": None} for old in retired]
    return rows
