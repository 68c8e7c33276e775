"""`annotator judge baseline`: a thin command over annotator.judge.baseline (imported inside it: scikit-learn)."""

from __future__ import annotations

import click

from annotator.cli.common import SEED


@click.command("baseline")
@click.option("--features", type=click.Choice(["tfidf"]), default="tfidf", show_default=True,
              help="tfidf: hashed TF-IDF word (1-2) and character (3-5) n-grams.")
@click.option("--split", type=click.Choice(["dev", "all"]), default="dev", show_default=True,
              help="Gold to train on: the dev split (tune on dev, keep test for the end), or all gold.")
@click.option("--taxonomy", default="mast", show_default=True, metavar="NAME[@VERSION]")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Shuffles the cross-validation folds.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(min=3, max=20),
              help="Cross-validation folds at most (fewer for a mode with fewer positives; at least 3).")
@click.option("--skip-untrainable", is_flag=True,
              help="Train the modes that have enough gold, leave the others unlabelled (listed), instead of "
                   "refusing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def baseline(ctx: click.Context, features: str, split: str, taxonomy: str, seed: int, folds: int,
             skip_untrainable: bool, as_json: bool) -> None:
    """Train a cheap classifier per mode on gold and label every segment with it, as a judge rater.

    Logistic regression (balanced class weights, C chosen by inner cross-validation) on TF-IDF n-grams. Its
    labels on the training segments are out-of-fold, so `judge compare RATER baseline:... --split dev` is a
    fair contest between an LLM judge and the cheap model."""
    from annotator.cli.common import emit_json, open_db
    from annotator.judge.baseline import train_baseline

    result = train_baseline(open_db(ctx), taxonomy=taxonomy, split=split, features=features, seed=seed,
                            folds=folds, skip_untrainable=skip_untrainable)
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(f"{result.rater}: trained on {result.training_segments} {result.split} gold segments "
               f"of {result.taxonomy}")
    for mode in result.modes:
        counts = f"{mode.positives:>4} positive {mode.negatives:>4} negative"
        if mode.skipped:
            click.echo(f"  {mode.code:<6}{counts}   skipped: {mode.skipped}", err=True)
        else:
            click.echo(f"  {mode.code:<6}{counts}   {mode.folds} folds, C={mode.c:g}")
    click.echo(f"labelled {result.labelled} segments ({result.out_of_fold} out of fold); "
               f"{result.changed} labels written or changed")
    click.echo(f"compare: annotator judge compare JUDGE {result.rater} --split {result.split}")
