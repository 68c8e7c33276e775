"""The report's summary (averages over modes, the rater-pair matrix, the ranking of ambiguous modes) and its
classification scores: figures derived from the finished mode and pooled entries (split from compute.py)."""

from __future__ import annotations

import numpy as np

from annotator.core.report.model import Classification, Mode, Pooled, Summary, SummaryPair

from .classification import judge_scores
from .labels import LabelSet


def average(values: list[float | None]) -> tuple[float | None, int]:
    """The mean of the defined values (None when there is none) and how many there are."""
    defined = [v for v in values if v is not None]
    return (float(np.mean(defined)) if defined else None), len(defined)


def summary(data: LabelSet, modes: list[Mode], pooled: Pooled, names: list[tuple[str, str]]) -> Summary:
    """Averages over modes (each with the number of modes it covers), the rater-pair matrix, and
    modes ranked by human-human kappa (lowest first: the most ambiguous)."""
    kappa, kappa_modes = average([m["mean_pairwise_kappa"] for m in modes])
    fleiss, fleiss_modes = average([m["fleiss_kappa"] for m in modes])
    alpha, alpha_modes = average([m["krippendorff_alpha"] for m in modes])
    human, human_modes = average([m["mean_human_kappa"] for m in modes])
    ranked = sorted(((m["code"], m["mean_human_kappa"]) for m in modes if m["mean_human_kappa"] is not None),
                    key=lambda item: item[1])
    return {
        "units": data.shape[0], "raters": data.shape[1], "modes_total": data.shape[2],
        "mean_kappa": kappa, "mean_kappa_modes_covered": kappa_modes,
        "mean_fleiss_kappa": fleiss, "mean_fleiss_kappa_modes_covered": fleiss_modes,
        "mean_krippendorff_alpha": alpha, "mean_krippendorff_alpha_modes_covered": alpha_modes,
        "mean_human_kappa": human, "mean_human_kappa_modes_covered": human_modes,
        "pooled_mean_pairwise_kappa": pooled["mean_pairwise_kappa"],
        "pairs": [_summary_pair(a, b, [mode["pairs"][p]["kappa"] for mode in modes], pooled["pairs"][p]["kappa"])
                  for p, (a, b) in enumerate(names)],
        "modes_by_human_kappa": [{"code": code, "mean_human_kappa": value} for code, value in ranked],
    }


def _summary_pair(a: str, b: str, kappas: list[float | None], pooled_kappa: float | None) -> SummaryPair:
    mean, covered = average(kappas)
    return {"a": a, "b": b, "mean_kappa": mean, "modes_covered": covered, "pooled_kappa": pooled_kappa}


def classification(data: LabelSet) -> list[Classification]:
    """Each judge scored against each gold rater and each human (the reference side)."""
    judges = [name for name, kind in zip(data.raters, data.rater_kinds) if kind == "judge"]
    references = [name for kind_wanted in ("gold", "human")
                  for name, kind in zip(data.raters, data.rater_kinds) if kind == kind_wanted]
    return [judge_scores(data, reference=ref, predicted=judge) for judge in judges for ref in references]

