"""Before/after: the full report from one database to JSON, by two checkouts, alternating in one run.

On a shared machine the load changes from minute to minute, so two benchmark runs minutes apart do
not compare; this builds the 700,000-label database once (``bench_agreement.py``'s data) and times
``report_for`` in fresh interpreters, alternating the two checkouts ``--rounds`` times, best of each.

    git archive <before-commit> | tar -x -C /tmp/before
    python benchmarks/bench_report_ab.py --before /tmp/before [--units 10000] [--modes 14] [--rounds 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMER = """
import json, sys, time
sys.path.insert(0, {checkout!r})
from annotator import store
from annotator.services.report import report_for
best = float("inf")
for _ in range(3):
    start = time.perf_counter()
    db = store.connect({db!r})
    json.dumps(report_for(db, taxonomy={taxonomy!r}, bootstrap=1000, seed=0))
    best = min(best, time.perf_counter() - start)
    db.conn.close()
print(best)
"""


def time_checkout(checkout: Path, db: Path, taxonomy: str) -> float:
    code = TIMER.format(checkout=str(checkout), db=str(db), taxonomy=taxonomy)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=db.parent)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="A checkout of the code before the change.")
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--modes", type=int, default=14)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(args.after))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_agreement import generate, to_database

    label_set = generate(args.units, 0, args.modes)
    n, r, m = label_set.shape
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ab.db"
        taxonomy = to_database(label_set, db)
        print(f"{n} units x {m} modes x {r} raters = {n * m * r:,} labels; full report (1,000 resamples) to JSON, "
              f"best of 3 per round, {args.rounds} rounds alternating")
        times: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(args.rounds):
            for name, checkout in (("before", args.before), ("after", args.after)):
                times[name].append(time_checkout(checkout, db, taxonomy))
        for name, values in times.items():
            print(f"{name}: best {min(values):.3f} s, median {sorted(values)[len(values) // 2]:.3f} s "
                  f"({', '.join(f'{v:.2f}' for v in values)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
