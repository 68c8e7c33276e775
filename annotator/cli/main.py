"""The `annotator` command line. Each command parses its options and calls one service function.

Heavy libraries (litellm, sklearn, streamlit, pandas) are imported inside the commands that use
them, so `annotator --help` and `annotator stats` start fast.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import click

from annotator.cli import data, export, gold, judge, report, serve, taxonomy

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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), envvar="ANNOTATOR_DB",
              default="annotator.db", show_default=True, help="SQLite database file (or $ANNOTATOR_DB).")
@click.version_option(package_name="mast-annotator")
@click.pass_context
def cli(ctx: click.Context, db_path: Path) -> None:
    """Label failure modes in multi-agent LLM traces and measure agreement between raters."""
    source = ctx.get_parameter_source("db_path")
    ctx.obj = {"db": db_path, "db_chosen": source is not None and source.name != "DEFAULT"}


for command in (data.init, data.import_, data.stats, taxonomy.taxonomy, serve.serve, serve.demo, serve.users,
                report.report, export.export, gold.gold, judge.judge):
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
