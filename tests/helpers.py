"""Small helpers shared by tests (not fixtures: those live in conftest.py)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

# The checkout holding these tests. Only for files that exist in a checkout and not in an installed
# package (the real MAST data beside it, the demo-data build script); the code under test is always
# the installed `annotator`.
CHECKOUT = Path(__file__).resolve().parent.parent
MAST_HUMAN = CHECKOUT.parent / "shared" / "datasets" / "mast" / "MAD_human_labelled_dataset.json"


def db_fingerprint(path: Path) -> str:
    """A hash of every row of every table: equal before and after means nothing changed."""
    if not Path(path).exists():
        return "absent"
    conn = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


def new_db(path: Path) -> Path:
    """An empty annotator database at `path`, as `annotator init` makes it before adding its taxonomy."""
    from annotator import store

    store.connect(path, create=True).conn.close()
    return path


def run_cli(*args: str, db: Path | None = None, env: dict | None = None):
    """Run the CLI in-process; returns click's Result (exit_code, stdout, stderr, output).

    A `db` that does not exist yet is set up first (new_db), as a user's `annotator init` would: only init
    makes a database, and these tests are about the command they run (tests/test_bad_input.py checks that
    the commands refuse a missing one)."""
    from annotator.cli.main import cli

    if db is not None and not Path(db).exists() and args[:1] not in (("init",), ("demo",)):
        new_db(Path(db))
    argv = (["--db", str(db)] if db else []) + list(args)
    return CliRunner().invoke(cli, argv, env=env, catch_exceptions=False)


def run_annotator(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120):
    """The real command line in a fresh interpreter, as a user runs it, from `cwd` (never the checkout,
    whose `annotator/` folder would shadow the installed package)."""
    import os

    return subprocess.run([sys.executable, "-m", "annotator", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=timeout, check=False)


def wait_until(read, *, until=bool, timeout: float, what: str, interval: float = 0.05):
    """Poll `read()` until `until(value)` holds, and return that value; after `timeout` seconds fail, naming
    `what` and the last value read. For waiting on state outside this process (a database, a server, a
    thread): the timeout is a generous ceiling, never the expected wait."""
    deadline = time.monotonic() + timeout
    while not until(value := read()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not so after {timeout} s; last seen: {value!r}")
        time.sleep(interval)
    return value


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


ALL_CODES = ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3"]


def labels_with(*positive: str) -> dict[str, int]:
    """A full MAST label set with the given codes positive."""
    return {code: int(code in positive) for code in ALL_CODES}
