"""Gold labels: built automatically where humans agree, adjudicated by a reviewer where they do not,
and split once into dev and test for tuning the judge.

`decide_gold` and `assign_splits` are pure (numpy); the rest reads and writes through the store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from annotator import store
from annotator.core.errors import OptionError, RefusedError

STRATEGIES = ("majority", "unanimous")
MIN_RATERS = 2  # gold from a single person is not agreement


def decide_gold(values: np.ndarray, strategy: str) -> tuple[np.ndarray, np.ndarray]:
    """Gold value and provenance per (unit, mode) from human labels of shape (n, r, m), -1 missing.

    Returns (value, provenance) arrays of shape (n, m): value 0/1 or -1 (no gold: too few raters, a
    tie, or no unanimity under "unanimous"); provenance "unanimous", "majority" or "".

    >>> v = np.array([[[1, 0], [1, 1], [1, -1]]], dtype=np.int8)   # 1 unit, 3 raters, 2 modes
    >>> decide_gold(v, "majority")[0].tolist(), decide_gold(v, "unanimous")[0].tolist()
    ([[1, -1]], [[1, -1]])
    """
    if strategy not in STRATEGIES:
        raise OptionError(f"--strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    labelled = (values >= 0).sum(axis=1)
    positive = (values == 1).sum(axis=1)
    enough = labelled >= MIN_RATERS
    unanimous = enough & ((positive == 0) | (positive == labelled))
    value = np.where(unanimous, (positive > 0).astype(np.int8), -1).astype(np.int8)
    provenance = np.where(unanimous, "unanimous", "").astype(object)
    if strategy == "majority":
        strict = enough & ~unanimous & (2 * positive != labelled)
        value = np.where(strict, (2 * positive > labelled).astype(np.int8), value).astype(np.int8)
        provenance = np.where(strict, "majority", provenance)
    return value, provenance


@dataclass
class GoldBuild:
    taxonomy: str
    strategy: str
    written: int = 0
    segments: int = 0
    kept_adjudicated: int = 0  # (segment, mode) cells a reviewer decided
    include_unsure: bool = False  # labels submitted as unsure counted (else left out)
    undecided: list[tuple[str, str]] = field(default_factory=list)  # (segment id, mode code) left for review


def build_gold(db: sqlite_utils.Database, *, taxonomy: str = "mast", strategy: str = "majority",
               include_unsure: bool = False) -> GoldBuild:
    """Fill gold from human labels for every segment nobody adjudicated; never touches adjudicated gold.

    Labels submitted as unsure do not count towards gold unless `include_unsure`.
    """
    stored = store.get_taxonomy(db, taxonomy)
    labels = _human_labels(db, stored, include_unsure=include_unsure)
    result = GoldBuild(taxonomy=stored.taxonomy.ref, strategy=strategy, include_unsure=include_unsure)
    if labels is None:
        raise RefusedError(f"no human labels under {stored.taxonomy.ref}: nothing to build gold from")
    value, provenance = decide_gold(labels.values, strategy)
    adjudicated = store.adjudicated_cells(db, stored.id)
    result.kept_adjudicated = len(adjudicated)
    mode_ids = [stored.mode_ids[code] for code, _, _ in labels.modes]
    rows = []
    for i, unit in enumerate(labels.units):
        for k, mode_id in enumerate(mode_ids):
            if (int(unit), mode_id) in adjudicated:
                continue
            if value[i, k] >= 0:
                rows.append((int(unit), mode_id, int(value[i, k]), str(provenance[i, k])))
            elif (labels.values[i, :, k] >= 0).sum() >= MIN_RATERS:
                result.undecided.append((unit, labels.modes[k][0]))
    result.written = store.replace_automatic_gold(db, stored.id, rows)
    result.segments = len({r[0] for r in rows})
    return result


def _human_labels(db: sqlite_utils.Database, stored: store.StoredTaxonomy, *, include_unsure: bool = False):
    humans = [r.name for r in store.list_raters(db) if r.kind == "human"]
    if not humans:
        return None
    try:
        labels = store.load_label_set(db, stored, raters=humans, include_unsure=include_unsure)
    except store.StoreError:
        return None
    keep = [i for i in range(len(labels.raters)) if (labels.values[:, i, :] >= 0).any()]
    return labels.select_raters([labels.raters[i] for i in keep]) if labels.units and keep else None


def adjudicate(db: sqlite_utils.Database, segment_id: int, values: dict[str, int], *, adjudicator: str,
               taxonomy: str = "mast", note: str | None = None) -> None:
    """Record a reviewer's gold decision for a segment (codes -> 0/1), with who and why."""
    if not adjudicator.strip():
        raise OptionError("the adjudicator's name must not be empty (gold records who decided)")
    stored = store.get_taxonomy(db, taxonomy)
    if store.get_segment(db, segment_id) is None:
        raise OptionError(f"no segment {segment_id}")
    if not store.segment_labelled_by_anyone(db, segment_id, stored.id):
        raise RefusedError(f"segment {segment_id} has no labels under {stored.taxonomy.ref}: nothing to adjudicate")
    unknown = sorted(set(values) - set(stored.mode_ids))
    if unknown:
        raise OptionError(f"unknown mode(s) {', '.join(unknown)} for {stored.taxonomy.ref}")
    if any(v not in (0, 1) for v in values.values()):
        raise OptionError("gold values must be 0 or 1")
    store.set_adjudicated_gold(db, segment_id, stored.id, {stored.mode_ids[c]: v for c, v in values.items()},
                               adjudicator=adjudicator, note=note)


def _stable_rank(seed: int, content_hash: str) -> int:
    """A per-segment random number that does not depend on which other segments exist."""
    return int(hashlib.sha256(f"{seed}:{content_hash}".encode()).hexdigest()[:12], 16)


def assign_splits(units: list[tuple[int, str, str]], *, test_fraction: float, seed: int) -> dict[int, str]:
    """Stratified, seeded dev/test assignment of (segment id, content hash, stratum) triples.

    Segments are ordered by stratum (e.g. the rarest positive gold mode), and within it by a hash of
    (seed, content); then every 1/test_fraction-th segment goes to test (systematic sampling). Each
    stratum is split in proportion, the overall share is exact to one segment, and the result is the
    same on every machine.

    >>> split = assign_splits([(i, str(i), "a" if i < 6 else "b") for i in range(10)], test_fraction=0.3, seed=0)
    >>> sorted(split.values()).count("test")
    3
    """
    if not 0 < test_fraction < 1:
        raise ValueError("test fraction must be between 0 and 1")
    ordered = sorted(units, key=lambda u: (u[2], _stable_rank(seed, u[1])))
    offset = (_stable_rank(seed, "offset") % 1000) / 1000
    out = {}
    for position, (segment_id, _, _) in enumerate(ordered):
        crossed = int((position + 1) * test_fraction + offset) - int(position * test_fraction + offset)
        out[segment_id] = "test" if crossed else "dev"
    return out


def split_gold(db: sqlite_utils.Database, *, taxonomy: str = "mast", test_fraction: float = 0.3,
               seed: int = 0) -> dict[str, int]:
    """Give every gold segment without a split one (dev or test); existing assignments never move."""
    stored = store.get_taxonomy(db, taxonomy)
    existing = store.get_split(db, stored.id)
    gold = [(s, h) for s, h in store.gold_segments_with_hashes(db, stored.id) if s not in existing]
    strata = _rarest_positive_mode(db, stored, [s for s, _ in gold])
    store.save_split(db, stored.id, assign_splits([(s, h, strata[s]) for s, h in gold],
                                                  test_fraction=test_fraction, seed=seed), seed)
    split = store.get_split(db, stored.id)
    return {"dev": sum(v == "dev" for v in split.values()), "test": sum(v == "test" for v in split.values())}


def _rarest_positive_mode(db: sqlite_utils.Database, stored: store.StoredTaxonomy, segment_ids: list[int]) -> dict:
    gold = {s: store.gold_of_segment(db, s, stored.id) for s in segment_ids}
    prevalence: dict[str, int] = {}
    for modes in gold.values():
        for code, g in modes.items():
            prevalence[code] = prevalence.get(code, 0) + g["value"]
    out = {}
    for s, modes in gold.items():
        positives = [c for c, g in modes.items() if g["value"] == 1]
        out[s] = min(positives, key=lambda c: (prevalence[c], c)) if positives else "none"
    return out


def leaked_test_segments(db: sqlite_utils.Database, example_texts: list[str], *, taxonomy: str = "mast") -> list[int]:
    """Test-split segments whose content appears among a prompt's few-shot examples (by content hash)."""
    stored = store.get_taxonomy(db, taxonomy)
    test = store.hashes_of_test_split(db, stored.id)
    return sorted({test[h] for h in (store.content_hash(t) for t in example_texts) if h in test})
