"""Coverage of 95% intervals for Cohen's kappa, by simulation (the grid of issue 10, in BENCHMARKS.md).

Two raters with equal marginals: for prevalence p and kappa k the cells are both p^2 + k p(1-p),
each disagreement p(1-p)(1-k), neither (1-p)^2 + k p(1-p). Each dataset is one multinomial table of
n units (the table is a sufficient statistic for every method here). Datasets where kappa is
undefined (both raters constant on the same value) are left out of the coverage and counted.

Grids:
1. the target grid, n in {20, 50, 200, 1000} x prevalence in {1, 2, 5, 15, 40}% x kappa in {0.2, 0.5,
   0.8}: every method, ``--reps`` datasets per cell (the percentile bootstrap, which is slow, on a
   subset of cells with ``--bootstrap-reps`` datasets);
2. a check grid of other cells and another seed, never used to choose the method;
3. a few cells with unequal marginals (rater bias), where Cohen's kappa and the intraclass kappa
   differ.

    nice -n 19 .venv/bin/python benchmarks/bench_coverage.py [--reps 4000] [--write]

``--write`` replaces the coverage section of BENCHMARKS.md (between its two marker comments).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.core.agreement import intervals
from annotator.core.agreement.pairwise import kappa_from_counts
from annotator.core.agreement.planning import percentile_from_counts as percentile_bootstrap
from annotator.core.agreement.simulation import cell_probabilities, draw_tables, interval_coverage

ROOT = Path(__file__).resolve().parent.parent
GRID = {"n": (20, 50, 200, 1000), "prevalence": (0.01, 0.02, 0.05, 0.15, 0.40), "kappa": (0.2, 0.5, 0.8)}
CHECK = {"n": (25, 80, 300, 2000), "prevalence": (0.015, 0.04, 0.1, 0.3, 0.5), "kappa": (0.1, 0.3, 0.6, 0.9)}
BIASED = [(n, pa, pb, k) for n in (50, 200) for pa, pb in ((0.05, 0.10), (0.20, 0.35)) for k in (0.3, 0.6)]
BIASED += [(n, 0.05, 0.30, 0.2) for n in (200, 1000)]  # a judge that flags six times as often as the person
BOOTSTRAP_SUBSET = {"n": (20, 50, 200), "kappa": (0.5,)}  # every prevalence
IN_BAND, FLOOR = (0.925, 0.975), 0.915
START, END = "<!-- bench_coverage:start -->", "<!-- bench_coverage:end -->"


def dirichlet_candidate(lower: tuple[float, float], upper: tuple[float, float], *, widen: bool):
    return functools.partial(intervals.dirichlet_interval, prior=(lower, upper), widen=widen)


METHODS = {
    "dirichlet (default)": intervals.dirichlet_interval,
    "goodness-of-fit (Donner-Eliasziw)": intervals.goodness_of_fit_interval,
    "Jeffreys 2x2 (1/2 each cell)": dirichlet_candidate((0.5, 1.0), (0.5, 1.0), widen=False),
    "Jeffreys trinomial (1/2, 1/4, 1/4, 1/2)": dirichlet_candidate((0.5, 0.5), (0.5, 0.5), widen=False),
    "as default, agreement 1/2 in the upper limit": dirichlet_candidate((0.5, 0.75), (0.5, 0.5), widen=True),
    "percentile bootstrap": percentile_bootstrap,
}
CHECK_METHODS = ("dirichlet (default)", "goodness-of-fit (Donner-Eliasziw)", "Jeffreys 2x2 (1/2 each cell)")


def cells_of(grid: dict) -> list[tuple]:
    return [(n, p, k) for n in grid["n"] for p in grid["prevalence"] for k in grid["kappa"]]


def run_grid(cells: list[tuple], methods: dict, *, reps: int, seed: int, bootstrap_reps: int = 0,
             biased: bool = False) -> list[dict]:
    """One row per cell: datasets, defined datasets and, per method, coverage and median width."""
    rows = []
    for index, cell in enumerate(cells):
        rng = np.random.default_rng([seed, index])
        if biased:
            n, pa, pb, k = cell
            probabilities = cell_probabilities(pa, k, pb)
        else:
            n, pa, k = cell
            probabilities = cell_probabilities(pa, k)
        tables = draw_tables(n, probabilities, reps, rng)
        defined = int((~np.isnan(kappa_from_counts(*tables.T))).sum())
        row = {"cell": cell, "datasets": reps, "defined": defined, "results": {}}
        for name, method in methods.items():
            if name != "percentile bootstrap":
                row["results"][name] = interval_coverage(tables, method, k)
            elif bootstrap_reps and n in BOOTSTRAP_SUBSET["n"] and k in BOOTSTRAP_SUBSET["kappa"]:
                row["results"][name] = interval_coverage(tables[:bootstrap_reps], method, k)
        rows.append(row)
        print(format_row(row, list(methods)), flush=True)
    return rows


def format_result(result: dict | None) -> str:
    if result is None:
        return "-"
    if result["coverage"] is None:
        return "n/a"
    zero = f" ({result['zero_width']} zero-width)" if result["zero_width"] else ""
    return f"{100 * result['coverage']:.1f} / {result['median_width']:.2f}{zero}"


def format_row(row: dict, names: list[str]) -> str:
    cell = " | ".join(f"{x:g}" for x in row["cell"])
    results = " | ".join(format_result(row["results"].get(name)) for name in names)
    return f"| {cell} | {row['datasets'] - row['defined']} | {results} |"


def summary(rows: list[dict], name: str) -> dict | None:
    results = [row["results"][name] for row in rows if name in row["results"]]
    coverages = np.array([r["coverage"] for r in results if r["coverage"] is not None])
    if not len(coverages):
        return None
    widths = np.array([r["median_width"] for r in results if r["coverage"] is not None])
    return {"cells": len(coverages), "min": coverages.min(), "max": coverages.max(),
            "in_band": int(((coverages >= IN_BAND[0]) & (coverages <= IN_BAND[1])).sum()),
            "below_floor": int((coverages < FLOOR).sum()), "above_band": int((coverages > IN_BAND[1]).sum()),
            "zero_width": sum(r["zero_width"] for r in results), "width_min": widths.min(), "width_max": widths.max()}


def summary_table(rows: list[dict], names: list[str]) -> list[str]:
    header = ("| method | cells | min coverage | cells in 92.5-97.5% | below 91.5% | above 97.5% | "
              "zero-width intervals | median widths |")
    lines = [header, "|---|---|---|---|---|---|---|---|"]
    for name in names:
        s = summary(rows, name)
        if s is None:
            continue
        lines.append(f"| {name} | {s['cells']} | {100 * s['min']:.1f}% | {s['in_band']} of {s['cells']} | "
                     f"{s['below_floor']} | {s['above_band']} | {s['zero_width']} | "
                     f"{s['width_min']:.2f} to {s['width_max']:.2f} |")
    return lines


def grid_table(rows: list[dict], names: list[str], columns: str) -> list[str]:
    header = f"| {columns} | undefined datasets | " + " | ".join(names) + " |"
    return [header, "|" + "---|" * (header.count("|") - 1)] + [format_row(row, names) for row in rows]


def machine() -> str:
    return (f"{datetime.date.today().isoformat()}, {platform.platform()}, {os.cpu_count()} cores (nproc), "
            f"Python {platform.python_version()}, NumPy {np.__version__}")


def write_section(path: Path, text: str) -> None:
    current = path.read_text(encoding="utf-8")
    block = f"{START}\n{text.rstrip()}\n{END}"
    if START in current and END in current:
        head, rest = current.split(START, 1)
        current = head + block + rest.split(END, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    path.write_text(current, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=4000, help="datasets per cell")
    parser.add_argument("--bootstrap-reps", type=int, default=1000, help="datasets per cell for the bootstrap")
    parser.add_argument("--check-reps", type=int, default=2000, help="datasets per cell of the check grid")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args(argv)
    names = list(METHODS)
    print(machine())
    started = time.perf_counter()
    grid = run_grid(cells_of(GRID), METHODS, reps=args.reps, seed=args.seed, bootstrap_reps=args.bootstrap_reps)
    check_methods = {name: METHODS[name] for name in CHECK_METHODS}
    check = run_grid(cells_of(CHECK), check_methods, reps=args.check_reps, seed=args.seed + 1)
    biased = run_grid(BIASED, check_methods, reps=args.check_reps, seed=args.seed + 2, biased=True)
    elapsed = time.perf_counter() - started
    intro = (f"{machine()}; {elapsed / 60:.0f} min at `nice -n 19` on a shared machine. Cell = coverage of the "
             "95% interval in % / median width. Two raters with equal marginals (prevalence p, kappa k: both "
             "p^2 + k p(1-p), each disagreement p(1-p)(1-k)); datasets where kappa is undefined are left out and "
             "counted. Monte Carlo standard error of a coverage near 95%: "
             f"{100 * np.sqrt(0.95 * 0.05 / args.reps):.2f} points at {args.reps} datasets per cell.")
    target = (f"#### Target grid ({args.reps} datasets per cell, seed {args.seed}; percentile bootstrap: "
              f"{args.bootstrap_reps} datasets, 1000 resamples, n in {BOOTSTRAP_SUBSET['n']}, kappa 0.5)")
    text = "\n".join([
        "### Measured grids (generated by `bench_coverage.py --write`)", "", intro, "", target, "",
        *summary_table(grid, names), "", *grid_table(grid, names, "n | prevalence | kappa"), "",
        f"#### Check grid (other cells, seed {args.seed + 1}, {args.check_reps} datasets per cell)", "",
        *summary_table(check, list(CHECK_METHODS)), "",
        *grid_table(check, list(CHECK_METHODS), "n | prevalence | kappa"), "",
        f"#### Unequal marginals (rater bias; {args.check_reps} datasets per cell)", "",
        *grid_table(biased, list(CHECK_METHODS), "n | prevalence a | prevalence b | Cohen's kappa"),
    ])
    print("\n" + text)
    if args.write:
        write_section(ROOT / "BENCHMARKS.md", text)
        print("wrote BENCHMARKS.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
