"""Peak memory and JSON size of `annotator report --format json` as the number of raters grows (issue 15).

Writes a MAST-like JSON Lines file (``--traces`` traces of a few turns each, every rater labelling every
trace on the 14 MAST modes, seen through the rater's own sensitivity and specificity of a latent truth),
imports it into a fresh database (``--segment trace`` or ``turn``: trace-level labels live on the
whole-trace segment either way) and runs the report in a child process under ``/usr/bin/time -v``, whose
"Maximum resident set size" is the peak RSS. ``--checkout DIR`` runs another checkout's CLI on the same
database (before/after in one run); ``--pairs`` is passed to the report when given.

    python benchmarks/bench_report_memory.py --raters 10,50,150 [--traces 40] [--bootstrap 1000]
        [--checkout /tmp/before] [--pairs all|none|auto] [--limit-gb 8]

``--limit-gb`` caps the child's address space (``ulimit -v``) so that a quadratic run on a shared machine
fails with MemoryError instead of taking the machine's memory; such a run is reported as "over the cap".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MAST_CODES = ("1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3")
# Per-mode prevalence of "present", roughly the spread MAST reports (rare to common modes).
PREVALENCE = np.array([0.35, 0.08, 0.17, 0.05, 0.12, 0.03, 0.10, 0.07, 0.02, 0.04, 0.14, 0.06, 0.25, 0.09])
RUN = ("import sys; sys.path.insert(0, {checkout!r}); sys.argv[0] = 'annotator'; "
       "from annotator.cli.main import main; main()")


def write_traces(path: Path, *, raters: int, traces: int, seed: int, turns: int = 6) -> None:
    """``traces`` JSONL records with ``turns`` messages each and labels from ``raters`` people."""
    rng = np.random.default_rng(seed)
    truth = rng.random((traces, len(MAST_CODES))) < PREVALENCE
    sensitivity = rng.uniform(0.70, 0.95, size=(raters, len(MAST_CODES)))
    false_positive = rng.uniform(0.01, 0.06, size=(raters, len(MAST_CODES)))
    with path.open("w", encoding="utf-8") as out:
        for t in range(traces):
            draw = rng.random((raters, len(MAST_CODES)))
            said = np.where(truth[t], draw < sensitivity, draw < false_positive).astype(int)
            labels = {f"rater{r:03d}": dict(zip(MAST_CODES, said[r].tolist())) for r in range(raters)}
            messages = [{"name": ("planner", "coder", "critic")[i % 3], "role": "assistant",
                         "content": f"step {i} of trace {t}: " + "work " * 20} for i in range(turns)]
            out.write(json.dumps({"id": f"trace-{t:03d}", "messages": messages,
                                  "metadata": {"framework": "bench", "benchmark": "memory"}, "labels": labels}) + "\n")


def cli(checkout: Path, db: Path, *args: str, limit_kb: int | None = None) -> subprocess.CompletedProcess:
    """Run the checkout's `annotator` CLI on ``db`` under /usr/bin/time -v (and ulimit -v when capped)."""
    command = [sys.executable, "-c", RUN.format(checkout=str(checkout)), "--db", str(db), *args]
    timed = ["/usr/bin/time", "-v", *command]
    if limit_kb:
        timed = ["bash", "-c", f'ulimit -v {limit_kb} && exec "$@"', "capped", *timed]
    return subprocess.run(timed, capture_output=True, text=True, check=False)


def peak_mb(stderr: str) -> float:
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    return int(match.group(1)) / 1024 if match else float("nan")


def measure(checkout: Path, raters: int, args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        traces, db, report = Path(tmp) / "traces.jsonl", Path(tmp) / "bench.db", Path(tmp) / "report.json"
        write_traces(traces, raters=raters, traces=args.traces, seed=args.seed)
        for step in (["init"], ["import", str(traces), "--segment", args.segment]):
            done = cli(ROOT, db, *step)
            if done.returncode:
                raise SystemExit(f"{' '.join(step)} failed: {done.stderr.strip().splitlines()[-1]}")
        options = ["report", "--format", "json", "--out", str(report), "--bootstrap", str(args.bootstrap)]
        if args.pairs:
            options += ["--pairs", args.pairs]
        start = time.perf_counter()
        done = cli(checkout, db, *options, limit_kb=int(args.limit_gb * 2**20) if args.limit_gb else None)
        seconds = time.perf_counter() - start
        size = f"{report.stat().st_size / 1e6:.2f} MB" if report.exists() else "-"
        outcome = "ok" if done.returncode == 0 else ("over the cap (MemoryError)" if "MemoryError" in done.stderr
                                                     else f"exit {done.returncode}")
        return (f"{raters:>4} raters  {raters * (raters - 1) // 2:>6} pairs  input {traces.stat().st_size / 1e6:.2f} MB"
                f"  peak RSS {peak_mb(done.stderr):8.0f} MB  JSON {size:>10}  {seconds:6.1f} s  {outcome}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", default="10,50,150", help="comma-separated rater counts")
    parser.add_argument("--traces", type=int, default=40)
    parser.add_argument("--segment", default="turn", choices=["trace", "turn"])
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose report is measured")
    parser.add_argument("--pairs", choices=["all", "none", "auto"], default=None)
    parser.add_argument("--limit-gb", type=float, default=None, help="cap the report's address space")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cores; "
          f"checkout {args.checkout}; {args.traces} traces, --segment {args.segment}, --bootstrap {args.bootstrap}"
          + (f", --pairs {args.pairs}" if args.pairs else ""))
    for raters in (int(x) for x in args.raters.split(",")):
        print(measure(args.checkout, raters, args), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
