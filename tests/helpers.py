"""Small helpers shared by tests (not fixtures)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner


def db_fingerprint(path: Path) -> str:
    """A hash of every row of every table: equal before and after means nothing changed."""
    if not Path(path).exists():
        return "absent"
    conn = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


def run_cli(*args: str, db: Path | None = None):
    """Run the CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    from annotator.cli.main import cli

    argv = (["--db", str(db)] if db else []) + list(args)
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


ALL_CODES = ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3"]


def labels_with(*positive: str) -> dict[str, int]:
    """A full MAST label set with the given codes positive."""
    return {code: int(code in positive) for code in ALL_CODES}
