"""`annotator queue strategy|show`: in what order segments are handed to annotators."""

from __future__ import annotations

import click

from annotator.cli.common import UNSURE, FiniteNumber, emit_json

# Spelled out (services.queue_strategy.STRATEGIES and DEFAULT_BELOW_KAPPA) so --help imports no numpy.
STRATEGY_NAMES = ("default", "judge-uncertain")
BELOW_KAPPA = 0.6


@click.group()
def queue() -> None:
    """The annotation queue: the order segments are handed out in."""


@queue.command()
@click.argument("name", type=click.Choice(STRATEGY_NAMES))
@click.option("--judge", "judge", default=None, metavar="RUN_OR_RATER",
              help="Judge run id or judge rater name (default: the judge of the newest run).")
@click.option("--samples", type=click.IntRange(min=1), default=None, metavar="K",
              help="Compare at most the first K samples per segment (default: every stored sample).")
@click.option("--below-kappa", type=FiniteNumber(-1.0), default=BELOW_KAPPA, show_default=True, metavar="X",
              help="A mode whose people mean kappa is below X (or undefined) still has low agreement.")
@UNSURE
@click.option("--json", "as_json", is_flag=True, help="Print the result, every uncertain segment with its modes.")
@click.pass_context
def strategy(ctx: click.Context, name: str, judge: str | None, samples: int | None, below_kappa: float,
             unsure: str, as_json: bool) -> None:
    """Set the hand-out order: NAME is default (by id) or judge-uncertain (where the judge is unsure, first).

    judge-uncertain puts first the segments where the judge's samples disagree with each other, or where the
    judge's answer differs from the people's majority on a mode whose people agreement is below X; run it
    again after a judge run or new labels to refresh the order.
    """
    from annotator import store
    from annotator.cli.common import open_db
    from annotator.services.queue_strategy import apply_strategy

    if name == "default" and (judge is not None or samples is not None):
        raise click.UsageError("--judge and --samples belong to judge-uncertain")
    result = apply_strategy(open_db(ctx), store.LOCAL_ADMIN, name, judge=judge, samples=samples,
                            below_kappa=below_kappa, include_unsure=unsure == "include")
    if as_json:
        emit_json(result.as_json())
    elif name == "default":
        click.echo("queue order: default (segments closest to k annotators first, then by id)")
    else:
        click.echo(_summary(result))


def _summary(result) -> str:
    by_samples = sum(1 for u in result.uncertain if u.samples_disagree)
    by_people = sum(1 for u in result.uncertain if u.judge_vs_people)
    low = ", ".join(result.low_modes) or "none"
    return (f"queue order: judge-uncertain ({result.judge}, {result.taxonomy}): {len(result.uncertain)} segments "
            f"first, {result.with_room} of them with room for an annotator; {by_samples} where the judge's samples "
            f"disagree ({result.sampled_segments} segments have 2 or more samples), {by_people} where it differs "
            f"from the people's majority on a mode with people kappa below {result.below_kappa:g} or n/a ({low})")


@queue.command()
@click.option("--limit", type=click.IntRange(min=1, max=100_000), default=20, show_default=True,
              help="How many of the next segments to list.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, limit: int, as_json: bool) -> None:
    """The strategy in use and the next segments a fresh annotator would get, in order."""
    from annotator.cli.common import open_db
    from annotator.services.queue_strategy import current_strategy, hand_out_order

    db = open_db(ctx)
    current, order = current_strategy(db), hand_out_order(db, limit=limit)
    if as_json:
        emit_json({"strategy": current, "next": order})
        return
    options = ", ".join(f"{k}={_plain(v)}" for k, v in sorted(current.items())
                        if k not in ("name", "ranked_segments") and v is not None)
    click.echo(f"strategy: {current['name']}" + (f" ({options})" if options else "")
               + f"; {current['ranked_segments']} segments ranked first")
    for row in order:
        click.echo(f"segment {row['segment_id']}  trace {row['trace']}  {row['scheme']} {row['index']}  "
                   f"claims {row['claims']}  rank {row['rank']}")


def _plain(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)
