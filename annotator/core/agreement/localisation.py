"""Agreement on failure localisation: do two raters put the decisive error on the same agent and turn?

Pure core (numpy only). A rater's answer on a trace is a :class:`Point`: the root cause's turn and agent
(and mode, where given) plus the turns of all its failures, or "no decisive error" (``step`` None).

For each pair of raters, over the traces both answered:

- how often they agree that there is a decisive error at all;
- over traces both localised (n): agent agreement (accuracy, and Cohen's kappa over agent names), step
  agreement exact, within +-1 and within +-k turns, the distribution of offsets (b's step minus a's),
  and, for traces where either gave several failures, the overlap of the failure sets (Jaccard index of
  their turns, averaged over those traces);
- each with a percentile interval from resampling traces (seeded; :mod:`.bootstrap`).

Against a reference (a dataset's labels or gold), Who&When's figures (Zhang et al., ICML 2025):
agent-level accuracy is the share of the reference's localised traces whose responsible agent the rater
names, step-level accuracy the share whose decisive step it names exactly; a trace the rater did not
localise counts as a miss, as in the benchmark, where every failure log is scored.

Undefined is None, never 0: a figure over no traces, kappa where both raters name one agent throughout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from annotator.core.agreement.bootstrap import bootstrap, percentile_interval

DEFAULT_K = 3


@dataclass(frozen=True)
class Point:
    """A rater's answer on one trace. ``step`` None: "no decisive error"."""

    step: int | None
    agent: str | None = None
    mode: str | None = None
    steps: frozenset[int] = frozenset()  # the turns of all its failures (the root cause's included)

    @property
    def localised(self) -> bool:
        return self.step is not None


Answers = Mapping[str, Point]  # trace key -> answer

# Columns of the per-trace indicator matrix, before the agents' one-hot columns.
_COLS = ("agent_eq", "step_eq", "within_1", "within_k", "overlap", "multi")
FIGURES = ("agent_accuracy", "agent_kappa", "step_exact", "step_within_1", "step_within_k", "failure_set_overlap")


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def kappa_from_sums(agree: np.ndarray, a_counts: np.ndarray, b_counts: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Cohen's kappa from (weighted) sums: agreements, each rater's counts per category, and n; NaN if undefined."""
    po = _ratio(agree, n)
    pe = _ratio((a_counts * b_counts).sum(axis=-1), n * n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isclose(pe, 1.0) | np.isnan(pe), np.nan, (po - pe) / (1 - pe))


def _turn(point: Point) -> int:
    """The step of a localised answer (callers pass only those)."""
    if point.step is None:
        raise ValueError("an answer without a decisive error has no step")
    return point.step


def _jaccard(a: Point, b: Point) -> float:
    sa, sb = a.steps or frozenset({_turn(a)}), b.steps or frozenset({_turn(b)})
    return len(sa & sb) / len(sa | sb)


def _indicators(pairs: list[tuple[Point, Point]], agents: list[str], k: int) -> np.ndarray:
    """One row per trace both localised: the _COLS columns, then one-hot agent of a, then of b."""
    index = {name: i for i, name in enumerate(agents)}
    rows = np.zeros((len(pairs), len(_COLS) + 2 * len(agents)))
    for r, (a, b) in enumerate(pairs):
        offset = abs(_turn(b) - _turn(a))
        multi = len(a.steps) > 1 or len(b.steps) > 1
        rows[r, :len(_COLS)] = (a.agent == b.agent, offset == 0, offset <= 1, offset <= k,
                                _jaccard(a, b) if multi else 0.0, multi)
        rows[r, len(_COLS) + index[str(a.agent)]] = 1
        rows[r, len(_COLS) + len(agents) + index[str(b.agent)]] = 1
    return rows


def _figures(sums: np.ndarray, n_agents: int) -> np.ndarray:
    """FIGURES from summed indicator columns (rows: resamples)."""
    n = sums[:, len(_COLS):len(_COLS) + n_agents].sum(axis=1)
    a_counts = sums[:, len(_COLS):len(_COLS) + n_agents]
    b_counts = sums[:, len(_COLS) + n_agents:]
    agent_eq, step_eq, within_1, within_k, overlap, multi = (sums[:, i] for i in range(len(_COLS)))
    kappa = kappa_from_sums(agent_eq, a_counts, b_counts, n)
    return np.column_stack([_ratio(agent_eq, n), kappa, _ratio(step_eq, n), _ratio(within_1, n),
                            _ratio(within_k, n), _ratio(overlap, multi)])


def _estimates(rows: np.ndarray, n_agents: int, *, n_resamples: int, seed: int, names=FIGURES,
               statistic=None) -> dict[str, dict]:
    stat = statistic or (lambda sums: _figures(sums, n_agents))
    point = stat(rows.sum(axis=0, keepdims=True))[0]
    low = high = np.full(len(names), np.nan)
    if n_resamples > 0 and len(rows):
        low, high, _ = percentile_interval(bootstrap(rows, stat, n_resamples=n_resamples, seed=seed))
    return {name: {"value": _num(point[i]), "ci_low": _num(low[i]) if not np.isnan(point[i]) else None,
                   "ci_high": _num(high[i]) if not np.isnan(point[i]) else None} for i, name in enumerate(names)}


def _num(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def _by_mode(pairs: list[tuple[Point, Point]]) -> list[dict]:
    """Per mode named on either root cause: how consistently the pair localises it."""
    modes = sorted({m for a, b in pairs for m in (a.mode, b.mode) if m})
    out = []
    for mode in modes:
        hits = [(a, b) for a, b in pairs if mode in (a.mode, b.mode)]
        out.append({"mode": mode, "n": len(hits),
                    "same_mode": sum(a.mode == b.mode for a, b in hits) / len(hits),
                    "agent_accuracy": sum(a.agent == b.agent for a, b in hits) / len(hits),
                    "step_exact": sum(a.step == b.step for a, b in hits) / len(hits)})
    return out


def pair_agreement(a: Answers, b: Answers, *, k: int = DEFAULT_K, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Localisation agreement of two raters over the traces both answered (see the module's docstring)."""
    common = sorted(set(a) & set(b))
    both = [(a[t], b[t]) for t in common if a[t].localised and b[t].localised]
    agents = sorted({str(p.agent) for pair in both for p in pair})
    rows = _indicators(both, agents, k)
    agreed = sum(a[t].localised == b[t].localised for t in common)
    offsets = Counter(_turn(y) - _turn(x) for x, y in both)
    return {
        "traces": len(common),
        "both_no_error": sum(not a[t].localised and not b[t].localised for t in common),
        "a_only_no_error": sum(not a[t].localised and b[t].localised for t in common),
        "b_only_no_error": sum(a[t].localised and not b[t].localised for t in common),
        "error_agreement": agreed / len(common) if common else None,
        "n": len(both),
        **_estimates(rows, len(agents), n_resamples=n_resamples, seed=seed),
        "offsets": {str(d): offsets[d] for d in sorted(offsets)},
        "multi_failure_traces": int(rows[:, _COLS.index("multi")].sum()) if len(rows) else 0,
        "by_mode": _by_mode(both),
    }


def reference_accuracy(reference: Answers, rater: Answers, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Who&When's agent-level and step-level accuracy of ``rater`` against ``reference``.

    Over the traces the reference localised; a trace the rater did not answer, or answered with
    "no decisive error", is a miss (counted in ``missing`` and ``said_no_error``). A rater who answered
    none of them has undefined accuracy, not 0: she was never asked, she did not miss.
    """
    keys = sorted(t for t, p in reference.items() if p.localised)
    rows = np.zeros((len(keys), 4))  # columns: trace, agent right, step right, answered
    for r, t in enumerate(keys):
        guess = rater.get(t)
        if guess is None or not guess.localised:
            rows[r] = (1, 0, 0, guess is not None)
        else:
            rows[r] = (1, guess.agent == reference[t].agent, guess.step == reference[t].step, 1)

    def stat(sums: np.ndarray) -> np.ndarray:
        asked = np.where(sums[:, 3] > 0, sums[:, 0], 0)
        return np.column_stack([_ratio(sums[:, 1], asked), _ratio(sums[:, 2], asked)])

    return {"n": len(keys), "missing": sum(t not in rater for t in keys),
            "said_no_error": sum(t in rater and not rater[t].localised for t in keys),
            **_estimates(rows, 0, n_resamples=n_resamples, seed=seed, names=("agent_accuracy", "step_accuracy"),
                         statistic=stat)}


def localisation_section(answers: Mapping[str, Answers], kinds: Mapping[str, str], *, k: int = DEFAULT_K,
                         n_resamples: int = 1000, seed: int = 0) -> dict:
    """The report's ``localisation`` section: raters, every pair with common traces, and against references.

    ``answers`` maps rater name -> trace key -> Point; ``kinds`` rater name -> human | judge | reference | gold.
    """
    names = list(answers)
    pairs = []
    for x, y in combinations(names, 2):
        if set(answers[x]) & set(answers[y]):
            pairs.append({"a": x, "b": y, **pair_agreement(answers[x], answers[y], k=k, n_resamples=n_resamples,
                                                           seed=seed)})
    against = [{"reference": ref, "rater": other,
                **reference_accuracy(answers[ref], answers[other], n_resamples=n_resamples, seed=seed)}
               for ref in names if kinds[ref] in ("reference", "gold")
               for other in names if other != ref and kinds[other] != "gold"]
    raters = [{"name": n, "kind": kinds[n], "traces": len(answers[n]),
               "no_error": sum(not p.localised for p in answers[n].values())} for n in names]
    return {"k": k, "raters": raters, "pairs": pairs, "against_reference": against,
            "params": {"bootstrap": n_resamples, "seed": seed, "resample": "trace"}}
