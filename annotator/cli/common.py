"""What every command shares: the database it opens, JSON output, K=V tags."""

from __future__ import annotations

import json

import click


def open_db(ctx: click.Context):
    """Connect to the database chosen by --db / $ANNOTATOR_DB / ./annotator.db."""
    from annotator import store

    return store.connect(ctx.obj["db"])


def emit_json(document: object) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def parse_tags(values: tuple[str, ...]) -> dict[str, str]:
    tags = {}
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not K=V", param_hint="--tag")
        tags[key.strip()] = tag_value.strip()
    return tags
