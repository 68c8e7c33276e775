"""The people's agreement on the segments the judge-uncertain strategy put first, beside the rest.

Both subsets go through the agreement engine as they are (people only: judges and gold are left out), so
each mode gets the people's mean pairwise kappa with its percentile-bootstrap interval on each subset.
Undefined figures stay None (shown as n/a). The uncertain subset was chosen partly from the people's own
labels (where the judge departs from their majority), so the comparison describes, it does not test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlite_utils

from annotator import store
from annotator.services.queue_strategy import people_labels


@dataclass(frozen=True)
class SubsetKappa:
    segments: int  # segments of the subset with people's labels
    mean_kappa: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class ModeComparison:
    code: str
    name: str
    uncertain: SubsetKappa
    rest: SubsetKappa

    @property
    def difference(self) -> float | None:
        """Uncertain minus rest; None when either is undefined."""
        if self.uncertain.mean_kappa is None or self.rest.mean_kappa is None:
            return None
        return self.uncertain.mean_kappa - self.rest.mean_kappa


@dataclass(frozen=True)
class UncertainAgreement:
    strategy: dict  # the strategy as saved (judge, options, applied_at)
    ranked: int  # segments the strategy put first (labelled or not)
    uncertain_segments: int  # of those, segments with people's labels under the selection
    rest_segments: int
    modes: tuple[ModeComparison, ...]


def uncertain_agreement(db: sqlite_utils.Database, *, taxonomy: str = "mast", tags: dict[str, str] | None = None,
                        bootstrap: int = 1000, seed: int = 0,
                        include_unsure: bool = False) -> UncertainAgreement | None:
    """Per mode, the people's mean kappa on the uncertain-first segments and on the rest; None when no
    strategy puts segments first."""
    ranked = set(store.ranked_segment_ids(db))
    if not ranked:
        return None
    stored = store.get_taxonomy(db, taxonomy)
    labels = people_labels(db, stored, tags=tags, include_unsure=include_unsure)
    first = np.array([int(unit) in ranked for unit in labels.units], dtype=bool)
    uncertain = _subset_figures(labels.select_units(np.flatnonzero(first)), bootstrap, seed)
    rest = _subset_figures(labels.select_units(np.flatnonzero(~first)), bootstrap, seed)
    modes = tuple(ModeComparison(code, name, uncertain[code], rest[code]) for code, name, _ in labels.modes)
    return UncertainAgreement(strategy=store.get_strategy(db), ranked=len(ranked),
                              uncertain_segments=int(first.sum()), rest_segments=int((~first).sum()), modes=modes)


def _subset_figures(labels, bootstrap: int, seed: int) -> dict[str, SubsetKappa]:
    """Each mode's people figure on one subset (all None without units or without two people)."""
    from annotator.core.agreement import compute_report

    n = len(labels.units)
    if n == 0 or len(labels.raters) < 2:
        return {code: SubsetKappa(n, None, None, None) for code in labels.mode_codes}
    report = compute_report(labels, bootstrap=bootstrap, seed=seed)
    return {mode["code"]: SubsetKappa(n, mode["people"]["mean_kappa"], mode["people"]["ci_low"],
                                      mode["people"]["ci_high"]) for mode in report["modes"]}
