"""Coverage of the `judge compare` intervals, by simulation (issue 10, item 2; BENCHMARKS.md).

1. Precision, recall and F1 of a judge against a reference, per mode (Agresti-Coull, as shipped in
   annotator.core.agreement.judgeintervals.score_intervals). The reference marks a mode with prevalence
   p; the judge has sensitivity se and specificity sp. A dataset is one multinomial table (tp, fp, fn,
   tn) of n segments, a sufficient statistic for these intervals. Truth: precision p se / (p se +
   (1 - p)(1 - sp)), recall se, F1 2PR / (P + R). A dataset counts for a score when the score is defined.
2. The change in kappa between two judge runs on the same segments: the paired Dirichlet posterior
   shipped for independent segments (judgeintervals.paired_change_interval, called on each dataset's
   8-cell table) and the paired percentile bootstrap shipped for trace resampling. Segments are
   "hard" with probability 0.3; on hard segments both judges err more often, so their errors are
   correlated (what pairing is for). Each segment is one of 8 (reference, judge 1, judge 2) cells;
   the truth is kappa(reference, judge 2) - kappa(reference, judge 1) of the cell probabilities.
   Resampling n segments with replacement is one multinomial draw from the dataset's own 8-cell
   proportions, so all datasets of a cell are bootstrapped at once; a few cells are also run through
   judge_intervals itself (the shipped code) to show the shortcut agrees.
   A dataset counts when both kappas are defined on it.

    nice -n 19 .venv/bin/python benchmarks/bench_judge_coverage.py [--reps 4000] [--delta-reps 1000] [--write]

``--write`` replaces the section of BENCHMARKS.md between its two marker comments.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.core.agreement.bootstrap import percentile_interval
from annotator.core.agreement.judgeintervals import judge_intervals, paired_change_interval, score_intervals
from annotator.core.agreement.pairwise import kappa_from_counts

ROOT = Path(__file__).resolve().parent.parent
SCORE_GRID = {"n": (20, 50, 200, 1000), "prevalence": (0.02, 0.05, 0.15, 0.40),
              "judge": ((0.6, 0.95), (0.9, 0.98))}  # (sensitivity, specificity)
DELTA_GRID = {"n": (50, 200, 1000), "prevalence": (0.05, 0.15, 0.40),
              "judges": (((0.75, 0.95), (0.85, 0.97)), ((0.8, 0.96), (0.8, 0.96)))}  # (accuracy on present, absent)
HARD_SHARE, HARD_FACTOR = 0.3, 4.0  # 30% of segments are hard; there a judge errs 4 times as often
START, END = "<!-- bench_judge_coverage:start -->", "<!-- bench_judge_coverage:end -->"


def score_truth(p: float, se: float, sp: float) -> dict[str, float]:
    precision = p * se / (p * se + (1 - p) * (1 - sp))
    return {"precision": precision, "recall": se, "f1": 2 * precision * se / (precision + se)}


def score_coverage(n: int, p: float, se: float, sp: float, *, reps: int, rng: np.random.Generator) -> dict:
    cells = np.array([p * se, (1 - p) * (1 - sp), p * (1 - se), (1 - p) * sp])  # tp, fp, fn, tn
    tp, fp, fn, _ = rng.multinomial(n, cells, size=reps).T
    truth = score_truth(p, se, sp)
    out = {}
    for name, (low, high) in score_intervals(tp, fp, fn).items():
        defined = ~np.isnan(low)
        covered = (low[defined] <= truth[name]) & (truth[name] <= high[defined])
        width = high[defined] - low[defined]
        out[name] = {"defined": int(defined.sum()), "coverage": float(covered.mean()) if defined.any() else None,
                     "median_width": float(np.median(width)) if defined.any() else None,
                     "zero_width": int((width <= 0).sum())}
    return out


def _joint(p: float, judge1: tuple[float, float], judge2: tuple[float, float]) -> np.ndarray:
    """P(reference, judge 1, judge 2) over the 8 cells (index 4 ref + 2 j1 + j2), errors correlated by hardness.

    A judge's accuracy on present (absent) segments is its first (second) figure on average; on hard
    segments its error rate is HARD_FACTOR times the one on easy segments, for both judges at once, so
    their errors are correlated. Given the reference and the hardness, the judges err independently.
    """
    joint = np.zeros(8)
    for ref, p_ref in ((1, p), (0, 1 - p)):
        errors = [1 - (j[0] if ref else j[1]) for j in (judge1, judge2)]
        # Average error = HARD_SHARE * hard + (1 - HARD_SHARE) * easy, with hard = HARD_FACTOR * easy.
        easy = [e / (HARD_SHARE * HARD_FACTOR + 1 - HARD_SHARE) for e in errors]
        for share, scale in ((HARD_SHARE, HARD_FACTOR), (1 - HARD_SHARE, 1.0)):
            e1, e2 = (min(1.0, e * scale) for e in easy)
            for a1 in (0, 1):
                for a2 in (0, 1):
                    prob = (e1 if a1 != ref else 1 - e1) * (e2 if a2 != ref else 1 - e2)
                    joint[4 * ref + 2 * a1 + a2] += p_ref * share * prob
    return joint


def _kappas(tables: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kappa of (reference, judge 1) and (reference, judge 2) from 8-cell tables (..., 8)."""
    t = tables.reshape(*tables.shape[:-1], 2, 2, 2).astype(np.float64)  # ref, j1, j2
    out = []
    for axis in (-1, -2):  # sum out the other judge
        m = t.sum(axis=axis)  # (..., ref, judge)
        out.append(kappa_from_counts(m[..., 1, 1], m[..., 1, 0], m[..., 0, 1], m[..., 0, 0]))
    return out[0], out[1]


def delta_coverage(n: int, p: float, judges, *, reps: int, resamples: int, rng: np.random.Generator) -> dict:
    joint = _joint(p, *judges)
    k1, k2 = _kappas(joint)
    truth = float(k2 - k1)
    tables = rng.multinomial(n, joint, size=reps)
    e1, e2 = _kappas(tables)
    defined = ~np.isnan(e1) & ~np.isnan(e2)
    tables = tables[defined]
    draws = rng.multinomial(n, tables / n, size=(resamples, len(tables)))  # (B, reps, 8)
    b1, b2 = _kappas(draws)
    bootstrap = percentile_interval(b2 - b1)[:2]
    chunks = [paired_change_interval(tables[i:i + 100], seed=i) for i in range(0, len(tables), 100)]
    dirichlet = tuple(np.concatenate([c[k] for c in chunks]) for k in range(2))
    out = {"truth": truth, "defined": int(defined.sum())}
    for name, (low, high) in (("dirichlet", dirichlet), ("bootstrap", bootstrap)):
        ok = ~np.isnan(low)
        covered = (low[ok] <= truth) & (truth <= high[ok])
        out[name] = (float(covered.mean()) if ok.any() else None,
                     float(np.median(high[ok] - low[ok])) if ok.any() else None)
    return out


def shipped_delta_coverage(n: int, p: float, judges, *, reps: int, resamples: int, seed: int) -> dict:
    """The same on units, through judge_intervals itself (slow: a few cells only)."""
    rng = np.random.default_rng(seed)
    joint = _joint(p, *judges)
    k1, k2 = _kappas(joint)
    truth, covered, used = float(k2 - k1), 0, 0
    for rep in range(reps):
        cells = rng.choice(8, size=n, p=joint)
        ref, j1, j2 = (cells >> 2) & 1, (cells >> 1) & 1, cells & 1
        if np.isnan(kappa_from_counts(*_cells(ref, j1))) or np.isnan(kappa_from_counts(*_cells(ref, j2))):
            continue
        ci = judge_intervals(ref[:, None], np.stack([j1, j2])[:, :, None], n_resamples=resamples, seed=rep,
                             independent=False)
        low, high = ci["kappa_change"][0][1, 0], ci["kappa_change"][1][1, 0]
        used += 1
        covered += bool(low <= truth <= high)
    return {"truth": truth, "defined": used, "coverage": covered / used if used else None}


def _cells(ref: np.ndarray, judge: np.ndarray) -> tuple[int, int, int, int]:
    return (int(((ref == 1) & (judge == 1)).sum()), int(((ref == 1) & (judge == 0)).sum()),
            int(((ref == 0) & (judge == 1)).sum()), int(((ref == 0) & (judge == 0)).sum()))


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _width(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def machine() -> str:
    return (f"{datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}, {platform.platform()}, "
            f"{os.cpu_count()} cores (nproc), Python {platform.python_version()}, NumPy {np.__version__}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=4000, help="datasets per cell for precision, recall, F1")
    parser.add_argument("--delta-reps", type=int, default=1000, help="datasets per cell for the kappa change")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples per dataset")
    parser.add_argument("--shipped-reps", type=int, default=300, help="datasets per cell through judge_intervals")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    lines = ["#### Precision, recall and F1 per mode (Agresti-Coull)", "",
             f"{args.reps} datasets per cell; coverage of the 95% interval (median width); datasets where the score "
             "is undefined are left out.", "",
             "| n | prevalence | judge (se, sp) | precision | recall | F1 | zero-width |",
             "|---|---|---|---|---|---|---|"]
    worst = {}
    for n in SCORE_GRID["n"]:
        for p in SCORE_GRID["prevalence"]:
            for se, sp in SCORE_GRID["judge"]:
                result = score_coverage(n, p, se, sp, reps=args.reps, rng=rng)
                cells = [f"{_pct(r['coverage'])} ({_width(r['median_width'])})" for r in result.values()]
                zero = sum(r["zero_width"] for r in result.values())
                lines.append(f"| {n} | {p:.0%} | ({se}, {sp}) | " + " | ".join(cells) + f" | {zero} |")
                for name, r in result.items():
                    if r["coverage"] is not None and r["defined"] >= 100:
                        worst[name] = min(worst.get(name, 1.0), r["coverage"])
    lines += ["", "Lowest coverage over cells with at least 100 defined datasets: "
              + ", ".join(f"{k} {_pct(v)}" for k, v in worst.items()) + ".", ""]
    lines += ["#### Change in kappa between two judge runs (paired)", "",
              f"{args.delta_reps} datasets per cell; judges given as (accuracy on present, on absent); errors "
              "correlated through hard segments (30% of segments, 4x the error rate). Coverage (median width) of the "
              "paired Dirichlet posterior (shipped per mode for independent segments) and of the paired percentile "
              f"bootstrap ({args.resamples} resamples; shipped with trace resampling and for the mean over modes; "
              "resamples where a kappa is undefined are left out).", "",
              "| n | prevalence | judge 1 -> judge 2 | true change | Dirichlet | bootstrap | datasets used |",
              "|---|---|---|---|---|---|---|"]
    for n in DELTA_GRID["n"]:
        for p in DELTA_GRID["prevalence"]:
            for judges in DELTA_GRID["judges"]:
                r = delta_coverage(n, p, judges, reps=args.delta_reps, resamples=args.resamples, rng=rng)
                cells = " | ".join(f"{_pct(r[m][0])} ({_width(r[m][1])})" for m in ("dirichlet", "bootstrap"))
                lines.append(f"| {n} | {p:.0%} | {judges[0]} -> {judges[1]} | {r['truth']:+.3f} | {cells} "
                             f"| {r['defined']} |")
                for m in ("dirichlet", "bootstrap"):
                    if r[m][0] is not None:
                        worst[m] = min(worst.get(m, 1.0), r[m][0])
    lines += ["", f"Lowest coverage: Dirichlet {_pct(worst['dirichlet'])}, bootstrap {_pct(worst['bootstrap'])}.", "",
              f"The bootstrap through `judge_intervals` itself on units (trace path, {args.shipped_reps} datasets, 500 "
              "resamples each), to show the table shortcut above measures the shipped code:", ""]
    for n, p, judges in ((200, 0.15, DELTA_GRID["judges"][0]), (50, 0.40, DELTA_GRID["judges"][1])):
        r = shipped_delta_coverage(n, p, judges, reps=args.shipped_reps, resamples=500, seed=args.seed)
        lines.append(f"- n {n}, prevalence {p:.0%}, {judges[0]} -> {judges[1]}: coverage {_pct(r['coverage'])} "
                     f"of {r['defined']} datasets")
    lines += ["", f"Measured {machine()}, seed {args.seed}, {time.perf_counter() - started:.0f} s "
              "(`nice -n 19`, machine shared)."]
    text = "\n".join(lines)
    print(text)
    if args.write:
        path = ROOT / "BENCHMARKS.md"
        current = path.read_text(encoding="utf-8")
        if START in current:
            head, rest = current.split(START, 1)
            current = head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1]
        else:
            current = current.rstrip("\n") + "\n\n" + START + "\n" + text + "\n" + END + "\n"
        path.write_text(current, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
