"""Import of a generated ~200 MB file in the `mad` schema: wall time and peak memory.

Baseline, in the same run: `json.load` of the same file (what a naive importer would do first).
Each measurement runs in its own process so peak RSS is that step's alone.

    python benchmarks/bench_import.py [--mb 200] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CODES = ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3"]
SPEAKERS = ["Programmer", "Code Reviewer", "CEO", "CTO", "Tester", "user_proxy", "assistant"]
WORDS = [
    "the", "function", "returns", "a", "list", "of", "values", "and", "the", "reviewer", "asks", "for", "a", "test",
    "of", "edge", "cases", "before", "we", "can", "ship", "it", "so", "please", "run", "the", "suite", "again",
    "and", "report", "the", "failures", "you", "see",
]


def _trajectory(rng: random.Random, target_chars: int) -> str:
    parts, size = [], 0
    while size < target_chars:
        speaker = rng.choice(SPEAKERS)
        body = " ".join(rng.choices(WORDS, k=rng.randint(20, 400)))
        turn = f"[2025-01-01 12:00:00 INFO] **[{speaker}]**\n\n{body}\n\n"
        parts.append(turn)
        size += len(turn)
    return "".join(parts)


def generate(path: Path, total_mb: float, seed: int = 0) -> int:
    """Write ~total_mb of MAD-shaped records (1,642 of them for 200 MB, as the real file); return the count."""
    rng = random.Random(seed)
    n = max(1, round(1642 * total_mb / 200))
    mean_chars = int(total_mb * 1_000_000 / n)
    with open(path, "w", encoding="utf-8") as out:
        out.write("[")
        for i in range(n):
            record = {
                "mas_name": rng.choice(["ChatDev", "MetaGPT", "AG2", "HyperAgent"]), "llm_name": "gpt-4o",
                "benchmark_name": "ProgramDev", "trace_id": i,
                "trace": {"key": f"k{i}", "index": i,
                          "trajectory": _trajectory(rng, int(mean_chars * rng.uniform(0.3, 1.7)))},
                "mast_annotation": {c: rng.choice([0, 0, 0, 1, None]) for c in CODES},
            }
            out.write(("," if i else "") + json.dumps(record))
        out.write("]")
    return n


def _child(code: str) -> tuple[float, float]:
    """Run `code` in a fresh interpreter; return (wall seconds, peak RSS MB of that process)."""
    wrapped = code + "\nimport resource,sys; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    wall = time.perf_counter() - start
    return wall, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, db = Path(tmp) / "MAD_full_dataset.json", Path(tmp) / "bench.db"
        n = generate(data, args.mb)
        size_mb = data.stat().st_size / 1e6
        base_wall, base_rss = _child(f"import json; json.load(open({str(data)!r}))")
        imp_wall, imp_rss = _child(
            "from annotator import store; from annotator.ingest import import_file; "
            f"import_file(store.connect({str(db)!r}), {str(data)!r})")
        print(f"file: {size_mb:.0f} MB, {n} records (mad schema)")
        print(f"baseline json.load:    {base_wall:6.1f} s wall, {base_rss:6.0f} MB peak RSS")
        print(f"annotator import:      {imp_wall:6.1f} s wall, {imp_rss:6.0f} MB peak RSS")
        print(f"ratio import/json.load: {imp_wall / base_wall:.2f}x time, {imp_rss / base_rss:.2f}x memory")
        print(f"database: {db.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
