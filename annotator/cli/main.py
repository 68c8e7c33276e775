"""The `annotator` command line. Each command parses its options and calls one service function.

Heavy libraries (litellm, sklearn, streamlit, pandas) are imported inside the commands that use
them, so `annotator --help` and `annotator stats` start fast.

Exit codes: 0 success; 1 an error the user can fix (a UserError, a database file that cannot be used, a
usage error), printed as one line on stderr; 2 an internal error (a bug): one line on stderr naming the
log file that holds its traceback. ANNOTATOR_DEBUG=1 lets every error raise with its traceback.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import click

from annotator.cli import baseline, collect, data, export, gold, judge, localise, plan, queue, report, serve, taxonomy
from annotator.core.errors import UserError

USER_EXIT = 1
BUG_EXIT = 2


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def _usage_in_one_line() -> Iterator[None]:
    """click's usage errors as one line with exit 1 (click uses 2, which here means a bug)."""
    try:
        yield
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.exit_code = USER_EXIT  # `annotator judge` alone: the help is the answer, as click shows it
        raise
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        raise click.ClickException(exc.format_message().rstrip(".") + hint) from None


def _db_path(ctx: click.Context) -> Path:
    """The database this command works on (a command such as `demo` may have chosen its own)."""
    if ctx.obj and ctx.obj.get("db"):
        return Path(ctx.obj["db"])
    return Path(ctx.params.get("db_path") or "annotator.db")


def _report_bug(ctx: click.Context, exc: Exception) -> NoReturn:
    """One line on stderr naming the log file that holds the traceback; exit 2."""
    from annotator.judge.redact import scrub
    from annotator.services import logs

    command = " ".join(filter(None, [ctx.command_path, ctx.invoked_subcommand]))
    path, failure = logs.log_bug(_db_path(ctx), f"internal error in `{command}`", exc)
    where = (f"traceback in {path}" if failure is None else
             f"no log: cannot write {path}: {first_line(failure)}; ANNOTATOR_DEBUG=1 shows the traceback")
    click.echo(f"internal error: {type(exc).__name__}: {scrub(first_line(exc))} ({where})", err=True)
    ctx.exit(BUG_EXIT)


class _Group(click.Group):
    """The top-level group: tells errors the user can fix (one line, exit 1) from bugs (exit 2, logged)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        with _usage_in_one_line():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            with _usage_in_one_line():
                return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise  # click reports these itself; a broken pipe (`| head`) is handled quietly in main()
        except Exception as exc:
            if os.environ.get("ANNOTATOR_DEBUG"):
                raise
            problem = self._user_error(ctx, exc)
            if problem is None:
                _report_bug(ctx, exc)
            raise click.ClickException(first_line(problem)) from None

    @staticmethod
    def _user_error(ctx: click.Context, exc: Exception) -> Exception | None:
        if isinstance(exc, UserError):
            return exc
        if isinstance(exc, sqlite3.Error):  # the file at fault is the database: name it
            from annotator.store.db import database_error

            return database_error(_db_path(ctx), exc)
        return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), envvar="ANNOTATOR_DB",
              default="annotator.db", show_default=True, help="SQLite database file (or $ANNOTATOR_DB).")
@click.version_option(package_name="mast-annotator")
@click.pass_context
def cli(ctx: click.Context, db_path: Path) -> None:
    """Label failure modes in multi-agent LLM traces and measure agreement between raters.

    Errors you can fix exit 1 with one line; internal errors exit 2 and leave their traceback in
    annotator-logs/annotator.log beside the database.
    """
    from annotator.services import logs

    source = ctx.get_parameter_source("db_path")
    ctx.obj = {"db": db_path, "db_chosen": source is not None and source.name != "DEFAULT"}
    logs.configure(db_path)  # the file is made only when something is logged


for command in (data.init, data.import_, data.stats, taxonomy.taxonomy, serve.serve, serve.demo, serve.users,
                report.report, export.export, gold.gold, judge.judge, plan.plan, localise.localise,
                collect.collect, queue.queue):
    cli.add_command(command)
judge.judge.add_command(baseline.baseline)  # `annotator judge baseline`, in its own module


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="annotator")
    except BrokenPipeError:
        # Python's advice: point stdout at devnull so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(USER_EXIT)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
