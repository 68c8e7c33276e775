"""The `annotator` command line. Each command parses its options and calls one service function.

Heavy libraries (litellm, sklearn, streamlit, pandas) are imported inside the commands that use
them, so `annotator --help` and `annotator stats` start fast.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import click

# Errors a user can cause (bad file, unknown taxonomy, locked file...): shown as one line, exit 1.
USER_ERRORS = (ValueError, LookupError, OSError, sqlite3.DatabaseError)


class _Group(click.Group):
    """A click group that turns user errors into a one-line message instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise  # the reader went away (`| head`): handled quietly in main()
        except USER_ERRORS as exc:
            if os.environ.get("ANNOTATOR_DEBUG"):
                raise
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise click.ClickException(message) from None


def open_db(ctx: click.Context):
    """Connect to the database chosen by --db / $ANNOTATOR_DB / ./annotator.db."""
    from annotator import store

    return store.connect(ctx.obj["db"])


def emit_json(document: object) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), envvar="ANNOTATOR_DB",
              default="annotator.db", show_default=True, help="SQLite database file (or $ANNOTATOR_DB).")
@click.version_option(package_name="mast-annotator")
@click.pass_context
def cli(ctx: click.Context, db_path: Path) -> None:
    """Label failure modes in multi-agent LLM traces and measure agreement between raters."""
    source = ctx.get_parameter_source("db_path")
    ctx.obj = {"db": db_path, "db_chosen": source is not None and source.name != "DEFAULT"}


@cli.command()
@click.option("--taxonomy", "taxonomy_source", default="mast", show_default=True,
              help="Built-in taxonomy name (mast) or a YAML/JSON taxonomy file.")
@click.pass_context
def init(ctx: click.Context, taxonomy_source: str) -> None:
    """Create the database (if needed) and add a taxonomy."""
    from annotator import store
    from annotator.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(taxonomy_source)
    db = open_db(ctx)
    store.save_taxonomy(db, taxonomy)
    click.echo(f"{ctx.obj['db']}: ready with taxonomy {taxonomy.ref} ({len(taxonomy.modes)} modes)")


def _parse_tags(values: tuple[str, ...]) -> dict[str, str]:
    tags = {}
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not K=V", param_hint="--tag")
        tags[key.strip()] = tag_value.strip()
    return tags


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", "mad-human", "mad", "jsonl", "text"]))
@click.option("--segment", "scheme", default="trace", show_default=True, metavar="trace|turn|window:N",
              help="How to cut each trace into segments to label.")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Tag every imported trace (repeatable).")
@click.option("--max-trace-mb", default=20.0, show_default=True, help="Refuse traces larger than this.")
@click.pass_context
def import_(ctx: click.Context, paths: tuple[Path, ...], fmt: str, scheme: str, tags: tuple[str, ...],
            max_trace_mb: float) -> None:
    """Import trace files. Each file is imported all or nothing; re-importing adds nothing."""
    from annotator.ingest import import_file

    tag_map = _parse_tags(tags)
    db = open_db(ctx)
    for path in paths:
        result = import_file(db, path, fmt=fmt, scheme=scheme, tags=tag_map, max_trace_mb=max_trace_mb)
        click.echo(f"{result.path}: {result.format}, {result.traces_added} new of {result.traces_seen} traces, "
                   f"{result.labels_added} labels added (segments: {result.scheme})")
        for ref in result.taxonomies_added:
            click.echo(f"  taxonomy version added: {ref}")
        for first, again in result.duplicates:
            click.echo(f"  note: records {first} and {again} have the same trace body")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """What is in the database: traces, segments, raters, taxonomies."""
    from annotator import store

    summary = store.database_stats(open_db(ctx))
    if as_json:
        emit_json(summary)
        return
    click.echo(f"traces: {summary['traces']}   segments: {summary['segments']}   labels: {summary['labels']}"
               f"   gold labels: {summary['gold_labels']}")
    click.echo("raters:")
    for rater in summary["raters"]:
        click.echo(f"  {rater['name']:<40} {rater['kind']:<6} {rater['labelled_segments']} labelled segments")
    click.echo("taxonomies:")
    for tax in summary["taxonomies"]:
        draft = " (draft)" if tax["draft"] else ""
        click.echo(f"  {tax['name']}@{tax['version']}{draft}: {tax['modes']} modes, {tax['labels']} labels")


from annotator.cli_taxonomy import taxonomy  # noqa: E402  (registered after the group exists)
from annotator.cli_export import export  # noqa: E402
from annotator.cli_gold import gold  # noqa: E402
from annotator.cli_report import report  # noqa: E402
from annotator.cli_serve import demo, serve, users  # noqa: E402
from annotator.cli_judge import judge  # noqa: E402

for command in (taxonomy, serve, demo, users, report, export, gold, judge):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="annotator")
    except BrokenPipeError:
        # Python's advice: point stdout at devnull so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
