"""Agreement report on 10,000 units x 14 modes x 5 raters (700k labels), 1,000 bootstrap resamples.

Measures, in the same run:
1. ``compute_report`` (every mode, every rater pair, pooled, multi-rater, co-confusion) with
   1,000 percentile-bootstrap resamples: wall time (best of ``--repeat``) and peak memory.
2. The naive baseline: resample unit indices and call scikit-learn's ``cohen_kappa_score`` in a
   Python loop for every (resample, mode, pair). It is far too slow to run in full, so it runs on
   ``--baseline-resamples`` resamples and is extrapolated linearly to the full count (said so in
   the output). The baseline computes only the bootstrap kappas, i.e. less than the report.

    python benchmarks/bench_agreement.py [--units 10000] [--bootstrap 1000] [--baseline-resamples 20]

``--modes M`` (default 14) uses a synthetic taxonomy of M modes (prevalences cycling through those
below); ``--units 1400 --modes 100`` is the same 700k labels on a 100-mode taxonomy, past the 62 modes
one packed SQLite integer holds. ``--baseline-resamples 0`` skips the baseline.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.core.agreement import LabelSet, compute_report

# Per-mode prevalence of "present", roughly the spread MAST reports (rare to common modes).
PREVALENCE = np.array([0.35, 0.08, 0.17, 0.05, 0.12, 0.03, 0.10, 0.07, 0.02, 0.04, 0.14, 0.06, 0.25, 0.09])
RATERS = ("ann", "bob", "cyd", "dee", "judge:model@0123456789ab")
KINDS = ("human", "human", "human", "human", "judge")


def generate(n_units: int, seed: int, n_modes: int = len(PREVALENCE)) -> LabelSet:
    """Raters see a latent truth through their own sensitivity and specificity, so they are
    correlated with each other (kappa roughly 0.4 to 0.8) and differ per mode and rater."""
    rng = np.random.default_rng(seed)
    n_raters = len(RATERS)
    truth = rng.random((n_units, 1, n_modes)) < np.resize(PREVALENCE, n_modes)
    sensitivity = rng.uniform(0.70, 0.95, size=(1, n_raters, n_modes))
    false_positive = rng.uniform(0.01, 0.06, size=(1, n_raters, n_modes))
    draw = rng.random((n_units, n_raters, n_modes))
    values = np.where(truth, draw < sensitivity, draw < false_positive).astype(np.int8)
    values[rng.random(values.shape) < 0.01] = -1  # 1% not labelled
    modes = tuple((f"{1 + k // 5}.{1 + k % 5}", f"mode {k}", f"category {k // 5}") for k in range(n_modes))
    return LabelSet(tuple(f"seg-{i}" for i in range(n_units)), RATERS, KINDS, modes, values)


def time_report(label_set: LabelSet, n_resamples: int, repeat: int) -> tuple[float, dict]:
    best, report = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        report = compute_report(label_set, bootstrap=n_resamples, seed=0)
        best = min(best, time.perf_counter() - start)
    return best, report


def peak_traced_mb(label_set: LabelSet, n_resamples: int) -> float:
    """Peak Python/numpy heap during one report (tracemalloc sees numpy's allocations)."""
    tracemalloc.start()
    compute_report(label_set, bootstrap=n_resamples, seed=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def time_naive_baseline(label_set: LabelSet, n_resamples: int, seed: int) -> float:
    """sklearn cohen_kappa_score per (resample, mode, pair) on the resampled units both labelled."""
    from sklearn.metrics import cohen_kappa_score

    n, r, m = label_set.shape
    pairs = [(a, b) for a in range(r) for b in range(a + 1, r)]
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_resamples):
            resampled = label_set.values[rng.integers(0, n, size=n)]
            for k in range(m):
                for a, b in pairs:
                    x, y = resampled[:, a, k], resampled[:, b, k]
                    keep = (x >= 0) & (y >= 0)
                    cohen_kappa_score(x[keep], y[keep], labels=[0, 1])
    return time.perf_counter() - start


def bench_taxonomy(n_modes: int):
    """MAST for 14 modes, else a synthetic taxonomy of ``n_modes``."""
    from annotator.core.taxonomy import Mode, Taxonomy, load_taxonomy

    if n_modes == len(PREVALENCE):
        return load_taxonomy("mast")
    return Taxonomy(name="bench", version=str(n_modes), modes=tuple(
        Mode(code=f"m{k}", name=f"mode {k}", category=f"category {k // 10}", definition="-") for k in range(n_modes)))


def to_database(label_set: LabelSet, path: Path) -> str:
    """Store the generated labels through the project's store: one whole-trace segment per unit.
    Returns the taxonomy's NAME@VERSION."""
    from annotator import store

    db = store.connect(path)
    tax = store.get_taxonomy_by_id(db, store.save_taxonomy(db, bench_taxonomy(label_set.shape[2])))
    mode_ids = [tax.mode_ids[m.code] for m in tax.taxonomy.modes]
    with store.write(db):
        raters = [store.ensure_rater(db, name, kind) for name, kind in zip(label_set.raters, label_set.rater_kinds)]
        for i, unit in enumerate(label_set.units):
            trace_id, _ = store.insert_trace(db, store.TraceInput(unit, f"trace {unit}", "bench", "text", segments=[
                store.SegmentInput("trace", 0, "trace", 0, 10)]))
            segment_id = store.trace_segment_id(db, trace_id)
            for r, rater_id in enumerate(raters):
                values = {mode_ids[k]: int(v) for k, v in enumerate(label_set.values[i, r]) if v >= 0}
                store.write_labels(db, store.LabelWrite(segment_id, rater_id, tax.id, values))
    db.conn.close()
    return tax.taxonomy.ref


def time_from_database(path: Path, n_resamples: int, repeat: int, taxonomy: str = "mast") -> tuple[float, int]:
    """Best wall time of: load labels from SQLite, compute the report, serialise it to JSON."""
    import json

    from annotator import store
    from annotator.services.report import report_for

    best, size = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        db = store.connect(path)
        size = len(json.dumps(report_for(db, taxonomy=taxonomy, bootstrap=n_resamples, seed=0)))
        best = min(best, time.perf_counter() - start)
        db.conn.close()
    return best, size


def print_baseline(label_set: LabelSet, args: argparse.Namespace, report_s: float, db_s: float) -> None:
    _, r, m = label_set.shape
    pairs = r * (r - 1) // 2
    naive_s = time_naive_baseline(label_set, args.baseline_resamples, args.seed)
    calls = args.baseline_resamples * m * pairs
    full_naive_s = naive_s * args.bootstrap / args.baseline_resamples
    print(f"naive baseline (sklearn cohen_kappa_score in a loop): {args.baseline_resamples} resamples x {m} modes "
          f"x {pairs} pairs = {calls:,} calls in {naive_s:.2f} s ({naive_s / calls * 1e3:.2f} ms per call)")
    print(f"  extrapolated linearly to {args.bootstrap} resamples: {full_naive_s:.1f} s (not run in full)")
    print(f"speed-up, database-to-JSON report over the extrapolated baseline: {full_naive_s / db_s:.0f}x")
    print(f"speed-up of compute_report over the extrapolated baseline: {full_naive_s / report_s:.0f}x "
          f"(the report also computes pooled, multi-rater and co-confusion figures; the baseline does not)")


def time_loader(path: Path, repeat: int, taxonomy: str) -> float:
    """Best wall time of loading the labels from SQLite into a LabelSet (the packed query and unpacking)."""
    from annotator import store

    best = float("inf")
    for _ in range(repeat):
        db = store.connect(path)
        start = time.perf_counter()
        store.load_label_set(db, store.get_taxonomy(db, taxonomy))
        best = min(best, time.perf_counter() - start)
        db.conn.close()
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--modes", type=int, default=len(PREVALENCE))
    parser.add_argument("--bootstrap", type=int, default=1_000)
    parser.add_argument("--baseline-resamples", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    label_set = generate(args.units, args.seed, args.modes)
    n, r, m = label_set.shape
    pairs = r * (r - 1) // 2
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cores")
    print(f"data: {n} units x {m} modes x {r} raters = {n * m * r:,} labels; {pairs} rater pairs")

    compute_report(label_set, bootstrap=10, seed=0)  # warm-up: imports, BLAS threads
    report_s, report = time_report(label_set, args.bootstrap, args.repeat)
    print(f"compute_report, {args.bootstrap} resamples, every mode and pair: {report_s:.3f} s (best of {args.repeat})")
    print(f"  peak traced memory during the report: {peak_traced_mb(label_set, args.bootstrap):.1f} MB "
          f"(the labels themselves: {label_set.values.nbytes / 2**20:.1f} MB)")

    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        build_start = time.perf_counter()
        taxonomy = to_database(label_set, db_path)
        print(f"stored in SQLite through the store in {time.perf_counter() - build_start:.0f} s "
              f"({db_path.stat().st_size / 1e6:.0f} MB)")
        db_s, json_bytes = time_from_database(db_path, args.bootstrap, args.repeat, taxonomy)
        print(f"full report from the database to JSON ({json_bytes / 1e6:.1f} MB): {db_s:.3f} s "
              f"(best of {args.repeat}; target < 3 s)")
        print(f"  of which loading the labels from SQLite: {time_loader(db_path, args.repeat, taxonomy):.3f} s "
              f"(best of {args.repeat})")

    if args.baseline_resamples:
        print_baseline(label_set, args, report_s, db_s)
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"example: mode {report['modes'][0]['code']} mean pairwise kappa "
          f"{report['modes'][0]['mean_pairwise_kappa']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
