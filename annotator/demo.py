"""The bundled demo: a fresh database with synthetic traces, three annotators' labels, a recorded judge
run, majority gold labels, and accounts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from annotator import store
from annotator.ingest import import_file
from annotator.taxonomy import DATA_DIR, load_taxonomy

DEMO_DIR = DATA_DIR / "demo"
DEMO_TRACES = DEMO_DIR / "traces.jsonl"
DEMO_JUDGE_RESPONSES = DEMO_DIR / "judge_responses.jsonl"
DEMO_ACCOUNTS = (("alice", "annotator"), ("rita", "reviewer"), ("lead", "admin"))
DEMO_K = 2  # each demo segment goes to two annotators
DEMO_HANDED_OUT = 12  # segments alice finds in her list at once (more are claimed as she goes)


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    token: str
    link: str


def _fresh(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def build_demo(db_path: str | Path, *, base_url: str = "http://127.0.0.1:8501/") -> list[Account]:
    """Recreate `db_path` from the bundled demo data; return the demo accounts with sign-in links."""
    if not DEMO_TRACES.is_file():
        raise FileNotFoundError(f"{DEMO_TRACES}: demo data not found (install from a checkout: pip install -e .)")
    db_path = Path(db_path)
    _fresh(db_path)
    db = store.connect(db_path)
    store.save_taxonomy(db, load_taxonomy("mast"))
    import_file(db, DEMO_TRACES, fmt="jsonl", scheme="trace")
    _record_judge_and_gold(db)
    accounts = []
    for name, role in DEMO_ACCOUNTS:
        token = store.add_user(db, name, role)
        accounts.append(Account(name, role, token, f"{base_url}?token={token}"))
    # The demo's three annotators are done, so the reveal phase is open: the Review page has work at once.
    # (A real project opens it on the Data page when its annotators have finished.)
    store.save_settings(db, k=DEMO_K, reveal=True)
    store.assign_to_pool(db, DEMO_HANDED_OUT)
    db.conn.close()
    return accounts


def _record_judge_and_gold(db) -> None:
    """Replay the recorded judge answers through the real judge path (no network), then build gold,
    so the Agreement page and the judge lab have something to show at once."""
    from annotator.gold import build_gold
    from annotator.judge import record_demo_run

    record_demo_run(db, DEMO_JUDGE_RESPONSES)
    build_gold(db, strategy="majority")
