"""The agreement report as CSV: one row per mode x rater pair."""

from __future__ import annotations

import csv
import io
from typing import Literal, get_args

from annotator.core.csvsafe import csv_cell, csv_text
from annotator.core.report.fmt import taxonomy_ref
from annotator.core.report.model import Report

# The columns after level and taxonomy, in order: the mode's fields (headed mode_*), then the pair's.
ModeKey = Literal["code", "name", "category", "mean_pairwise_kappa", "fleiss_kappa", "krippendorff_alpha",
                  "positive_labels", "flags"]
PairKey = Literal["a", "b", "n", "both", "a_only", "b_only", "neither", "observed_agreement", "kappa", "ci_low",
                  "ci_high", "ci_method", "se", "positive_agreement", "negative_agreement", "ac1", "pabak",
                  "prevalence_a", "prevalence_b", "bias_index", "prevalence_index", "kappa_max",
                  "mcnemar_statistic", "mcnemar_p", "mcnemar_method", "undefined_resamples", "flags"]
MODE_COLUMNS: tuple[ModeKey, ...] = get_args(ModeKey)
PAIR_COLUMNS: tuple[PairKey, ...] = get_args(PairKey)


def render_csv(report: Report) -> str:
    """A tidy table: one row per (mode, rater pair), mode-level values repeated on each row.

    Columns: level, taxonomy, mode_* (code, name, category, mean_pairwise_kappa, fleiss_kappa,
    krippendorff_alpha, positive_labels, flags), then the pair fields. Empty cell = undefined; flags are joined
    with ";". Numbers keep full precision: cells are raw values (:func:`csv_cell`), never the rounded
    texts of :mod:`annotator.core.report.fmt`. A report that does not list its pairs
    (``params.pairs_omitted``) gives one row per mode, its pair cells empty.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["level", "taxonomy", *(f"mode_{c}" for c in MODE_COLUMNS), *PAIR_COLUMNS])
    taxonomy = taxonomy_ref(report)
    omitted = bool(report["params"].get("pairs_omitted"))
    for mode in report["modes"]:
        mode_cells = [csv_cell(mode[c]) for c in MODE_COLUMNS]
        if omitted:
            writer.writerow([report["level"], csv_text(taxonomy), *mode_cells, *("" for _ in PAIR_COLUMNS)])
        for pair in mode["pairs"]:
            pair_cells = (csv_cell(pair[c]) for c in PAIR_COLUMNS)
            writer.writerow([report["level"], csv_text(taxonomy), *mode_cells, *pair_cells])
    return out.getvalue()
