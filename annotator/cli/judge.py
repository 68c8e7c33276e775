"""`annotator judge run|list|compare|prompt-copy`: thin commands over annotator.judge (imported inside them)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from annotator.cli.common import BOOTSTRAP, SEED, SQLITE_MAX_INT, UNSURE, FiniteNumber, check_url
from annotator.core.report.fmt import fmt_field_with_ci, fmt_money, fmt_number, fmt_with_ci

if TYPE_CHECKING:
    from annotator.services.judgelab import Comparison

# A dry run plans every (segment, sample) in memory: 10**20 samples took 10 GB before failing.
MAX_SAMPLES = 100
MAX_CONCURRENCY = 256
MAX_PROCESSES = 32


def _tokens(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e4 else str(n)


class ProgressLine:
    """One status line on stderr: rewritten in place on a terminal, printed every few seconds otherwise."""

    def __init__(self, stream=None, *, every_s: float | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s if every_s is not None else (0.1 if self.tty else 5.0)
        self.last = 0.0
        self.printed: tuple = ()

    def text(self, stats) -> str:
        rate = stats.done + stats.failed
        elapsed = max(1e-9, time.perf_counter() - stats.started)
        return (f"judge: {stats.finished_count}/{stats.total} done ({stats.cached} cached)  errors {stats.failed}  "
                f"in flight {stats.in_flight}  tokens {_tokens(stats.tokens)}  cost {fmt_money(stats.cost)}  "
                f"{rate / elapsed:.1f} calls/s")

    def __call__(self, stats, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.every_s and stats.finished_count < stats.total:
            return
        self.last = now
        text, key = self.text(stats), (stats.finished_count, stats.failed, stats.in_flight)
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        elif key != self.printed:
            self.stream.write(text + "\n")
        self.printed = key
        self.stream.flush()


@click.group()
def judge() -> None:
    """Label segments with an LLM judge (any litellm model) and list its runs."""


@judge.command("run")
@click.option("--model", default=None,
              help="litellm model string, e.g. openai/gpt-4o-mini, ollama/llama3.1 (required unless --resume).")
@click.option("--prompt", "prompt_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Prompt template (default: the shipped mast_judge.md).")
@click.option("--api-base", default=None, callback=check_url,
              help="Server URL (local vLLM, Ollama, LiteLLM proxy...).")
@click.option("--api-key-env", default=None, metavar="NAME",
              help="Read the key from this environment variable (default: the provider's usual one).")
@click.option("--taxonomy", default="mast", show_default=True, help="NAME[@VERSION] (default: latest mast).")
@click.option("--segments", type=click.Choice(["all", "gold", "unlabelled"]), default="all", show_default=True,
              help="all: queued segments; gold: segments with gold labels; unlabelled: no human has labelled.")
@click.option("--limit", type=click.IntRange(min=0, max=SQLITE_MAX_INT), default=None, help="At most N segments.")
@click.option("--concurrency", type=click.IntRange(min=1, max=MAX_CONCURRENCY), default=8, show_default=True)
@click.option("--processes", type=click.IntRange(min=1, max=MAX_PROCESSES), default=1, show_default=True,
              help="Client processes sharing the --concurrency slots, for a server that answers faster than one"
                   " process can send (litellm spends about 6 ms of CPU per call).")
@click.option("--samples", type=click.IntRange(min=1, max=MAX_SAMPLES), default=1, show_default=True,
              help="Answers per segment (to measure the judge's self-agreement).")
@click.option("--dry-run", is_flag=True, help="Print calls, tokens and cost that a run would take; call nothing.")
@click.option("--timeout", type=FiniteNumber(0.0, above=True), default=120.0, show_default=True,
              help="Seconds per call.")
@click.option("--max-attempts", type=click.IntRange(min=1), default=4, show_default=True,
              help="Tries per segment (timeouts, 429, 5xx and invalid answers are retried).")
@click.option("--max-input-tokens", type=click.IntRange(min=1000), default=None,
              help="Prompt token limit (default: the model's, else 100000); longer segments are cut.")
@click.option("--temperature", type=FiniteNumber(0.0), default=None, help="Overrides the prompt's front matter.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=None, help="Answer token limit.")
@click.option("--structured-output", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="Ask for JSON-schema output (auto: where litellm says the model supports it).")
@click.option("--refresh", is_flag=True, help="Call again even where the cache has an answer.")
@click.option("--input-cost-per-token", type=FiniteNumber(0.0), default=None,
              help="Price in USD, for models litellm does not know.")
@click.option("--output-cost-per-token", type=FiniteNumber(0.0), default=None,
              help="Price in USD, for models litellm does not know.")
@click.option("--batch", is_flag=True,
              help="Send the run through the provider's batch API (litellm's files and batches), at batch prices.")
@click.option("--resume", type=click.IntRange(min=1, max=SQLITE_MAX_INT), default=None, metavar="RUN",
              help="With --batch: pick up run RUN's submitted batches by their ids (its own options).")
@click.option("--poll-interval", type=FiniteNumber(0.0, above=True), default=10.0, show_default=True,
              help="With --batch: seconds before the first status check; later checks back off to 300 s.")
@click.option("--batch-wait", type=FiniteNumber(0.0), default=None, metavar="SECONDS",
              help="With --batch: leave after this long (0: submit and leave); resume later. Default: wait.")
@click.option("--quiet", is_flag=True, help="No progress line.")
@click.pass_context
def run(ctx: click.Context, model: str | None, prompt_path: Path | None, api_base: str | None,
        api_key_env: str | None, taxonomy: str, segments: str, limit: int | None, concurrency: int,
        processes: int, samples: int, dry_run: bool, timeout: float,
        max_attempts: int, max_input_tokens: int | None, temperature: float | None, max_tokens: int | None,
        structured_output: str, refresh: bool, input_cost_per_token: float | None,
        output_cost_per_token: float | None, batch: bool, resume: int | None, poll_interval: float,
        batch_wait: float | None, quiet: bool) -> None:
    """Label segments with the judge. Answers are cached: rerunning makes no call for finished segments."""
    from annotator import judge as service
    from annotator.cli.common import open_db

    if batch and processes > 1:
        raise click.UsageError("--processes applies to live runs: a --batch run makes no calls of its own to share")
    if resume is not None and not batch:
        raise click.UsageError("--resume RUN picks up a batch run: add --batch (a live run resumes by rerunning it)")
    if model is None and resume is None:
        raise click.UsageError("Missing option '--model'.")
    if resume is not None:
        from annotator.judge.batch_service import options_of_run

        _run_batch(ctx, options_of_run(open_db(ctx), resume, api_base=api_base), resume=resume,
                   poll_interval=poll_interval, batch_wait=batch_wait, quiet=quiet)
        return
    assert model is not None
    options = service.JudgeOptions(
        model=model, prompt_path=prompt_path or service.DEFAULT_PROMPT, api_base=api_base, api_key_env=api_key_env,
        taxonomy=taxonomy, segments=segments, limit=limit, concurrency=concurrency, processes=processes,
        samples=samples, timeout=timeout, max_attempts=max_attempts, max_input_tokens=max_input_tokens,
        temperature=temperature, max_tokens=max_tokens, structured_output=structured_output, refresh=refresh,
        input_cost_per_token=input_cost_per_token, output_cost_per_token=output_cost_per_token)
    db = open_db(ctx)
    if dry_run:
        _print_estimate(service.dry_run(db, options))
        return
    if samples > 1 and temperature == 0:
        click.echo("note: --samples with --temperature 0 asks the same question several times", err=True)
    if batch:
        _run_batch(ctx, options, resume=None, poll_interval=poll_interval, batch_wait=batch_wait, quiet=quiet)
        return
    progress = None if quiet else ProgressLine()
    result = service.run_judge(db, options, on_progress=progress)
    if progress is not None:
        progress(result.stats, final=True)
    _print_result(db, result)


def _print_estimate(est) -> None:
    click.echo(f"rater: {est.rater}")
    click.echo(f"segments x samples: {est.total} ({est.cached} cached, {est.calls} calls to make)")
    click.echo(f"estimated tokens: {est.prompt_tokens} in + {est.completion_tokens} out"
               f" (input limit {est.input_limit}; {est.truncated} calls cut to fit)")
    click.echo(f"estimated cost: {fmt_money(est.cost)}")
    batch = fmt_money(est.batch_cost) if est.batch_cost is not None else "unknown (litellm has no batch price for it)"
    click.echo(f"estimated cost at batch prices (--batch): {batch}")


def _run_batch(ctx: click.Context, options, *, resume: int | None, poll_interval: float,
               batch_wait: float | None, quiet: bool) -> None:
    from annotator.cli.common import open_db
    from annotator.judge.batch import Poller
    from annotator.judge.batch_service import run_batch

    def on_batch(state) -> None:
        if not quiet:
            counts = "" if state.completed is None else f" ({state.completed} done, {state.failed or 0} failed)"
            click.echo(f"batch {state.id}: {state.status}{counts}", err=True)

    db = open_db(ctx)
    try:
        result = run_batch(db, options, resume=resume, poller=Poller(first=poll_interval, wait=batch_wait),
                           on_batch=on_batch)
    except KeyboardInterrupt:
        raise click.ClickException("left the batch at the provider; resume with: annotator judge run --batch"
                                   " --resume RUN (RUN from annotator judge list)") from None
    if result.status == "submitted":
        click.echo(f"run {result.run_id} submitted: its batch is at the provider; pick it up with: "
                   f"annotator judge run --batch --resume {result.run_id}")
        return
    _print_result(db, result)


def _print_result(db, result) -> None:
    from annotator import judge as service

    p = service.run_progress(db, result.run_id)
    latency = (f"  latency p50 {p['latency_p50_ms']:.0f} ms, p95 {p['latency_p95_ms']:.0f} ms"
               if p["latency_p50_ms"] is not None else "")
    click.echo(f"run {p['run_id']} {p['state']}: {p['rater']}: {p['done']} judged, {p['cached']} cached, "
               f"{p['failed']} failed of {p['total']}; tokens {p['tokens']}; cost {fmt_money(p['cost'])}{latency}")
    if result.status in ("error", "failed"):  # one line: every call failed alike, or the run could not go on
        raise click.ClickException(f"judge run {result.run_id} failed: {result.error}")
    for error in p["recent_errors"]:
        click.echo(f"  segment {error['segment_id']} sample {error['sample']}: {error['error']}", err=True)
    if p["failed"]:
        raise click.ClickException(f"judge run {result.run_id} {p['state']} (of {p['total']}) after retries;"
                                   " rerun the same command to retry only those")


@judge.command("prompt-copy")
@click.argument("dest", type=click.Path(path_type=Path), default="prompts/mast_judge.md", required=False)
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
def prompt_copy(dest: Path, force: bool) -> None:
    """An editable copy of the judge prompt.

    Copies the shipped prompt to DEST (default: prompts/mast_judge.md). The Judge lab offers every *.md in
    prompts/ of the server's working directory; on the command line, pass it as judge run --prompt DEST."""
    from annotator.judge.prompt import copy_prompt, load_prompt

    written = copy_prompt(dest, overwrite=force)
    click.echo(f"wrote {written} (version {load_prompt(written).version}, the shipped prompt's); edit it, then:")
    click.echo(f"  annotator judge run --model MODEL --prompt {written} --dry-run")


@judge.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Judge runs, newest first: rater, segments done and failed, tokens, cost, latency, date."""
    from annotator.cli.common import emit_json, open_db
    from annotator.judge.service import list_runs

    runs = list_runs(open_db(ctx))
    if as_json:
        emit_json(runs)
        return
    if not runs:
        click.echo("no judge runs yet: annotator judge run --model MODEL")
        return
    for r in runs:
        p50 = "-" if r["latency_p50_ms"] is None else f"{r['latency_p50_ms']:.0f}"
        p95 = "-" if r["latency_p95_ms"] is None else f"{r['latency_p95_ms']:.0f}"
        click.echo(f"{r['run_id']:>4}  {r['started_at'][:19].replace('T', ' ')}  {r['state']:<11} {r['rater']}")
        cost = fmt_money(r["cost"]) + (" at batch prices" if r["batches"] else "")
        click.echo(f"      segments: {r['done']} done, {r['cached']} cached, {r['failed']} failed of {r['total']}"
                   f"   tokens: {r['tokens']}   cost: {cost}   latency p50/p95: {p50}/{p95} ms")
        for b in r["batches"]:
            click.echo(f"      batch {b['batch_id'] or '(not submitted)'}: {b['status']}, {b['requests']} requests,"
                       f" {b['stored']} stored ({b['answered']} answered)" + (f"; {b['error']}" if b["error"] else ""))
        if r["served_models"]:
            click.echo(f"      served by: {_served(r['served_models'])}")
        if r["status"] == "failed" and r["error"]:
            click.echo(f"      error: {r['error']}")


def _served(models: dict[str, int]) -> str:
    """`gpt-4o-mini-2024-07-18 (118 calls), fallback-model (2 calls)`: which models answered."""
    return ", ".join(f"{name} ({n} call{'s' if n != 1 else ''})" for name, n in models.items())


@judge.command()
@click.argument("raters", nargs=-1, required=True)
@click.option("--against", default="gold", show_default=True, help="'gold' or a rater name.")
@click.option("--split", default="all", show_default=True, type=click.Choice(["dev", "test", "all"]))
@click.option("--taxonomy", default="mast", show_default=True, metavar="NAME[@VERSION]")
@click.option("--bootstrap", default=1000, show_default=True, type=BOOTSTRAP)
@click.option("--seed", default=0, show_default=True, type=SEED)
@UNSURE
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def compare(ctx: click.Context, raters: tuple[str, ...], against: str, split: str, taxonomy: str, bootstrap: int,
            seed: int, unsure: str, as_json: bool) -> None:
    """Judge raters side by side against gold (or a rater): kappa with CI, precision, recall, F1 per mode."""
    from annotator.cli.common import emit_json, open_db
    from annotator.services.judgelab import compare_judges

    db = open_db(ctx)
    result = compare_judges(db, list(raters), against=against, split=split, taxonomy=taxonomy,
                            bootstrap=bootstrap, seed=seed, include_unsure=unsure == "include")
    if as_json:
        emit_json(result)
        return
    _print_comparison(result)
    from annotator.judge.service import served_models

    for i, (rater, models) in enumerate(served_models(db, result["raters"]).items()):
        if models:  # behind a proxy the model name is an alias: say which models the labels came from
            click.echo(f"[{i + 1}] {rater} answered by: {_served(models)}")


def _print_comparison(result: Comparison) -> None:
    click.echo(f"{result['taxonomy']} against {result['against']}, split {result['split']}: "
               f"{result['segments']} segments")
    for i, rater in enumerate(result["raters"]):
        click.echo(f"  [{i + 1}] {rater}")
    params = result["params"]
    click.echo(f"95% intervals; resampling {params['resample']}s ({params['resample_reason']}); change: paired, "
               "both judges on the same resampled segments")
    header = ["mode", "judge", "kappa [95% CI]", "change [95% CI]", "precision", "recall", "F1"]
    widths = [6, 6, 20, 22, 20, 20, 20]
    click.echo("\n" + "".join(f"{h:<{w}}" for h, w in zip(header, widths)))
    for mode in result["modes"]:
        for i, j in enumerate(mode["judges"]):
            cells = [mode["code"] if i == 0 else "", f"[{i + 1}]", fmt_with_ci(j["kappa"], j["ci_low"], j["ci_high"]),
                     fmt_field_with_ci(j, "kappa_change") if i else "",
                     *(fmt_field_with_ci(j, key) for key in ("precision", "recall", "f1"))]
            click.echo("".join(f"{c:<{w}}" for c, w in zip(cells, widths)).rstrip())
    click.echo("")
    for i, row in enumerate(result["overall"]):
        change = f" ({fmt_field_with_ci(row, 'mean_kappa_change')} from [{i}])" if i else ""
        click.echo(f"[{i + 1}] {row['rater']}: pooled precision {fmt_field_with_ci(row, 'precision')}, "
                   f"recall {fmt_field_with_ci(row, 'recall')}, F1 {fmt_field_with_ci(row, 'f1')}; "
                   f"mean kappa {fmt_number(row['mean_kappa'])}{change} over "
                   f"{row['mean_kappa_modes_covered']} modes")
    if stale := result.get("stale_gold_segments"):
        click.echo(f"WARNING: stale gold on {len(stale)} segments (labelled after their gold was set): "
                   "run 'annotator gold build' or adjudicate them again", err=True)
    for rater, leaked in result["leakage"].items():
        if leaked:
            click.echo(f"WARNING: the prompt of {rater} has test-split segments among its examples: "
                       f"{', '.join(map(str, leaked))}", err=True)
