"""`annotator export labels|gold|segments`."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("kind", type=click.Choice(["labels", "gold", "segments", "audit"]))
@click.option("--format", "fmt", default="csv", show_default=True, type=click.Choice(["csv", "jsonl"]))
@click.option("--taxonomy", default=None, metavar="NAME[@VERSION]", help="Only labels/gold of this taxonomy version.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
@click.pass_context
def export(ctx: click.Context, kind: str, fmt: str, taxonomy: str | None, out: Path | None) -> None:
    """Export labels (with rater, kind, taxonomy version, rationale, times), gold labels, segments, or the
    audit log (who changed gold, taxonomies, settings and users, and when)."""
    from annotator.cli.common import open_db
    from annotator.core.errors import about_file
    from annotator.services.exports import write_export

    db = open_db(ctx)
    if out is None:
        write_export(db, kind, fmt, sys.stdout, taxonomy=taxonomy)
        return
    partial = out.with_name(out.name + ".partial")  # never leave a half-written file under the real name
    with about_file(out, doing="write"):
        with open(partial, "w", encoding="utf-8", newline="") as handle:
            count = write_export(db, kind, fmt, handle, taxonomy=taxonomy)
        partial.replace(out)
    click.echo(f"wrote {out}: {count} {kind} rows ({fmt})", err=True)
