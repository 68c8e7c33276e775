"""`annotator serve`, `annotator demo` and `annotator users`."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import click

APP = Path(__file__).resolve().parents[1] / "app" / "main.py"
DEFAULT_URL = "http://127.0.0.1:8501/"


def streamlit_command(host: str, port: int) -> list[str]:
    """The Streamlit server command: headless, no usage statistics, no file watcher, no dev tools."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--global.developmentMode", "false", "--server.runOnSave", "false",
        "--client.toolbarMode", "viewer",
    ]


def server_env(db_path: Path) -> dict[str, str]:
    """The server's environment: the database, and this package importable from the app script
    (Streamlit puts only the script's own folder on sys.path)."""
    package_root = str(APP.parents[2])
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "ANNOTATOR_DB": str(Path(db_path).resolve()), "PYTHONPATH": path}


def run_server(db_path: Path, host: str, port: int) -> None:
    env = server_env(db_path)
    click.echo(f"serving {db_path} on http://{host}:{port}/  (Ctrl+C stops)")
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(streamlit_command(host, port), env=env, check=False)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8501, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Start the web app on the database."""
    from annotator.cli.common import open_db

    open_db(ctx)  # create and migrate before the server starts
    run_server(ctx.obj["db"], host, port)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8501, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Build the demo database and stop.")
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, no_serve: bool) -> None:
    """Build a fresh demo database from the bundled data, print demo accounts, and serve it."""
    from annotator.services.demo import build_demo

    # Never rebuild ./annotator.db behind the user's back: the demo has its own file unless --db names one.
    db_path = ctx.obj["db"] if ctx.obj["db_chosen"] else Path("annotator-demo.db")
    accounts = build_demo(db_path, base_url=f"http://{host}:{port}/")
    click.echo(f"demo database: {db_path}")
    for account in accounts:
        click.echo(f"  {account.role:<9} {account.name:<6} link: {account.link}")
    if not no_serve:
        run_server(db_path, host, port)


@click.group()
def users() -> None:
    """Manage app users and their access tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", default="annotator", show_default=True, type=click.Choice(["annotator", "reviewer", "admin"]))
@click.option("--url", default=DEFAULT_URL, show_default=True, envvar="ANNOTATOR_URL", help="The app's address.")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, url: str) -> None:
    """Add a user; prints a one-time access token and a sign-in link (store them now)."""
    from annotator import store
    from annotator.cli.common import open_db

    token = store.add_user(open_db(ctx), name, role)
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

    token = store.reset_token(open_db(ctx), name)
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
