"""`annotator localise report`: agreement on where the decisive error is (turn and agent)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from annotator.cli.common import BOOTSTRAP, SEED, SQLITE_MAX_INT, FiniteNumber, check_url


@click.group()
def localise() -> None:
    """Failure localisation: which agent made the decisive error, at which turn."""


@localise.command("judge")
@click.option("--model", required=True, help="litellm model string, e.g. openai/gpt-4o-mini, ollama/llama3.1.")
@click.option("--prompt", "prompt_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Prompt template (default: the shipped localise_judge.md).")
@click.option("--api-base", default=None, callback=check_url, help="Server URL (local vLLM, Ollama, proxy...).")
@click.option("--api-key-env", default=None, metavar="NAME", help="Read the key from this environment variable.")
@click.option("--traces", type=click.Choice(["all", "reference"]), default="all", show_default=True,
              help="all: every trace with turns; reference: those a reference rater or gold localised.")
@click.option("--limit", type=click.IntRange(min=0, max=SQLITE_MAX_INT), default=None, help="At most N traces.")
@click.option("--concurrency", type=click.IntRange(min=1, max=256), default=4, show_default=True)
@click.option("--timeout", type=FiniteNumber(0.0, above=True), default=120.0, show_default=True,
              help="Seconds per call.")
@click.option("--max-attempts", type=click.IntRange(min=1, max=20), default=2, show_default=True,
              help="Tries per trace (errors and invalid answers are retried, then recorded).")
@click.pass_context
def judge(ctx: click.Context, model: str, prompt_path: Path | None, api_base: str | None, api_key_env: str | None,
          traces: str, limit: int | None, concurrency: int, timeout: float, max_attempts: int) -> None:
    """Ask an LLM for each trace's decisive step and agent. Cached: a rerun calls only for failed traces."""
    from annotator import store
    from annotator.cli.common import open_db
    from annotator.judge.localise import DEFAULT_LOCALISE_PROMPT, LocaliseOptions, run_localise

    options = LocaliseOptions(model=model, prompt=prompt_path or DEFAULT_LOCALISE_PROMPT, api_base=api_base,
                              api_key_env=api_key_env, traces=traces, limit=limit, concurrency=concurrency,
                              timeout=timeout, attempts=max_attempts)
    db = open_db(ctx)
    run = run_localise(db, options)
    from annotator.core.report.fmt import fmt_money

    cost = fmt_money(run.cost)
    click.echo(f"{run.rater}: {run.traces} traces, {run.called} called, {run.cached} from the cache, "
               f"{run.errors} errors (cost {cost})")
    rater = store.get_rater(db, run.rater)
    for trace_id, error in store.localisation_call_errors(db, rater.id)[:10] if rater else []:
        click.echo(f"  trace {trace_id}: {error}")


@localise.command("report")
@click.option("--raters", default=None, metavar="A,B,...", help="Raters to compare (default: all who localised).")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Only traces with this tag (repeatable).")
@click.option("--k", "k", default=3, show_default=True, type=click.IntRange(0, 1000),
              help="Steps within +-k turns count as near agreement.")
@click.option("--bootstrap", default=1000, show_default=True, type=BOOTSTRAP,
              help="Trace resamples for the intervals (0: none).")
@click.option("--seed", default=0, show_default=True, type=SEED)
@click.option("--format", "fmt", default="md", show_default=True, type=click.Choice(["json", "md", "html"]))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
@click.pass_context
def report(ctx: click.Context, raters: str | None, tags: tuple[str, ...], k: int, bootstrap: int, seed: int,
           fmt: str, out: Path | None) -> None:
    """Localisation agreement of every pair of raters, and Who&When's accuracies against references."""
    from annotator.cli.common import emit_text, open_db, parse_tags
    from annotator.core.errors import RefusedError
    from annotator.services.localisation_report import localisation_for

    names = [r.strip() for r in raters.split(",") if r.strip()] if raters else None
    section = localisation_for(open_db(ctx), raters=names, tags=parse_tags(tags), k=k, bootstrap=bootstrap, seed=seed)
    if section is None:
        raise RefusedError("no localisations for this selection (import Who&When or AgentRx, or label in the app)")
    emit_text(_render(section, fmt), out, what=f"{fmt}, {len(section['pairs'])} pairs")


def _render(section, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(section, indent=2, ensure_ascii=False, allow_nan=False)
    if fmt == "html":
        from annotator.core.report.html import render_localisation_html

        return render_localisation_html(section)
    from annotator.core.report.markdown import localisation_markdown

    return "\n".join(["# Localisation agreement", "", *localisation_markdown(section)])
