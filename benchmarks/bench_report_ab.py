"""Before/after: the full report from one database to JSON, by two checkouts, alternating in one run.

On a shared machine the load changes from minute to minute, so two benchmark runs minutes apart do
not compare; this builds the 700,000-label database once (``bench_agreement.py``'s data) and times
``report_for`` in fresh interpreters, alternating the two checkouts ``--rounds`` times. It reports wall
time and CPU time (``time.process_time``), with one BLAS thread in both so that CPU time counts work,
not threads spinning while they wait for a busy core: on a loaded machine CPU time is the comparison
to read. A checkout that refuses the data (e.g. more than 62 modes before issue 10) is reported as such.

    git archive <before-commit> | tar -x -C /tmp/before
    python benchmarks/bench_report_ab.py --before /tmp/before [--units 10000] [--modes 14] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
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
wall, cpu = float("inf"), float("inf")
for _ in range(3):
    start, start_cpu = time.perf_counter(), time.process_time()
    db = store.connect({db!r})
    json.dumps(report_for(db, taxonomy={taxonomy!r}, bootstrap=1000, seed=0))
    wall, cpu = min(wall, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
    db.conn.close()
print(wall, cpu)
"""
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def time_checkout(checkout: Path, db: Path, taxonomy: str) -> tuple[float, float] | str:
    """(best wall, best CPU) seconds of three reports, or the checkout's last error line."""
    code = TIMER.format(checkout=str(checkout), db=str(db), taxonomy=taxonomy)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=db.parent,
                         env={**os.environ, **ONE_THREAD})
    if out.returncode:
        return (out.stderr.strip().splitlines() or ["failed"])[-1]
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


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
        times: dict[str, list] = {"before": [], "after": []}
        for _ in range(args.rounds):
            for name, checkout in (("before", args.before), ("after", args.after)):
                times[name].append(time_checkout(checkout, db, taxonomy))
        for name, values in times.items():
            print(f"{name}: {summarise(values)}")
    return 0


def summarise(values: list) -> str:
    failed = [v for v in values if isinstance(v, str)]
    if failed:
        return f"refused: {failed[0]}"
    walls, cpus = sorted(v[0] for v in values), sorted(v[1] for v in values)
    return (f"CPU best {cpus[0]:.3f} s, median {cpus[len(cpus) // 2]:.3f} s; wall best {walls[0]:.3f} s, "
            f"median {walls[len(walls) // 2]:.3f} s ({len(values)} rounds)")


if __name__ == "__main__":
    raise SystemExit(main())
