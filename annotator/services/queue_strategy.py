"""Queue strategies: in what order segments are handed to annotators (`annotator queue`, the Data page).

- ``default``: the existing order: within a claim level (segments closest to k claims first), by id.
- ``judge-uncertain``: within a claim level, first the segments where the judge is unsure
  (:mod:`annotator.core.uncertainty`), most uncertain modes first, ties by id; then the rest by id.

Applying a strategy takes a snapshot: the ranks are computed from the labels stored now and written with
the strategy setting and an audit row in one transaction (admins only). The queue uses the judge only to
order segments; nothing of the judge reaches an annotator (the Annotate page reads no rank).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from annotator import store
from annotator.core.errors import NotFoundError, OptionError, RefusedError
from annotator.core.uncertainty import (
    PeopleValues,
    UncertainSegment,
    low_agreement_modes,
    queue_ranks,
    uncertain_segments,
)
from annotator.store.queue_order import DEFAULT_STRATEGY
from annotator.store.users import User

JUDGE_UNCERTAIN = "judge-uncertain"
STRATEGIES = (DEFAULT_STRATEGY, JUDGE_UNCERTAIN)
# Below 0.6 a mode's people kappa is at most "moderate" (Landis and Koch 1977): not yet agreement a judge
# can be trusted against, so where the judge departs from the people's majority, more people should look.
DEFAULT_BELOW_KAPPA = 0.6


@dataclass(frozen=True)
class StrategyResult:
    """What applying a strategy did (the CLI prints it, the Data page shows it)."""

    strategy: str
    judge: str | None = None
    taxonomy: str | None = None
    samples: int | None = None
    below_kappa: float | None = None
    people_kappa: dict[str, float | None] = field(default_factory=dict)  # the people's mean kappa per mode
    low_modes: tuple[str, ...] = ()  # modes below the threshold or undefined, in taxonomy order
    sampled_segments: int = 0  # segments where the judge has two or more samples to compare
    uncertain: tuple[UncertainSegment, ...] = ()  # in hand-out order
    with_room: int = 0  # of those, queued segments that can still take an annotator

    def as_json(self) -> dict:
        return {"strategy": self.strategy, "judge": self.judge, "taxonomy": self.taxonomy, "samples": self.samples,
                "below_kappa": self.below_kappa, "people_kappa": self.people_kappa, "low_modes": list(self.low_modes),
                "sampled_segments": self.sampled_segments, "uncertain_segments": len(self.uncertain),
                "with_room": self.with_room,
                "segments": [{"segment_id": u.segment_id, "rank": -len(u.modes),
                              "samples_disagree": list(u.samples_disagree), "judge_vs_people": list(u.judge_vs_people)}
                             for u in self.uncertain]}


def apply_strategy(db: sqlite_utils.Database, actor: User, name: str, *, judge: str | None = None,
                   samples: int | None = None, below_kappa: float = DEFAULT_BELOW_KAPPA,
                   include_unsure: bool = False) -> StrategyResult:
    """Set the queue's order as `actor` (admin): ``default``, or ``judge-uncertain`` with its options.

    `judge` is a judge run id or a judge rater's name (default: the judge of the newest run); `samples`
    reads at most that many samples per segment (default: all); `below_kappa` is the people's mean kappa
    under which a mode's agreement counts as still low.
    """
    store.require(actor, "admin", "change the order of the queue")
    if name not in STRATEGIES:
        raise OptionError(f"unknown queue strategy {name!r}: expected one of {', '.join(STRATEGIES)}")
    if name == DEFAULT_STRATEGY:
        result = StrategyResult(DEFAULT_STRATEGY)
    else:
        result = _judge_uncertain(db, judge=judge, samples=samples, below_kappa=below_kappa,
                                  include_unsure=include_unsure)
    with store.write(db):
        store.set_queue_order(db, queue_ranks(result.uncertain), _setting(result))
        store.audit(db, actor, "queue.strategy", name, judge=result.judge, samples=result.samples,
                    below_kappa=result.below_kappa, uncertain=len(result.uncertain))
    return result


def _setting(result: StrategyResult) -> dict:
    """The strategy as saved in the settings (what `queue show` and the Data page report)."""
    if result.strategy == DEFAULT_STRATEGY:
        return {"name": DEFAULT_STRATEGY, "applied_at": store.now()}
    return {"name": result.strategy, "judge": result.judge, "taxonomy": result.taxonomy, "samples": result.samples,
            "below_kappa": result.below_kappa, "low_modes": list(result.low_modes),
            "uncertain": len(result.uncertain), "applied_at": store.now()}


def _judge_uncertain(db: sqlite_utils.Database, *, judge: str | None, samples: int | None, below_kappa: float,
                     include_unsure: bool) -> StrategyResult:
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
        raise OptionError(f"--samples must be a whole number of at least 1, not {samples!r}")
    if not -1 <= below_kappa <= 1:
        raise OptionError(f"--below-kappa must be a kappa between -1 and 1, not {below_kappa!r}")
    settings = store.get_settings(db)
    stored = store.get_taxonomy(db, settings.taxonomy)
    rater = resolve_judge(db, judge)
    judge_labels = store.judge_sample_labels(db, rater.id, stored.id)
    if not judge_labels:
        raise RefusedError(f"judge {rater.name!r} has no labels under {stored.taxonomy.ref}, the taxonomy "
                           "annotators label with: run it on this version first")
    people, kappa = people_figures(db, stored, include_unsure=include_unsure)
    codes = stored.taxonomy.codes
    low = low_agreement_modes(kappa, below_kappa)
    found = uncertain_segments(judge_labels, people, codes, low_modes=low, samples=samples)
    room = store.queued_with_room(db, [u.segment_id for u in found], settings.k)
    sampled = sum(1 for per_sample in judge_labels.values() if min(len(per_sample), samples or len(per_sample)) >= 2)
    return StrategyResult(JUDGE_UNCERTAIN, judge=rater.name, taxonomy=stored.taxonomy.ref, samples=samples,
                          below_kappa=float(below_kappa), people_kappa=kappa,
                          low_modes=tuple(c for c in codes if c in low), sampled_segments=sampled,
                          uncertain=tuple(found), with_room=len(room))


def resolve_judge(db: sqlite_utils.Database, judge: str | None) -> store.RaterRow:
    """The judge rater named by a run id or a rater name; by default the judge of the newest run, else the
    only judge rater (an imported judge has no run)."""
    if judge is None:
        judge = _default_judge(db)
    elif judge.strip().isdigit():
        run = store.get_judge_run(db, int(judge))
        if run is None:
            raise NotFoundError(f"--judge {judge}: no judge run with that id (see `annotator judge list`)")
        judge = run["rater"]
    rater = store.get_rater(db, judge.strip())
    if rater is None:
        raise NotFoundError(f"--judge {judge!r}: no rater of that name (see `annotator stats`)")
    if rater.kind != "judge":
        raise OptionError(f"--judge {judge!r} is a {rater.kind} rater, not a judge")
    return rater


def _default_judge(db: sqlite_utils.Database) -> str:
    runs = store.list_judge_runs(db)
    if runs:
        return runs[0]["rater"]
    judges = [r.name for r in store.list_raters(db) if r.kind == "judge"]
    if len(judges) == 1:
        return judges[0]
    if not judges:
        raise NotFoundError("no judge yet: run `annotator judge run` first (or import a judge's labels)")
    raise OptionError(f"several judges and no judge run: name one with --judge ({', '.join(judges)})")


def people_labels(db: sqlite_utils.Database, stored: store.StoredTaxonomy, *, tags: dict[str, str] | None = None,
                  include_unsure: bool = False):
    """The people's labels (kind human) as a LabelSet of the segments at least one person labelled."""
    from annotator.core.agreement.people import people_only

    labels = people_only(store.load_label_set(db, stored, tags=tags, include_unsure=include_unsure))
    return labels.select_units(np.flatnonzero((labels.values >= 0).any(axis=(1, 2))))


def people_figures(db: sqlite_utils.Database, stored: store.StoredTaxonomy, *,
                   include_unsure: bool = False) -> tuple[PeopleValues, dict[str, float | None]]:
    """The people's values per segment and mode, and their mean pairwise kappa per mode (None: undefined)."""
    from annotator.core.agreement import compute_report

    labels = people_labels(db, stored, include_unsure=include_unsure)
    if len(labels.raters) < 2:  # no pair of people: every mode's agreement is undefined
        kappa: dict[str, float | None] = {code: None for code in stored.taxonomy.codes}
    else:
        kappa = {mode["code"]: mode["people"]["mean_kappa"] for mode in compute_report(labels, bootstrap=0)["modes"]}
    people = {int(unit): {code: [int(v) for v in labels.values[i, :, j] if v >= 0]
                          for j, code in enumerate(labels.mode_codes)}
              for i, unit in enumerate(labels.units)}
    return people, kappa


def current_strategy(db: sqlite_utils.Database) -> dict:
    """The strategy in use as saved, with how many segments it puts first."""
    return {**store.get_strategy(db), "ranked_segments": len(store.ranked_segment_ids(db))}


def hand_out_order(db: sqlite_utils.Database, *, limit: int = 20) -> list[dict]:
    """The next segments with room in the order a fresh annotator would get them (for leads)."""
    return store.hand_out_order(db, store.get_settings(db).k, limit=limit)
