"""What the Judge lab page computes from its inputs: run options, and tables of runs and comparisons.
Pure functions, no Streamlit (tested directly).

The page never asks for an API key: litellm reads keys from the server's environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from annotator.core.errors import OptionError
from annotator.core.plaintext import md_literal
from annotator.core.report.fmt import fmt_field_with_ci, fmt_flags, fmt_money, fmt_number, fmt_with_ci
from annotator.judge import JudgeOptions
from annotator.judge.plan import SEGMENT_CHOICES
from annotator.judge.prompt import PROMPTS_DIR, USER_PROMPTS_DIR, shipped_prompts, user_prompts

if TYPE_CHECKING:
    from annotator.services.judgelab import Comparison

ACTIVE = ("planning", "running")
KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "MISTRAL_API_KEY", "GROQ_API_KEY",
                 "TOGETHERAI_API_KEY", "OPENROUTER_API_KEY", "LITELLM_PROXY_API_KEY", "AZURE_API_KEY")


def prompt_files(user_dir: Path = USER_PROMPTS_DIR) -> list[Path]:
    """The prompt templates a run may use: the shipped ones, then the team's own *.md files in prompts/ of
    the server's working directory (`annotator judge prompt-copy` starts one)."""
    return shipped_prompts() + user_prompts(user_dir)


def prompt_label(path: str | Path) -> str:
    """How the page names a prompt: shipped ones by name, the team's own by their path under prompts/."""
    path = Path(path)
    return f"{path.name} (shipped)" if path.parent == PROMPTS_DIR else f"{USER_PROMPTS_DIR.name}/{path.name}"


def keys_present(environ) -> list[str]:
    """Names (never values) of the provider key variables set in the server's environment."""
    return [name for name in KEY_VARIABLES if environ.get(name)]


PER_MILLION = 1_000_000  # the form asks for prices per million tokens, as providers quote them


def run_options(*, model: str, api_base: str, prompt: Path, segments: str, limit: int, concurrency: int,
                samples: int, taxonomy: str, temperature: float | None = None,
                input_price: float | None = None, output_price: float | None = None) -> JudgeOptions:
    """Options for a run from the form; OptionError (a ValueError) with a one-line reason for bad input.

    `temperature` None keeps the prompt's; prices are USD per million tokens (None: litellm's price list)."""
    model = model.strip()
    if not model:
        raise OptionError("give a model, e.g. openai/gpt-4o-mini or hosted_vllm/<served name>")
    if segments not in SEGMENT_CHOICES:
        raise OptionError(f"segments must be one of {', '.join(SEGMENT_CHOICES)}")
    if prompt.resolve() not in {offered.resolve() for offered in prompt_files()}:  # the page offers only those
        raise OptionError(f"choose a prompt from {USER_PROMPTS_DIR.name}/ or a shipped one")
    options = JudgeOptions(model=model, api_base=api_base.strip() or None, prompt_path=prompt, segments=segments,
                           limit=int(limit) or None, concurrency=int(concurrency), samples=int(samples),
                           taxonomy=taxonomy, temperature=temperature,
                           input_cost_per_token=None if input_price is None else input_price / PER_MILLION,
                           output_cost_per_token=None if output_price is None else output_price / PER_MILLION)
    options.check()
    return options


def estimate_lines(estimate) -> list[str]:
    """What a dry run found, for people."""
    lines = [f"{estimate.calls:,} calls to make, {estimate.cached:,} answers cached (of {estimate.total:,}).",
             f"About {estimate.prompt_tokens:,} prompt tokens and {estimate.completion_tokens:,} answer tokens; "
             f"cost {fmt_money(estimate.cost)}" + (": the model is not in litellm's price list."
                                                     if estimate.cost is None else ".")]
    if estimate.truncated:
        lines.append(f"{estimate.truncated:,} segments are longer than the input limit "
                     f"({estimate.input_limit:,} tokens) and will be cut in the middle.")
    return lines


def run_rows(runs: list[dict]) -> list[dict]:
    """The runs table: newest first, one row per run."""
    return [{"run": r["run_id"], "rater": r["rater"], "status": r.get("state", r["status"]),
             "progress": f"{r['finished']:,} / {r['total']:,}", "failed": r["failed"], "cached": r["cached"],
             "segments": r["selection"], "tokens": r["tokens"], "cost": fmt_money(r["cost"]),
             "p50 ms": _round(r["latency_p50_ms"]), "p95 ms": _round(r["latency_p95_ms"]),
             "started": (r["started_at"] or "")[:19].replace("T", " "), "error": r["error"] or ""} for r in runs]


def _round(value: float | None) -> int | None:
    return None if value is None else round(value)


def progress_text(progress: dict) -> str:
    return (f"{progress.get('state', progress['status'])}: {progress['finished']:,} / {progress['total']:,} done, "
            f"{progress['failed']:,} failed, {progress['tokens']:,} tokens, cost {fmt_money(progress['cost'])}")


def answered_fraction(progress: dict) -> float:
    """How much of the bar to fill: calls answered (cached or done), so failed calls leave it short."""
    answered = progress["cached"] + progress["done"]
    return min(1.0, answered / progress["total"]) if progress["total"] else progress["fraction"]


def judges_without_labels(runs: list[dict]) -> set[str]:
    """Judge raters whose runs all ended without one answer (every call failed): nothing to compare.

    A judge with no run here (labels imported from a file) is not among them."""
    answered: dict[str, int] = {}
    for run in runs:
        if run["status"] not in ACTIVE:
            answered[run["rater"]] = answered.get(run["rater"], 0) + run["cached"] + run["done"]
    return {rater for rater, count in answered.items() if count == 0}


def prompt_versions(runs: list[dict]) -> dict[str, str]:
    """Prompt version -> "file @ version" for every version a run used (stored, so it can be diffed)."""
    out: dict[str, str] = {}
    for run in reversed(runs):  # oldest first
        out.setdefault(run["prompt_version"], f"{Path(run['prompt_path']).name} @ {run['prompt_version']}")
    return out


SCORE_LABELS = (("precision", "precision"), ("recall", "recall"), ("f1", "F1"))


def compare_rows(result: Comparison) -> list[dict[str, object]]:
    """Per mode and judge: kappa, its change from the previous judge (paired interval), P, R, F1, each with its
    95% interval, then counts and flags."""
    rows: list[dict[str, object]] = []
    for mode in result["modes"]:
        for judge in mode["judges"]:
            rows.append({"mode": f"{mode['code']} {mode['name']}", "judge": judge["rater"], "n": judge["n"],
                         "kappa [95% CI]": fmt_with_ci(judge["kappa"], judge["ci_low"], judge["ci_high"]),
                         "change [95% CI]": fmt_field_with_ci(judge, "kappa_change") if "kappa_change" in judge
                         else "",
                         **{f"{label} [95% CI]": fmt_field_with_ci(judge, key) for key, label in SCORE_LABELS},
                         "TP": judge["tp"], "FP": judge["fp"], "FN": judge["fn"],
                         "flags": fmt_flags(judge["flags"])})
    return rows


def overall_rows(result: Comparison) -> list[dict[str, object]]:
    return [{"judge": o["rater"], "mean kappa": fmt_number(o["mean_kappa"]),
             "change [95% CI]": fmt_field_with_ci(o, "mean_kappa_change") if "mean_kappa_change" in o else "",
             "modes covered": o["mean_kappa_modes_covered"],
             **{f"{label} [95% CI]": fmt_field_with_ci(o, key) for key, label in SCORE_LABELS}}
            for o in result["overall"]]


def chart_rows(result: Comparison) -> pd.DataFrame:
    """The comparison in the shape report_views.kappa_chart draws (one "pair" per judge)."""
    rows = [{"order": i, "mode": f"{mode['code']} {mode['name']}", "pair": judge["rater"], "kappa": judge["kappa"],
             "ci_low": judge["ci_low"], "ci_high": judge["ci_high"], "n": judge["n"], "observed_agreement": None,
             "flags": fmt_flags(judge["flags"])}
            for i, mode in enumerate(result["modes"]) for judge in mode["judges"]]
    return pd.DataFrame(rows, columns=["order", "mode", "pair", "kappa", "ci_low", "ci_high", "n",
                                       "observed_agreement", "flags"])


def leakage_lines(result: Comparison) -> list[str]:
    """Warnings for judges whose prompt shows test-split segments as few-shot examples (Markdown)."""
    return [f"{md_literal(rater)}: its prompt's few-shot examples contain test-split segment(s) "
            f"{', '.join(str(s) for s in segments)}; its test figures are not a fair test."
            for rater, segments in (result.get("leakage") or {}).items() if segments]
