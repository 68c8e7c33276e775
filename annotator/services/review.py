"""What the Review page shows: the contested segments to adjudicate, and, for one segment, every rater's
labels side by side with the current gold and a suggested decision.

No Streamlit here (the page, the tests and scripts call these functions). Contested segments are
ranked by the agreement engine's `contested_units`, the ranking of the report's "contested" list,
but over every segment rather than the report's top 20. Disagreement is measured among human raters,
because gold is built from people's labels; a judge's labels can be shown beside them for context.
Writing gold is `annotator.services.gold.adjudicate`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from annotator import store
from annotator.services import naming


@dataclass(frozen=True)
class Contested:
    segment_id: int
    disputed_modes: tuple[str, ...]  # modes on which the human raters of this segment differ
    discordant_pairs: int
    adjudicated: bool  # a reviewer has set gold for every disputed mode, and no label came after it
    stale: bool = False  # its gold predates a person's newer label (see store.gold.STALE_SQL)


def contested_segments(db: sqlite_utils.Database, stored: store.StoredTaxonomy) -> list[Contested]:
    """Segments on which human raters disagree under `stored`, most contested first."""
    from annotator.core.agreement import contested_units

    humans = [r.name for r in store.list_raters(db) if r.kind == "human"]
    if not humans:
        return []
    labels = store.load_label_set(db, stored, raters=humans)
    if not labels.units:
        return []
    decided = store.adjudicated_cells(db, stored.id)
    stale = set(store.stale_gold_segments(db, stored.id))
    rows = []
    for unit in contested_units(labels, limit=len(labels.units)):
        segment_id = int(unit["unit"])
        done = all((segment_id, stored.mode_ids[c]) in decided for c in unit["disputed_modes"])
        rows.append(Contested(segment_id, tuple(unit["disputed_modes"]), unit["discordant_pairs"],
                              done and segment_id not in stale, segment_id in stale))
    return rows


def with_mode(rows: list[Contested], code: str | None) -> list[Contested]:
    """The contested segments that dispute mode `code` (all of them when `code` is None)."""
    return rows if code is None else [r for r in rows if code in r.disputed_modes]


def next_open(rows: list[Contested], after: int | None = None) -> int | None:
    """The first segment not yet adjudicated after `after` in the ranking (wrapping round), else None."""
    ids = [r.segment_id for r in rows]
    start = ids.index(after) + 1 if after in ids else 0
    for row in rows[start:] + rows[:start]:
        if not row.adjudicated and row.segment_id != after:
            return row.segment_id
    return None


@dataclass(frozen=True)
class RaterColumn:
    label: str  # the rater's name, or "rater 1", "judge 1" when names are hidden
    kind: str  # human | judge
    values: dict[str, int]  # mode code -> 0/1
    rationales: dict[str, str]  # mode code -> rationale (people) or evidence (judge)
    status: str | None  # latest submission: done | unsure | ...


@dataclass(frozen=True)
class SegmentReview:
    segment: store.SegmentRow
    trace: store.TraceRow
    taxonomy: store.StoredTaxonomy
    raters: list[RaterColumn]  # people first, then judges
    gold: dict[str, dict]  # code -> {value, provenance, adjudicator, note, created_at, stale}
    suggestion: dict[str, int | None]  # code -> current gold, else the people's strict majority; None: a tie
    disputed: tuple[str, ...]  # modes on which the people differ

    @property
    def stale_gold(self) -> bool:
        """Its gold predates a person's newer label: rebuild or adjudicate again before trusting it."""
        return any(entry.get("stale") for entry in self.gold.values())

    @property
    def labelled(self) -> bool:
        return any(r.kind == "human" for r in self.raters)


def _columns(labels: list[store.RaterLabels]) -> list[RaterColumn]:
    return [RaterColumn(r.rater, r.kind, r.values, r.rationales, r.status) for r in labels]


def _suggest(codes: list[str], people: list[RaterColumn], gold: dict[str, dict]) -> tuple[dict, tuple]:
    suggestion, disputed = {}, []
    for code in codes:
        given = [r.values[code] for r in people if code in r.values]
        positive = sum(given)
        if 0 < positive < len(given):
            disputed.append(code)
        if code in gold:
            suggestion[code] = gold[code]["value"]
        elif given and 2 * positive != len(given):
            suggestion[code] = int(2 * positive > len(given))
        else:
            suggestion[code] = None
    return suggestion, tuple(disputed)


def load_review(db: sqlite_utils.Database, segment_id: int, stored: store.StoredTaxonomy, *,
                names: str = "anonymous", include_judges: bool = False) -> SegmentReview | None:
    """Everything the Review page shows for one segment; None when there is no such segment.

    `names` is the lead's naming rule (the `reveal_names` setting; see services.naming)."""
    segment = store.get_segment(db, segment_id)
    if segment is None:
        return None
    labels = [r for r in store.labels_for_segment(db, segment_id, stored.id)
              if r.kind == "human" or (include_judges and r.kind == "judge")]
    columns = _columns(naming.shown(db, labels, names))
    gold = store.gold_of_segment(db, segment_id, stored.id)
    suggestion, disputed = _suggest(stored.taxonomy.codes, [c for c in columns if c.kind == "human"], gold)
    return SegmentReview(segment=segment, trace=store.get_trace(db, segment.trace_id), taxonomy=stored,
                         raters=columns, gold=gold, suggestion=suggestion, disputed=disputed)


def describe_gold(entry: dict | None) -> str:
    """"✓ adjudicated by rita" / "– majority" / "stale · ✓ unanimous" for the labels table (the stale mark
    first, where a narrow column cannot cut it off)."""
    if not entry:
        return ""
    text = f"{'✓' if entry['value'] else '–'} {entry['provenance']}"
    text += f" by {entry['adjudicator']}" if entry.get("adjudicator") else ""
    return ("stale · " if entry.get("stale") else "") + text


RESERVED = ("mode", "gold now")  # column names a rater's name must not take over


def column_name(column: RaterColumn) -> str:
    """A rater's column in the labels table (never one of the reserved names)."""
    return column.label if column.label not in RESERVED else f"{column.label} (rater)"


def label_rows(review: SegmentReview) -> list[dict]:
    """One row per mode: each rater's value (✓ present, – absent, blank: not labelled) and the current gold.
    The reasons are read per mode with :func:`reasons`, beside the gold choice."""
    rows = []
    for mode in review.taxonomy.taxonomy.modes:
        row = {"mode": f"{mode.code} {mode.name}"}
        for column in review.raters:
            row[column_name(column)] = _cell(column, mode.code)
        row["gold now"] = describe_gold(review.gold.get(mode.code))
        rows.append(row)
    return rows


def reasons(review: SegmentReview, code: str) -> list[tuple[str, str]]:
    """(rater, "✓ reason") for each rater who gave a reason (people) or evidence (judges) on mode `code`."""
    return [(column.label, f"{_cell(column, code)} {column.rationales[code]}") for column in review.raters
            if column.rationales.get(code) and code in column.values]


def _cell(column: RaterColumn, code: str) -> str:
    if code not in column.values:
        return ""
    return "✓" if column.values[code] else "–"
