"""What every command shares: the database it opens, JSON output, K=V tags."""

from __future__ import annotations

import json
import math
from pathlib import Path
from urllib.parse import urlsplit

import click

SQLITE_MAX_INT = 2**63 - 1
ROW_ID = click.IntRange(min=1, max=SQLITE_MAX_INT)  # ids beyond SQLite's integers are no row, not a crash
SEED = click.IntRange(min=0, max=SQLITE_MAX_INT)  # numpy wants >= 0; seeds are stored with splits and runs
# Resamples are held per pair and mode: a mistyped 10**20 would exhaust memory instead of failing.
MAX_BOOTSTRAP = 100_000
BOOTSTRAP = click.IntRange(min=0, max=MAX_BOOTSTRAP)
# Labels submitted as unsure: the choices are services.report.UNSURE_CHOICES, spelled out so --help needs no numpy.
UNSURE = click.option("--unsure", default="exclude", show_default=True, type=click.Choice(["exclude", "include"]),
                      help="Labels a rater submitted as unsure: left out (unsure is not a label) or counted.")


def open_db(ctx: click.Context):
    """Connect to the database chosen by --db / $ANNOTATOR_DB / ./annotator.db, which `init` made
    (a missing or empty file is refused, and left as it was; an older annotator's is migrated)."""
    from annotator import store

    return store.open_existing(ctx.obj["db"])


def emit_json(document: object) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def emit_text(text: str, out: Path | None, *, what: str) -> None:
    """Print `text`, or write it to `out` and say so on stderr: `wrote OUT (what)`."""
    if out is None:
        click.echo(text)
        return
    from annotator.core.errors import about_file

    with about_file(out, doing="write"):
        out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out} ({what})", err=True)


def parse_tags(values: tuple[str, ...]) -> dict[str, str]:
    tags = {}
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not K=V", param_hint="--tag")
        tags[key.strip()] = tag_value.strip()
    return tags


class FiniteNumber(click.ParamType):
    """A finite number at least `low` (above it when `above`): `inf` and `nan` are refused.

    click's FloatRange lets both through (nan compares false with every bound).
    """

    name = "number"

    def __init__(self, low: float = 0.0, *, above: bool = False):
        self.low, self.above = low, above

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        too_low = number <= self.low if self.above else number < self.low
        if not math.isfinite(number) or too_low:
            bound = f"{'>' if self.above else '>='} {self.low:g}"
            self.fail(f"{value!r} is not a finite number {bound}", param, ctx)
        return number



def check_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An http(s) URL with a host, or nothing (a typo would otherwise be sent to litellm as a host name)."""
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{value!r} is not an http:// or https:// URL with a host", ctx, param)
    return value.strip()


def non_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Text that must say something (a name recorded with the data)."""
    if value is not None and not value.strip():
        raise click.BadParameter("must not be empty", ctx, param)
    return value.strip() if value is not None else None
