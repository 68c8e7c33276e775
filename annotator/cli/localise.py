"""`annotator localise report`: agreement on where the decisive error is (turn and agent)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from annotator.cli.common import BOOTSTRAP, SEED


@click.group()
def localise() -> None:
    """Failure localisation: which agent made the decisive error, at which turn."""


@localise.command("report")
@click.option("--raters", default=None, metavar="A,B,...", help="Raters to compare (default: all who localised).")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Only traces with this tag (repeatable).")
@click.option("--k", "k", default=3, show_default=True, type=click.IntRange(0, 1000),
              help="Steps within +-k turns count as near agreement.")
@click.option("--bootstrap", default=1000, show_default=True, type=BOOTSTRAP,
              help="Trace resamples for the intervals (0: none).")
@click.option("--seed", default=0, show_default=True, type=SEED)
@click.option("--format", "fmt", default="md", show_default=True, type=click.Choice(["json", "md", "html"]))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
@click.pass_context
def report(ctx: click.Context, raters: str | None, tags: tuple[str, ...], k: int, bootstrap: int, seed: int,
           fmt: str, out: Path | None) -> None:
    """Localisation agreement of every pair of raters, and Who&When's accuracies against references."""
    from annotator.cli.common import open_db, parse_tags
    from annotator.core.errors import RefusedError, about_file
    from annotator.services.localisation_report import localisation_for

    names = [r.strip() for r in raters.split(",") if r.strip()] if raters else None
    section = localisation_for(open_db(ctx), raters=names, tags=parse_tags(tags), k=k, bootstrap=bootstrap, seed=seed)
    if section is None:
        raise RefusedError("no localisations for this selection (import Who&When or AgentRx, or label in the app)")
    text = _render(section, fmt)
    if out is None:
        click.echo(text)
        return
    with about_file(out, doing="write"):
        out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out} ({fmt}, {len(section['pairs'])} pairs)", err=True)


def _render(section, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(section, indent=2, ensure_ascii=False, allow_nan=False)
    if fmt == "html":
        from annotator.core.report.html import render_localisation_html

        return render_localisation_html(section)
    from annotator.core.report.markdown import localisation_markdown

    return "\n".join(["# Localisation agreement", "", *localisation_markdown(section)])
