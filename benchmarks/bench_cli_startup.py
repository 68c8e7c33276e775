"""`annotator --help` and `annotator stats` on a database of 100k segments (target: under 1 s each).

Baseline in the same run: a bare `python -c pass`, so the figure can be read as a ratio on a noisy machine.

    python benchmarks/bench_cli_startup.py [--segments 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def build(db_path: Path, n_segments: int, segments_per_trace: int = 10, raters: int = 3) -> None:
    """Traces cut into turn segments, each segment labelled on every mode by `raters` humans."""
    from annotator import store
    from annotator.core.taxonomy import load_taxonomy

    db = store.connect(db_path)
    tax = store.get_taxonomy_by_id(db, store.save_taxonomy(db, load_taxonomy("mast")))
    rater_ids = [store.ensure_rater(db, f"r{i}", "human") for i in range(raters)]
    rng = random.Random(0)
    text = "turn text " * 30
    with store.write(db):
        for t in range(n_segments // segments_per_trace):
            step = len(text) // segments_per_trace
            segments = [store.SegmentInput("turn", i, "turn", i * step, (i + 1) * step)
                        for i in range(segments_per_trace)]
            trace_id, _ = store.insert_trace(db, store.TraceInput(f"t{t}", f"{t} {text}", "bench", "text",
                                                                  segments=segments))
            if t % 10 == 0:  # a tenth of the traces labelled, as in a project under way
                for seg in store.segments_of_trace(db, trace_id, "turn"):
                    for r in rater_ids:
                        values = {m: int(rng.random() < 0.1) for m in tax.mode_ids.values()}
                        store.write_labels(db, store.LabelWrite(seg.id, r, tax.id, values))
    db.conn.close()


def timed(args: list[str], repeat: int, env: dict) -> float:
    """Median wall seconds of running the command `repeat` times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.db"
        build(db, args.segments)
        base = timed([sys.executable, "-c", "pass"], args.repeat, env)
        helptime = timed([sys.executable, "-m", "annotator", "--help"], args.repeat, env)
        stats = timed([sys.executable, "-m", "annotator", "--db", str(db), "stats"], args.repeat, env)
        print(f"database: {args.segments} segments, {db.stat().st_size / 1e6:.0f} MB")
        print(f"python -c pass:     {base * 1000:6.0f} ms (baseline)")
        print(f"annotator --help:   {helptime * 1000:6.0f} ms ({helptime / base:.1f}x baseline)")
        print(f"annotator stats:    {stats * 1000:6.0f} ms ({stats / base:.1f}x baseline)")


if __name__ == "__main__":
    main()
