"""`annotator init`, `import` and `stats`: the database and what goes into it."""

from __future__ import annotations

from pathlib import Path

import click

from annotator.cli.common import FiniteNumber, emit_json, open_db, parse_tags


@click.command()
@click.option("--taxonomy", "taxonomy_source", default="mast", show_default=True,
              help="Built-in taxonomy name (mast) or a YAML/JSON taxonomy file.")
@click.pass_context
def init(ctx: click.Context, taxonomy_source: str) -> None:
    """Create the database (if needed) and add a taxonomy: the only command that makes one."""
    from annotator import store
    from annotator.core.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(taxonomy_source)
    db = store.connect(ctx.obj["db"], create=True)  # an empty file, or one annotator made; any other is refused
    store.save_taxonomy(db, taxonomy)
    click.echo(f"{ctx.obj['db']}: ready with taxonomy {taxonomy.ref} ({len(taxonomy.modes)} modes)")


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", "mad-human", "mad", "jsonl", "text", "otel", "openinference", "ag2-log",
                                 "langfuse", "langsmith", "openai-agents", "who-and-when", "agentrx"]),
              help="who-and-when and agentrx take a folder (or, for who-and-when, one file).")
@click.option("--segment", "scheme", default=None, metavar="trace|turn|window:N",
              help="How to cut each trace into segments to label [default: turn for span formats "
                   "(otel, openinference, langfuse...), ag2-log, who-and-when and agentrx, else trace].")
@click.option("--group", default="trace", show_default=True, type=click.Choice(["trace", "session"]),
              help="Span formats: one trace per trace id, or one per session id.")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Tag every imported trace (repeatable).")
@click.option("--ground-truth", type=click.Path(path_type=Path), default=None,
              help="AgentRx: the ground-truth file for the trajectories folder.")
@click.option("--max-trace-mb", default=20.0, show_default=True, type=FiniteNumber(0.0, above=True),
              help="Refuse traces larger than this.")
@click.pass_context
def import_(ctx: click.Context, paths: tuple[Path, ...], fmt: str, scheme: str | None, group: str,
            tags: tuple[str, ...], ground_truth: Path | None, max_trace_mb: float) -> None:
    """Import trace files. Each file is imported all or nothing; re-importing adds nothing."""
    from annotator.ingest import import_file

    tag_map = parse_tags(tags)
    db = open_db(ctx)
    for path in paths:
        result = import_file(db, path, fmt=fmt, scheme=scheme, tags=tag_map, max_trace_mb=max_trace_mb,
                             group=group, ground_truth=ground_truth)
        click.echo(f"{result.path}: {result.format}, {result.traces_added} new of {result.traces_seen} traces, "
                   f"{result.labels_added} labels added (segments: {result.scheme})")
        _echo_localisation_summary(result)
        for ref in result.taxonomies_added:
            click.echo(f"  taxonomy version added: {ref}")
        for first, again in result.duplicates:
            click.echo(f"  note: records {first} and {again} have the same trace body")
        for note, count in result.notes.items():
            click.echo(f"  note: {count} {note}")


def _echo_localisation_summary(result) -> None:
    """What a step-level dataset import adds: localisations, counted warnings, category spellings mapped."""
    if result.format not in ("who-and-when", "agentrx"):
        return
    click.echo(f"  localisations added or changed: {result.localisations_added} (reference rater {result.format})")
    for kind, count in sorted(result.warnings.items()):
        shown = ", ".join(result.warning_examples.get(kind, []))
        click.echo(f"  warning: {kind}: {count} (e.g. {shown})")
    for spelling, canonical, count in result.mapped_spellings:
        click.echo(f"  category spelling mapped: {spelling!r} -> {canonical!r} ({count})")


@click.command()
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
