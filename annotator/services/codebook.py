"""The codebook beside the checklist: every mode's definition and note, and the modes people most often
confuse it with (co-confusion over the people's labels, as on the Agreement page)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from annotator import store
from annotator.core.agreement import co_confusion
from annotator.core.agreement.labels import MISSING
from annotator.core.taxonomy import Mode

PARTNERS_SHOWN = 3


@dataclass(frozen=True)
class Partner:
    code: str
    count: int  # (segment, pair of people) where one marked this mode and not the partner, the other the reverse
    rate: float  # count / (segment, pair) where both labelled both modes


@dataclass(frozen=True)
class Entry:
    mode: Mode
    confused_with: list[Partner] | None  # most often first; None: no two people labelled the same segment yet


def codebook(db: sqlite_utils.Database, stored: store.StoredTaxonomy) -> list[Entry]:
    """One entry per mode, in taxonomy order. People only (no judges, no gold); unsure answers left out,
    as agreement does by default."""
    people = [r.name for r in store.list_raters(db) if r.kind == "human"]
    labels = store.load_label_set(db, stored, raters=people) if people else None
    if labels is None or not labels.units:
        return [Entry(mode, None) for mode in stored.taxonomy.modes]
    labelled = (labels.values != MISSING).sum(axis=1) >= 2  # (segment, mode): two people or more labelled it
    compared = labelled.any(axis=0)
    partners: dict[str, list[Partner]] = {code: [] for code in stored.taxonomy.codes}
    for row in co_confusion(labels, max_examples=0):  # most frequent first
        partners[row["a_mode"]].append(Partner(row["b_mode"], row["count"], row["rate"]))
        partners[row["b_mode"]].append(Partner(row["a_mode"], row["count"], row["rate"]))
    return [Entry(mode, partners[mode.code][:PARTNERS_SHOWN] if compared[i] else None)
            for i, mode in enumerate(stored.taxonomy.modes)]
