"""`annotator serve`, `annotator demo` and `annotator users`.

`serve` and `demo` run Streamlit as a supervised child (cli/server_process.py): a busy port is one line and
exit 1, the URL is printed once the server answers, and Ctrl+C or SIGTERM stops everything (exit 0).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

APP = Path(__file__).resolve().parents[1] / "app" / "launch" / "streamlit_app.py"
DEFAULT_URL = "http://127.0.0.1:8501/"
log = logging.getLogger(__name__)


# Streamlit keeps an uploaded file in memory (its default limit, 200 MB a file, let signed-out tabs
# push the server past 1 GB); a websocket message may not exceed the second bound either.
MAX_UPLOAD_MB = 50
MAX_MESSAGE_MB = 50


def streamlit_command(host: str, port: int) -> list[str]:
    """The Streamlit server command: headless, no usage statistics, no file watcher, no dev tools,
    uploads and messages bounded."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--global.developmentMode", "false", "--server.runOnSave", "false",
        "--client.toolbarMode", "viewer",
        "--server.maxUploadSize", str(MAX_UPLOAD_MB), "--server.maxMessageSize", str(MAX_MESSAGE_MB),
    ]


def server_env(db_path: Path) -> dict[str, str]:
    """The server's environment: ours, and the database (the app imports this package as installed)."""
    return {**os.environ, "ANNOTATOR_DB": str(Path(db_path).resolve())}


def run_server(db_path: Path, host: str, port: int, *, on_ready: Callable[[], None] | None = None) -> None:
    """Serve until SIGINT or SIGTERM (then return: exit 0); ServerError when it cannot start or dies.

    `on_ready` prints what the user needs once the server answers (the demo's sign-in links).
    """
    from annotator.cli.server_process import (
        ServerError,
        ServerProcess,
        check_port_free,
        probe_url,
        stop_on_signals,
        url_for,
    )

    check_port_free(host, port)
    server = ServerProcess(streamlit_command(host, port), server_env(db_path))
    with stop_on_signals() as stop:
        server.start()
        try:
            if not server.wait_healthy(probe_url(host, port), stop):
                return
            if on_ready is not None:
                on_ready()
            click.echo(f"serving {db_path} on {url_for(host, port)}  (Ctrl+C stops)")
            log.info("server for %s started on %s (pid %d)", db_path, url_for(host, port), server.proc.pid)
            code = server.wait(stop)
        finally:
            server.stop()
    if code is not None:
        log.warning("server for %s stopped by itself (exit code %d)", db_path, code)
        raise ServerError(f"the server stopped (exit code {code}): {server.last_words() or 'it said nothing'}")
    log.info("server for %s stopped", db_path)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Start the web app on the database; Ctrl+C stops it."""
    from annotator.cli.common import open_db
    from annotator.cli.server_process import check_port_free

    check_port_free(host, port)  # before anything else: a busy port is the likeliest failure
    open_db(ctx)  # refuse a missing database (init makes it) and migrate an older one before the server starts
    run_server(ctx.obj["db"], host, port)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Build the demo database and stop.")
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, no_serve: bool) -> None:
    """Build a fresh demo database from the bundled data, print demo accounts, and serve it."""
    from annotator.cli.server_process import check_port_free, url_for
    from annotator.services.demo import build_demo

    # Never rebuild ./annotator.db behind the user's back: the demo has its own file unless --db names one.
    db_path = ctx.obj["db"] if ctx.obj["db_chosen"] else Path("annotator-demo.db")
    ctx.obj["db"] = db_path  # errors name this file
    if not no_serve:
        check_port_free(host, port)  # before the build, which takes a while
    accounts = build_demo(db_path, base_url=url_for(host, port))

    def show_accounts() -> None:
        click.echo(f"demo database: {db_path}")
        for account in accounts:
            click.echo(f"  {account.role:<9} {account.name:<6} link: {account.link}")

    if no_serve:
        show_accounts()
    else:
        run_server(db_path, host, port, on_ready=show_accounts)


@click.group()
def users() -> None:
    """Manage app users and their access tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", default="annotator", show_default=True, type=click.Choice(["annotator", "reviewer", "admin"]))
@click.option("--url", default=DEFAULT_URL, show_default=True, envvar="ANNOTATOR_URL", help="The app's address.")
@click.option("--as-rater", is_flag=True,
              help="NAME is an imported rater: sign in as it (submissions replace its imported labels).")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, url: str, as_rater: bool) -> None:
    """Add a user; prints a one-time access token and a sign-in link (store them now)."""
    from annotator import store
    from annotator.cli.common import open_db
    from annotator.services import admin

    token = admin.add_user(open_db(ctx), store.LOCAL_ADMIN, name, role, as_rater=as_rater)
    click.echo(f"user {name} ({role}) added; the token is shown only now")
    click.echo(f"token: {token}")
    click.echo(f"link: {url}?token={token}")


@users.command("reset")
@click.argument("name")
@click.option("--url", default=DEFAULT_URL, show_default=True, envvar="ANNOTATOR_URL", help="The app's address.")
@click.pass_context
def users_reset(ctx: click.Context, name: str, url: str) -> None:
    """Give a user a new token; the old one stops working."""
    from annotator import store
    from annotator.cli.common import open_db
    from annotator.services import admin

    token = admin.reset_token(open_db(ctx), store.LOCAL_ADMIN, name)
    click.echo(f"token: {token}")
    click.echo(f"link: {url}?token={token}")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """Users and roles (tokens are never shown again)."""
    from annotator import store
    from annotator.cli.common import open_db

    for user in store.list_users(open_db(ctx)):
        click.echo(f"{user.name:<24} {user.role:<10} {'active' if user.active else 'disabled'}")
