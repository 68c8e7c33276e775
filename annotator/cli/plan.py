"""`annotator plan`: how many segments a kappa interval of a given width needs, or what more labels buy."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from annotator.cli.common import SEED, UNSURE, FiniteNumber

# The choices are intervals.METHODS, spelled out so that --help needs no numpy (tests/test_plan.py keeps them equal).
CI_METHODS = ["dirichlet", "goodness-of-fit", "percentile"]


def _more(value: str) -> list[int]:
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a list of whole numbers such as 50,100,200",
                                 param_hint="--more") from None
    if not numbers or any(n < 0 or n > 1_000_000 for n in numbers):
        raise click.BadParameter(f"{value!r}: give numbers of segments from 0 to 1,000,000", param_hint="--more")
    return numbers


@click.command()
@click.option("--prevalence", type=FiniteNumber(0.0, above=True), default=None,
              help="Share of segments where the mode is present (0-1), e.g. 0.05.")
@click.option("--prevalence-b", type=FiniteNumber(0.0, above=True), default=None,
              help="The second rater's prevalence, when it differs (e.g. a judge that flags more often).")
@click.option("--kappa", type=float, default=None, help="The Cohen's kappa you expect, e.g. 0.6.")
@click.option("--width", type=FiniteNumber(0.0, above=True), default=None,
              help="Wanted width of the 95% interval (high - low), e.g. 0.3.")
@click.option("--from-db", "from_db", is_flag=True,
              help="Project each mode's interval width after more segments from the labels so far.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --from-db: the database (else the global --db).")
@click.option("--mode", default=None, metavar="CODE", help="With --from-db: only this mode.")
@click.option("--taxonomy", default="mast", show_default=True, metavar="NAME[@VERSION]")
@click.option("--raters", default=None, metavar="A,B,...", help="With --from-db: raters (default: the people).")
@click.option("--more", default="50,100,200,500", show_default=True, metavar="N,N,...",
              help="With --from-db: numbers of further segments to project.")
@click.option("--ci", "ci_method", default="dirichlet", show_default=True, type=click.Choice(CI_METHODS),
              help="The interval method, as in 'annotator report --ci'.")
@click.option("--reps", default=300, show_default=True, type=click.IntRange(50, 20_000),
              help="Simulated datasets per n (more: smaller Monte Carlo error, longer run).")
@click.option("--seed", default=0, show_default=True, type=SEED)
@UNSURE
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def plan(ctx: click.Context, prevalence: float | None, prevalence_b: float | None, kappa: float | None,
         width: float | None, from_db: bool, db_path: Path | None, mode: str | None, taxonomy: str,
         raters: str | None, more: str, ci_method: str, reps: int, seed: int, unsure: str, as_json: bool) -> None:
    """How many segments a 95% kappa interval of a given width needs (--prevalence --kappa --width), or
    how wide each mode's interval will be after more segments (--from-db)."""
    from annotator.cli.common import emit_json

    planned = (prevalence, kappa, width)
    if from_db == any(v is not None for v in planned):
        raise click.UsageError("give either --prevalence, --kappa and --width, or --from-db")
    if from_db:
        _from_db(ctx, db_path, mode=mode, taxonomy=taxonomy, raters=raters, more=_more(more), ci_method=ci_method,
                 reps=reps, seed=seed, unsure=unsure, as_json=as_json)
        return
    if prevalence is None or kappa is None or width is None:
        raise click.UsageError("--prevalence, --kappa and --width go together")
    from annotator.services.plan import plan_segments

    result = plan_segments(prevalence, kappa, width, prevalence_b=prevalence_b, method=ci_method, reps=reps, seed=seed)
    if as_json:
        emit_json(asdict(result))
    else:
        _print_plan(result)


def _print_plan(p) -> None:
    raters = f"prevalence {p.prevalence:g}" + (f" and {p.prevalence_b:g}" if p.prevalence_b is not None else "")
    head = f"{raters}, kappa {p.kappa:g}, 95% interval ({p.method}) of median width <= {p.width:g}:"
    formula = f"large-sample formula (2 z SE): {p.large_sample_n:,}" if p.large_sample_n else "no large-sample formula"
    if p.n is None:
        click.echo(f"{head} more than {1_000_000:,} segments (median width there "
                   f"{_width(p.at_n.median_width if p.at_n else None)}); {formula}")
        return
    at = p.at_n
    if p.reached_at_start:
        click.echo(f"{head} {p.n} segments or fewer")
    else:
        click.echo(f"{head} {p.n:,} segments (Monte Carlo range {p.n_low:,}-{p.n_high:,})")
    click.echo(f"  at {at.n:,} segments: median width {_width(at.median_width)} (Monte Carlo 95% range "
               f"{_width(at.mc_low)}-{_width(at.mc_high)}; {at.defined} of {at.datasets} simulated datasets "
               f"have a defined kappa)")
    click.echo(f"  {formula}; simulated, {p.reps} datasets per n, {p.evaluations} values of n tried")


def _width(value: float | None) -> str:
    from annotator.core.report.fmt import fmt_number

    return fmt_number(value, 3)


def _from_db(ctx: click.Context, db_path: Path | None, *, mode: str | None, taxonomy: str, raters: str | None,
             more: list[int], ci_method: str, reps: int, seed: int, unsure: str, as_json: bool) -> None:
    from annotator import store
    from annotator.cli.common import emit_json, open_db
    from annotator.services.plan import plan_from_db

    db = store.open_existing(db_path) if db_path is not None else open_db(ctx)
    names = [r.strip() for r in raters.split(",") if r.strip()] if raters else None
    result = plan_from_db(db, taxonomy=taxonomy, mode=mode, raters=names, more=more, method=ci_method, reps=reps,
                          seed=seed, include_unsure=unsure == "include")
    if as_json:
        emit_json(result)
        return
    click.echo(f"{result['taxonomy']}, raters {', '.join(result['raters'])}: median width of the 95% interval "
               f"({result['method']}) for a typical pair, now and after more segments labelled by both")
    header = f"{'mode':<8}{'pairs':>6}{'n now':>7}{'kappa':>7}{'width now':>11}" + "".join(
        f"{'+' + format(k, ','):>10}" for k in more)
    click.echo(header)
    for m in result["modes"]:
        kappa = _width(m["kappa"]) if m["kappa"] is None else f"{m['kappa']:.2f}"
        cells = "".join(f"{_width(p['median_width']):>10}" for p in m["projected"])
        line = f"{m['code']:<8}{m['pairs']:>6}{m['n']:>7}{kappa:>7}{_width(m['width_now']):>11}{cells}"
        click.echo(line + (f"  ({m['reason']})" if m["reason"] else ""))
    errors = [p["mc_high"] - p["mc_low"] for m in result["modes"] for p in m["projected"]
              if p["mc_low"] is not None and p["mc_high"] is not None]
    if errors:
        click.echo(f"Simulated, {result['reps']} datasets per cell; Monte Carlo 95% range of a median width at most "
                   f"{max(errors):.3f} wide. Assumes the raters go on as so far (their table, plus 1/2 per cell).")
