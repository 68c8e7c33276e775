"""How long the Annotate page keeps an annotator waiting, on a large database.

Builds (once, cached at --db) a database with 100,000 segments and 1,000,000 labels, then measures:

- submit -> next segment ready: the store/service calls the page makes when she presses Submit
  (open a connection, write labels + submission, find or claim her next segment, load it with its
  neighbours, metadata, her list position and progress), over --submits submits;
- a plain page rerun: the same minus the write (session check + load the current segment);
- the same two through Streamlit itself (AppTest running the real page script), fewer times, which adds
  building every element of the page to the database time;
- a fragment rerun (ticking a mode), which touches no database.

Run: python benchmarks/bench_app.py [--db PATH] [--submits 300] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from annotator import store
from annotator.core.taxonomy import load_taxonomy
from annotator.services import annotate
from annotator.services.annotate import Choice

TRACES, TURNS = 10_000, 9  # + one whole-trace segment each: 100,000 segments
RATERS = 4  # human raters who already labelled, in two pairs (k = 2)
BENCH_HISTORY = 2_000  # segments the measured annotator labelled before, that no partner has taken yet
LABEL_SETS = 1_000_000 // 14 + 1  # 1,000,000 labels = 71,429 label sets of 14 modes, hers included
WORDS = ("plan", "call", "tool", "result", "verify", "agent", "answer", "error", "retry", "file", "test", "step")


def _turn(rng: random.Random, t: int, i: int) -> str:
    return f"Agent{i % 3}: " + " ".join(rng.choice(WORDS) for _ in range(45)) + f" (trace {t}, turn {i})\n"


def build(path: Path) -> None:
    """100,000 segments; 4 annotators in two pairs and the measured one: 1,000,000 labels."""
    rng = random.Random(0)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = store.connect(path)
    store.save_taxonomy(db, load_taxonomy("mast"))
    t0 = time.perf_counter()
    with store.write(db):
        for t in range(TRACES):
            turns = [_turn(rng, t, i) for i in range(TURNS)]
            text, offsets, pos = "".join(turns), [], 0
            for i, body in enumerate(turns):
                offsets.append(store.SegmentInput("turn", i, "turn", pos, pos + len(body), f"Agent{i % 3}"))
                pos += len(body)
            whole = store.SegmentInput("trace", 0, "trace", 0, len(text), queued=False)
            store.insert_trace(db, store.TraceInput(f"bench-{t}", text, "bench", "jsonl", framework="Bench",
                                                    tags={"round": str(t % 3)}, segments=[whole, *offsets]))
    print(f"built {TRACES * (TURNS + 1):,} segments in {time.perf_counter() - t0:.1f} s")
    tax = store.get_taxonomy(db, "mast")
    mode_ids = list(tax.mode_ids.values())
    for name in [f"rater{r}" for r in range(RATERS)] + ["bench"]:
        store.add_user(db, name, "annotator")
    store.save_settings(db, k=2)
    t0 = time.perf_counter()
    raters = [u.rater_id for u in store.list_users(db) if u.name.startswith("rater")]
    bench = next(u.rater_id for u in store.list_users(db) if u.name == "bench")
    per_rater = (LABEL_SETS - BENCH_HISTORY) // RATERS + 1
    for rater_id, n in [(r, per_rater) for r in raters] + [(bench, BENCH_HISTORY)]:
        claimed = store.claim(db, rater_id, k=2, n=n)  # one call: its cursor keeps a long batch linear
        for start in range(0, len(claimed), 1000):  # labels in batches: one huge transaction spills the cache
            with store.write(db):
                for seg in claimed[start:start + 1000]:
                    values = {m: int(rng.random() < 0.12) for m in mode_ids}
                    store.write_labels(db, store.LabelWrite(seg, rater_id, tax.id, values))
                    store.mark_submitted(db, rater_id, seg, "done")
    n_labels = db.execute("SELECT COUNT(*) FROM labels").fetchone()[0]
    print(f"wrote {n_labels:,} labels in {time.perf_counter() - t0:.1f} s")
    db.conn.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(name: str, samples_ms: list[float]) -> None:
    print(f"{name:<52} n={len(samples_ms):>4}  median {statistics.median(samples_ms):7.2f} ms"
          f"   p95 {percentile(samples_ms, 95):7.2f} ms   max {max(samples_ms):7.2f} ms")


def bench_service(path: Path, submits: int) -> None:
    rng = random.Random(1)
    db = store.connect(path, migrate=False)
    bench = next(u for u in store.list_users(db) if u.name == "bench")
    token_hash = db.execute("SELECT token_hash FROM users WHERE id = ?", [bench.id]).fetchone()[0]
    codes = list(store.get_taxonomy(db, "mast").mode_ids)
    view = annotate.load_view(db, bench)
    db.conn.close()
    submit_ms, rerun_ms = [], []
    for _ in range(submits):
        t0 = time.perf_counter()
        db = store.connect(path, migrate=False)  # the page opens one connection per run
        store.session_user(db, bench.id, token_hash)
        annotate.submit(db, bench, view.segment.id, Choice(frozenset(rng.sample(codes, rng.randint(1, 2)))))
        view = annotate.load_view(db, bench)
        db.conn.close()
        submit_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        db = store.connect(path, migrate=False)
        store.session_user(db, bench.id, token_hash)
        annotate.load_view(db, bench, view.segment.id)
        db.conn.close()
        rerun_ms.append((time.perf_counter() - t0) * 1000)
    report("submit -> next segment ready (service calls)", submit_ms)
    report("plain page rerun (service calls)", rerun_ms)


def bench_streamlit(path: Path, runs: int) -> None:
    """The real page script through AppTest (adds building all elements; AppTest has its own overhead)."""
    from streamlit.testing.v1 import AppTest

    os.environ["ANNOTATOR_DB"] = str(path)
    db = store.connect(path, migrate=False)
    token = store.reset_token(db, "bench")
    db.conn.close()
    at = AppTest.from_file(str(REPO / "annotator" / "app" / "main.py"), default_timeout=60)
    at.query_params["token"] = token
    at.run()
    rerun_ms, submit_ms, tick_ms = [], [], []
    for i in range(runs):
        t0 = time.perf_counter()
        at.run()
        rerun_ms.append((time.perf_counter() - t0) * 1000)
        box = next(c for c in at.checkbox if c.label.startswith(("1.1 ", "2.2 ")[i % 2]))
        t0 = time.perf_counter()
        box.check().run()
        tick_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        next(b for b in at.button if b.label == "Submit").click().run()
        submit_ms.append((time.perf_counter() - t0) * 1000)
        assert not at.exception, at.exception
    report("submit -> next segment shown (AppTest, whole page)", submit_ms)
    report("plain page rerun (AppTest, whole page)", rerun_ms)
    report("tick a mode: fragment rerun (AppTest)", tick_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/annotator-bench.db"))
    parser.add_argument("--submits", type=int, default=300)
    parser.add_argument("--page-runs", type=int, default=40)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    if args.rebuild or not args.db.exists():
        build(args.db)
    db = store.connect(args.db)
    counts = db.execute("SELECT (SELECT COUNT(*) FROM segments), (SELECT COUNT(*) FROM labels)").fetchone()
    db.conn.close()
    print(f"database: {args.db} ({counts[0]:,} segments, {counts[1]:,} labels, "
          f"{args.db.stat().st_size / 1e6:.0f} MB); python {sys.version.split()[0]}, {os.cpu_count()} cores")
    bench_service(args.db, args.submits)
    bench_streamlit(args.db, args.page_runs)


if __name__ == "__main__":
    main()
