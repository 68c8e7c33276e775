"""`annotator taxonomy list|show`."""

from __future__ import annotations

import textwrap

import click


@click.group()
def taxonomy() -> None:
    """List and show taxonomy versions."""


@taxonomy.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Every taxonomy version in the database."""
    from annotator import store
    from annotator.cli import emit_json, open_db

    rows = store.list_taxonomies(open_db(ctx))
    if as_json:
        emit_json([{"name": t.name, "version": t.version, "modes": t.modes, "draft": t.is_draft,
                    "fingerprint": t.fingerprint, "labels": t.labels} for t in rows])
        return
    if not rows:
        click.echo("no taxonomies yet: run 'annotator init'")
    for t in rows:
        draft = "  (draft)" if t.is_draft else ""
        click.echo(f"{t.name}@{t.version:<16} {t.modes:>3} modes {t.labels:>8} labels  {t.fingerprint[:12]}{draft}")


@taxonomy.command()
@click.argument("ref", default="mast")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """The modes of NAME[@VERSION] (default: latest mast), grouped by category, with definitions."""
    from annotator import store
    from annotator.cli import emit_json, open_db

    tax = store.get_taxonomy(open_db(ctx), ref).taxonomy
    if as_json:
        emit_json({"name": tax.name, "version": tax.version, "fingerprint": tax.fingerprint,
                   "draft": tax.is_draft, "modes": [m.to_dict() for m in tax.modes]})
        return
    click.echo(f"{tax.ref}: {len(tax.modes)} modes" + ("  (draft)" if tax.is_draft else ""))
    for category, modes in tax.categories():
        click.echo(f"\n{category}")
        for m in modes:
            click.echo(f"  {m.code}  {m.name}")
            click.echo(textwrap.fill(m.definition, width=96, initial_indent=" " * 8, subsequent_indent=" " * 8))
            if m.aliases:
                click.echo(f"        also called: {', '.join(m.aliases)}")
