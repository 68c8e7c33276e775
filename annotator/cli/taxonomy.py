"""`annotator taxonomy list|show`."""

from __future__ import annotations

import textwrap

import click

from annotator.cli.common import BOOTSTRAP
from annotator.core.report.fmt import fmt_flags, fmt_number


@click.group()
def taxonomy() -> None:
    """List and show taxonomy versions."""


@taxonomy.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Every taxonomy version in the database."""
    from annotator import store
    from annotator.cli.common import emit_json, open_db

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
    from annotator.cli.common import emit_json, open_db

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


@taxonomy.command()
@click.argument("base")
@click.argument("changes_file", type=click.Path(dir_okay=False, exists=True))
@click.option("--version", "version", default=None, help="Version of the new taxonomy (default: the next free one).")
@click.pass_context
def refine(ctx: click.Context, base: str, changes_file: str, version: str | None) -> None:
    """Make a new version of BASE from a YAML file of changes; carry labels and gold over.

    Changes: edit (definition), rename, add, retire, merge (OR of the old labels), split (segments
    where the old mode was present go back to the annotators). See the README for the file format.
    """
    from annotator.cli.common import open_db
    from annotator.services.refine import load_changes, refine_taxonomy

    changes, file_version = load_changes(changes_file)
    done = refine_taxonomy(open_db(ctx), base, changes, version=version or file_version)
    click.echo(f"{done.taxonomy} made from {done.parent}: {done.labels_carried} labels carried "
               f"({done.labels_stale} marked as given under an old definition), {done.gold_carried} gold labels "
               f"carried, {len(done.relabel_segments)} segments back in the annotators' queue")


def _report_options(fn):
    fn = click.option("--tag", "tags", multiple=True, metavar="K=V", help="Only traces with this tag.")(fn)
    return click.option("--bootstrap", default=200, show_default=True, type=BOOTSTRAP)(fn)


@taxonomy.command()
@click.argument("ref", default="mast")
@_report_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ambiguous(ctx: click.Context, ref: str, tags: tuple[str, ...], bootstrap: int, as_json: bool) -> None:
    """Modes ranked by human-human kappa, with the modes each is confused with and example segments."""
    from annotator.cli.common import emit_json, open_db, parse_tags
    from annotator.services.taxonomy_agreement import ambiguous as ambiguous_modes

    rows = ambiguous_modes(open_db(ctx), ref, tags=parse_tags(tags), bootstrap=bootstrap)
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        flags = f"  [{fmt_flags(row['flags'])}]" if row["flags"] else ""
        click.echo(f"{row['code']:<6} kappa {fmt_number(row['human_kappa']):>5}  {row['name']}{flags}")
        for partner in row["confused_with"]:
            click.echo(f"         confused with {partner['mode']}: {partner['count']} times "
                       f"(rate {fmt_number(partner['rate'])}), e.g. segments {', '.join(partner['examples'])}")
        if row["contested_examples"]:
            click.echo(f"         contested segments: {', '.join(row['contested_examples'])}")


@taxonomy.command()
@click.argument("before")
@click.argument("after")
@_report_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def compare(ctx: click.Context, before: str, after: str, tags: tuple[str, ...], bootstrap: int, as_json: bool) -> None:
    """Mean pairwise kappa among people per mode, before and after a refinement (AFTER refined from BEFORE).

    Judges and gold are left out: the figure is the one the Taxonomy page shows for the same versions.
    """
    from annotator.cli.common import emit_json, open_db, parse_tags
    from annotator.services.taxonomy_agreement import refinement_comparison

    rows = refinement_comparison(open_db(ctx), before, after, tags=parse_tags(tags), bootstrap=bootstrap)
    if as_json:
        emit_json(rows)
        return
    click.echo(f"{'mode':<8}{'change':<8}{'from':<14}{'before':>14}{'after':>8}")
    for row in rows:
        click.echo(f"{row['code']:<8}{row['change']:<8}{','.join(row['from']):<14}"
                   f"{'/'.join(fmt_number(k) for k in row['kappa_before']) or '-':>14}"
                   f"{fmt_number(row['kappa_after']):>8}")
