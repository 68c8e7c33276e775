"""`annotator report`: agreement per failure mode, as JSON, CSV, Markdown or HTML."""

from __future__ import annotations

from pathlib import Path

import click

from annotator.cli.common import BOOTSTRAP, SEED, UNSURE


@click.command()
@click.option("--raters", default=None, metavar="A,B,...", help="Raters to compare (default: every rater with labels).")
@click.option("--level", default="segment", show_default=True, type=click.Choice(["segment", "trace"]))
@click.option("--taxonomy", default="mast", show_default=True, metavar="NAME[@VERSION]")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Only traces with this tag (repeatable).")
# The choices are intervals.METHODS, spelled out so that --help needs no numpy (a test keeps them equal).
@click.option("--ci", "ci_method", default="dirichlet", show_default=True,
              type=click.Choice(["dirichlet", "goodness-of-fit", "percentile"]),
              help="Interval of each pair's kappa per mode (coverage measured in BENCHMARKS.md).")
@click.option("--bootstrap", default=1000, show_default=True, type=BOOTSTRAP,
              help="Bootstrap resamples for the pooled and mean-kappa intervals, and for --ci percentile (0: none).")
@click.option("--resample", default=None, type=click.Choice(["segment", "trace"]),
              help="What the bootstrap draws: single segments or whole traces. Default: trace for turn- and "
                   "window-level segments (segments of a trace are not independent), segment when each segment "
                   "is a whole trace; the report says which in params.resample and params.resample_reason.")
@click.option("--seed", default=0, show_default=True, type=SEED)
@click.option("--alt-test-epsilon", default=0.2, show_default=True, type=click.FloatRange(0, 1, max_open=True),
              help="Cost-benefit margin of the alternative annotator test of each judge (the paper's advice: "
                   "0.2 expert annotators, 0.15 skilled ones, 0.1 crowd workers; smaller when people agree little).")
@UNSURE
@click.option("--localisation-k", default=3, show_default=True, type=click.IntRange(0, 1000),
              help="Localisation section: steps within +-k turns count as near agreement.")
# The choices are core.agreement.listing.PAIRS_CHOICES, spelled out so that --help needs no numpy.
@click.option("--pairs", default="auto", show_default=True, type=click.Choice(["auto", "all", "none"]),
              help="List every rater pair per mode and pooled: auto does up to 20 raters (their number grows with "
                   "the square of the raters); all always; none never. Per-mode, people and judge figures are "
                   "always there; params.pairs_omitted says when the pairs were left out.")
@click.option("--format", "fmt", default="md", show_default=True, type=click.Choice(["json", "csv", "md", "html"]))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
@click.pass_context
def report(ctx: click.Context, raters: str | None, level: str, taxonomy: str, tags: tuple[str, ...],
           ci_method: str, bootstrap: int, resample: str | None, seed: int, alt_test_epsilon: float, unsure: str,
           localisation_k: int, pairs: str, fmt: str, out: Path | None) -> None:
    """Agreement per failure mode: kappa with CI for every pair, multi-rater figures, co-confusion."""
    from annotator.cli.common import emit_text, open_db, parse_tags
    from annotator.core.report import render
    from annotator.services.report import report_for

    names = [r.strip() for r in raters.split(",") if r.strip()] if raters else None
    if names is not None and len(set(names)) < len(names):
        raise click.BadParameter(f"{raters!r} names a rater twice", param_hint="--raters")
    document = report_for(open_db(ctx), taxonomy=taxonomy, raters=names, level=level, tags=parse_tags(tags),
                          bootstrap=bootstrap, seed=seed, ci_method=ci_method, resample=resample,
                          alt_test_epsilon=alt_test_epsilon, include_unsure=unsure == "include",
                          localisation_k=localisation_k, pairs=pairs)
    emit_text(render(document, fmt), out,
              what=f"{fmt}, {len(document['modes'])} modes, {len(document['raters'])} raters")
