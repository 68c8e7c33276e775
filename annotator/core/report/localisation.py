"""The report's localisation section as tables of plain text, rendered by markdown.py and html.py.

Cells are unescaped text. The first ``text_columns`` cells of a row come from data (rater names, modes):
each renderer escapes them its own way; the rest are figures formatted here.
"""

from __future__ import annotations

from annotator.core.report.fmt import NA, fmt_count, fmt_number, fmt_with_ci
from annotator.core.report.model import Estimate, Localisation

Table = tuple[str, str, list[str], list[list[str]], int]  # (title, note, header, rows, text_columns)


def _est(e: Estimate) -> str:
    return fmt_with_ci(e["value"], e["ci_low"], e["ci_high"])


def _offsets(offsets: dict[str, int]) -> str:
    return ", ".join(f"{int(d):+d}: {n}" if int(d) else f"0: {n}" for d, n in offsets.items()) or NA


def localisation_tables(section: Localisation) -> list[Table]:
    """Pairs, against references, step offsets and per-mode rows; empty tables are left out."""
    k = section["k"]
    pairs = section["pairs"]
    tables: list[Table] = [
        ("Localisation: rater pairs",
         "Over traces both raters localised (n); 95% intervals from resampling traces. Error agreement: both "
         "found a decisive error, or both said there is none.",
         ["a", "b", "traces", "n", "error agreement", "agent accuracy", "agent kappa", "step exact",
          "step ±1", f"step ±{k}", "failure-set overlap (traces)"],
         [[p["a"], p["b"], fmt_count(p["traces"]), fmt_count(p["n"]), fmt_number(p["error_agreement"]),
           _est(p["agent_accuracy"]), _est(p["agent_kappa"]), _est(p["step_exact"]), _est(p["step_within_1"]),
           _est(p["step_within_k"]), f"{_est(p['failure_set_overlap'])} ({p['multi_failure_traces']})"]
          for p in pairs], 2),
        ("Localisation against a reference (Who&When's accuracies)",
         "Agent-level accuracy: share of the reference's localised traces whose responsible agent the rater "
         "names; step-level accuracy: whose decisive step it names exactly. Unanswered traces and "
         "\"no decisive error\" count as misses.",
         ["reference", "rater", "n", "missing", "said no error", "agent-level accuracy", "step-level accuracy"],
         [[r["reference"], r["rater"], fmt_count(r["n"]), fmt_count(r["missing"]), fmt_count(r["said_no_error"]),
           _est(r["agent_accuracy"]), _est(r["step_accuracy"])] for r in section["against_reference"]], 2),
        ("Localisation: step offsets", "b's step minus a's, over traces both localised: turns -> traces.",
         ["a", "b", "offsets"], [[p["a"], p["b"], _offsets(p["offsets"])] for p in pairs if p["n"]], 2),
        ("Localisation per mode", "Traces both localised where either root cause names the mode.",
         ["a", "b", "mode", "n", "same mode", "agent accuracy", "step exact"],
         [[p["a"], p["b"], m["mode"], fmt_count(m["n"]), fmt_number(m["same_mode"]),
           fmt_number(m["agent_accuracy"]), fmt_number(m["step_exact"])] for p in pairs for m in p["by_mode"]], 3),
    ]
    return [t for t in tables if t[3]]
