"""Refine a taxonomy into a new version and carry labels and gold over (the service behind
`annotator taxonomy refine` and the Taxonomy page)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from annotator import store
from annotator.core.refinement import Change, Plan, carry, change_from_dict, plan
from annotator.core.structured import DocumentError, read_structured
from annotator.core.taxonomy import TaxonomyError
from annotator.store.users import User


@dataclass
class Refinement:
    taxonomy: str  # NAME@VERSION created
    parent: str
    labels_carried: int = 0
    labels_stale: int = 0
    gold_carried: int = 0
    relabel_segments: set[int] = field(default_factory=set)


def next_version(db: sqlite_utils.Database, name: str, base_version: str) -> str:
    """The next free version: 1 -> 2 -> 3, or 'draft-x' -> 'draft-x.1'."""
    candidate = str(int(base_version) + 1) if base_version.isdigit() else f"{base_version}.1"
    while store.taxonomy_exists(db, f"{name}@{candidate}"):
        candidate = str(int(candidate) + 1) if candidate.isdigit() else f"{candidate}.1"
    return candidate


def load_changes(path: str | Path) -> tuple[list[Change], str | None]:
    """Read a refinement file: {version: optional, changes: [...]} in YAML or JSON."""
    try:  # bounded like a taxonomy file: depth, alias expansion, unquoted codes
        data = read_structured(Path(path))
    except DocumentError as exc:
        raise TaxonomyError(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("changes"), list):
        raise TaxonomyError(f"{path}: expected a mapping with a list 'changes'")
    try:
        changes = [change_from_dict(raw, i) for i, raw in enumerate(data["changes"])]
    except TaxonomyError as exc:
        raise TaxonomyError(f"{path}: {exc}") from None
    version = data.get("version")
    return changes, (str(version) if version is not None else None)


def refine_taxonomy(db: sqlite_utils.Database, base_ref: str, changes: list[Change], *,
                    version: str | None = None, actor: User = store.LOCAL_ADMIN) -> Refinement:
    """Make a new version of `base_ref` from `changes`, store the mapping, carry labels and gold over,
    and put segments whose labels a split made unknown back into the queue. All or nothing."""
    store.require(actor, "admin", "change the taxonomy")
    base = store.get_taxonomy(db, base_ref)
    version = version or next_version(db, base.taxonomy.name, base.taxonomy.version)
    if store.taxonomy_exists(db, f"{base.taxonomy.name}@{version}"):
        raise TaxonomyError(f"{base.taxonomy.name}@{version} exists already; versions are immutable")
    new_plan = plan(base.taxonomy, changes, version=version)
    result = Refinement(taxonomy=new_plan.taxonomy.ref, parent=base.taxonomy.ref)
    with store.write(db):
        new_id = store.save_taxonomy(db, new_plan.taxonomy, parent_id=base.id)
        new = store.get_taxonomy_by_id(db, new_id)
        store.refinement.save_mapping_rows(db, base.id, new_id, new_plan.mapping_rows())
        _carry_labels(db, base.id, new, new_plan, result)
        _carry_gold(db, base.id, new, new_plan, result)
        store.refinement.requeue_segments(db, result.relabel_segments)
        store.audit(db, actor, "taxonomy.refine", result.taxonomy, parent=result.parent, changes=len(changes))
    return result


def _carry_labels(db, base_id: int, new: store.StoredTaxonomy, new_plan: Plan, result: Refinement) -> None:
    rows, done = [], []
    for segment, rater, sample, values in store.refinement.iter_label_groups(db, base_id):
        carried, relabel = carry(values, new_plan)
        rows += [(segment, rater, new.mode_ids[c], sample, v, stale) for c, (v, stale) in carried.items()]
        result.labels_stale += sum(stale for _, stale in carried.values())
        if relabel:
            result.relabel_segments.add(segment)
        elif sample == 0 and carried:
            done.append((segment, rater, {c: v for c, (v, _) in carried.items()}))
    store.refinement.insert_carried_labels(db, new.id, rows)
    store.refinement.insert_carried_submissions(db, new.id, done)
    result.labels_carried = len(rows)


def _carry_gold(db, base_id: int, new: store.StoredTaxonomy, new_plan: Plan, result: Refinement) -> None:
    rows = []
    for segment, values, origin in store.refinement.iter_gold_groups(db, base_id):
        carried, _ = carry(values, new_plan)
        rows += [(segment, new.mode_ids[c], v, origin) for c, (v, _) in carried.items()]
    store.refinement.insert_carried_gold(db, new.id, rows)
    result.gold_carried = len(rows)
