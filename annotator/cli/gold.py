"""`annotator gold build|split|show|adjudicate`."""

from __future__ import annotations

import click

from annotator.cli.common import ROW_ID, SEED, UNSURE, non_empty


@click.group()
def gold() -> None:
    """Gold labels: build from agreement, adjudicate, split into dev and test."""


@gold.command()
@click.option("--strategy", default="majority", show_default=True, type=click.Choice(["majority", "unanimous"]))
@click.option("--taxonomy", default="mast", show_default=True, metavar="NAME[@VERSION]")
@UNSURE
@click.pass_context
def build(ctx: click.Context, strategy: str, taxonomy: str, unsure: str) -> None:
    """Fill gold from human labels for every segment nobody adjudicated (ties are left for review)."""
    from annotator.cli.common import open_db
    from annotator.services.gold import build_gold

    result = build_gold(open_db(ctx), taxonomy=taxonomy, strategy=strategy, include_unsure=unsure == "include")
    click.echo(f"{result.taxonomy}: {result.written} gold labels on {result.segments} segments ({strategy}); "
               f"{result.kept_adjudicated} adjudicated labels kept; "
               f"{len(result.undecided)} (segment, mode) cells left for review")


@gold.command()
@click.option("--taxonomy", default="mast", show_default=True, metavar="NAME[@VERSION]")
@click.option("--test-fraction", default=0.3, show_default=True,
              type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--seed", default=0, show_default=True, type=SEED)
@click.pass_context
def split(ctx: click.Context, taxonomy: str, test_fraction: float, seed: int) -> None:
    """Split gold segments into dev and test (once: segments already split keep their side)."""
    from annotator.cli.common import open_db
    from annotator.services.gold import split_gold

    sizes = split_gold(open_db(ctx), taxonomy=taxonomy, test_fraction=test_fraction, seed=seed)
    click.echo(f"dev: {sizes['dev']} segments, test: {sizes['test']} segments")


@gold.command()
@click.argument("segment_id", type=ROW_ID)
@click.option("--set", "settings", multiple=True, required=True, metavar="CODE=0|1", help="Gold value of a mode.")
@click.option("--by", "adjudicator", required=True, callback=non_empty,
              help="Who decides (recorded with the gold label).")
@click.option("--note", default=None)
@click.option("--taxonomy", default="mast", show_default=True, metavar="NAME[@VERSION]")
@click.pass_context
def adjudicate(ctx: click.Context, segment_id: int, settings: tuple[str, ...], adjudicator: str, note: str | None,
               taxonomy: str) -> None:
    """Set gold values of SEGMENT_ID by hand (the Review page does the same)."""
    from annotator.cli.common import open_db
    from annotator.services.gold import adjudicate as decide

    values = {}
    for item in settings:
        code, sep, value = item.partition("=")
        if not sep or not code.strip() or value.strip() not in ("0", "1"):
            raise click.BadParameter(f"{item!r} is not CODE=0|1", param_hint="--set")
        values[code.strip()] = int(value)
    decide(open_db(ctx), segment_id, values, adjudicator=adjudicator, taxonomy=taxonomy, note=note)
    click.echo(f"segment {segment_id}: {len(values)} gold labels set by {adjudicator}")
