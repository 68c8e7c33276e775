"""Labels as dense arrays for the agreement engine: one query, then numpy (any number of modes)."""

from __future__ import annotations

import numpy as np
import sqlite_utils

from annotator.core.agreement import LabelSet
from annotator.store.taxonomies import StoredTaxonomy, StoreError

GOLD_RATER = "gold"


def _label_filter(taxonomy_id: int, rater_ids: list[int] | None, tags: dict[str, str] | None,
                  segment_ids: list[int] | None = None) -> tuple[str, list[int | str]]:
    where: list[str] = ["l.taxonomy_id = ?", "l.sample = 0"]
    args: list[int | str] = [taxonomy_id]
    if rater_ids is not None:
        where.append(f"l.rater_id IN ({', '.join('?' * len(rater_ids))})")
        args += rater_ids
    if segment_ids is not None:
        where.append(f"l.segment_id IN ({', '.join('?' * len(segment_ids))})")
        args += segment_ids
    for key, value in (tags or {}).items():
        where.append("l.segment_id IN (SELECT s.id FROM segments s JOIN trace_tags tt ON tt.trace_id = s.trace_id"
                     " WHERE tt.key = ? AND tt.value = ?)")
        args += [key, value]
    return " AND ".join(where), args


def _rater_ids(db: sqlite_utils.Database, names: list[str]) -> list[int]:
    ids = []
    for name in names:
        row = db.execute("SELECT id FROM raters WHERE name = ?", [name]).fetchone()
        if row is None:
            raise StoreError(f"no rater named {name!r} (see 'annotator stats')")
        ids.append(row[0])
    return ids


# Labels are fetched packed: one row per (segment, rater) with a bit per mode position for "given"
# and for "present". This moves m times fewer rows into Python, which is where the time went (700k
# labels: 1.4 s as rows, ~0.2 s packed). SQLite integers have 63 usable bits, so modes go in blocks of
# BLOCK positions, two sums per block (one block, the plain query, up to 62 modes); each block adds two
# sums per row, not rows.
BLOCK = 62


def _blocks(n_modes: int) -> int:
    return max(1, -(-n_modes // BLOCK))


def _packed_sums(value: str, n_modes: int) -> str:
    """The select list of (given bits, present bits) for each block of mode positions."""
    if _blocks(n_modes) == 1:
        return f"SUM(1 << m.position), SUM({value} << m.position)"
    sums = []
    for b in range(_blocks(n_modes)):
        inside = f"((m.position / {BLOCK}) = {b})"
        sums += [f"SUM({inside} << (m.position % {BLOCK}))", f"SUM(({inside} * {value}) << (m.position % {BLOCK}))"]
    return ", ".join(sums)


def _packed_labels(db: sqlite_utils.Database, where: str, args: list, stored: StoredTaxonomy) -> np.ndarray:
    """Rows (segment, rater, given bits, present bits[, given, present of the next block ...])."""
    sums = _packed_sums("l.value", len(stored.taxonomy.modes))
    rows = db.execute(f"SELECT l.segment_id, l.rater_id, {sums} FROM labels l JOIN modes m ON m.id = l.mode_id"
                      f" WHERE {where} GROUP BY l.rater_id, l.segment_id", args).fetchall()
    return np.array(rows, dtype=np.int64).reshape(-1, 2 + 2 * _blocks(len(stored.taxonomy.modes)))


def _gold_rows(db: sqlite_utils.Database, stored: StoredTaxonomy, segments: np.ndarray) -> np.ndarray:
    """Gold labels packed like `_packed_labels`, under the pseudo rater id -1."""
    sums = _packed_sums("g.value", len(stored.taxonomy.modes))
    rows = db.execute(f"SELECT g.segment_id, -1, {sums} FROM gold g JOIN modes m ON m.id = g.mode_id"
                      " WHERE g.taxonomy_id = ? GROUP BY g.segment_id", [stored.id]).fetchall()
    gold = np.array(rows, dtype=np.int64).reshape(-1, 2 + 2 * _blocks(len(stored.taxonomy.modes)))
    return gold[np.isin(gold[:, 0], segments)] if len(segments) else gold


def _unsure_rows(db: sqlite_utils.Database, taxonomy_id: int) -> np.ndarray:
    """(segment, rater) pairs whose latest submission under the taxonomy is 'unsure', as keys of `_pair_key`."""
    rows = db.execute(
        "SELECT s.segment_id, s.rater_id FROM submissions s WHERE s.taxonomy_id = ? AND s.status = 'unsure'"
        " AND s.id = (SELECT MAX(x.id) FROM submissions x WHERE x.rater_id = s.rater_id"
        " AND x.taxonomy_id = s.taxonomy_id AND x.segment_id = s.segment_id)", [taxonomy_id]).fetchall()
    return _pair_key(np.array(rows, dtype=np.int64).reshape(-1, 2))


def _pair_key(rows: np.ndarray) -> np.ndarray:
    """One int64 per (segment id, rater id) row (rater ids are small; -1 is gold, never unsure)."""
    return rows[:, 0] * (1 << 32) + rows[:, 1]


def load_label_set(db: sqlite_utils.Database, stored: StoredTaxonomy, *, raters: list[str] | None = None,
                   tags: dict[str, str] | None = None, include_gold: bool = False,
                   segment_ids: list[int] | None = None, include_unsure: bool = False) -> LabelSet:
    """Every first-sample label of `stored` as a LabelSet (units are segment ids, groups trace ids).

    Units are the segments that at least one selected rater labelled; a rater's missing labels are -1.
    With `include_gold`, gold labels join as a rater named "gold" (kind gold). A rater's labels on a
    segment whose latest submission she marked unsure are left out (missing), unless `include_unsure`:
    unsure is not a label. Each unit carries its trace's segment count (`group_sizes`: segments of the
    schemes labelled on that trace, labelled or not), so a trace-level roll-up can tell a trace a rater
    saw in full from one she saw in part.
    """
    where, args = _label_filter(stored.id, None if raters is None else _rater_ids(db, raters), tags, segment_ids)
    data = _packed_labels(db, where, args, stored)
    if not include_unsure and len(data):
        data = data[~np.isin(_pair_key(data[:, :2]), _unsure_rows(db, stored.id))]
    segments = np.unique(data[:, 0])
    rater_ids = _ordered_raters(db, np.unique(data[:, 1]), raters)
    names = dict(db.execute("SELECT id, name || char(0) || kind FROM raters").fetchall())
    rater_names = [names[r].split("\0") for r in rater_ids]
    if include_gold:
        gold = _gold_rows(db, stored, segments)
        segments = np.union1d(segments, gold[:, 0])
        rater_ids.append(-1)
        rater_names.append([GOLD_RATER, "gold"])
        data = np.vstack([data, gold])
    values = _unpack(data, segments, rater_ids, len(stored.taxonomy.modes))
    traces, sizes = _traces_and_sizes(db, segments)
    return LabelSet(
        units=tuple(str(s) for s in segments),
        raters=tuple(n for n, _ in rater_names),
        rater_kinds=tuple(k for _, k in rater_names),
        modes=tuple((m.code, m.name, m.category) for m in stored.taxonomy.modes),
        values=values,
        unit_groups=tuple(str(t) for t in traces),
        group_sizes=tuple(sizes),
    )


def _ordered_raters(db: sqlite_utils.Database, present: np.ndarray, requested: list[str] | None) -> list[int]:
    """Raters in the order the user named them, else humans first, then judges, by id."""
    if requested is not None:
        return _rater_ids(db, requested)
    kinds = dict(db.execute("SELECT id, kind FROM raters").fetchall())
    order = {"human": 0, "judge": 1, "gold": 2}
    return sorted((int(r) for r in present), key=lambda r: (order[kinds[r]], r))


def _unpack(data: np.ndarray, segments: np.ndarray, rater_ids: list[int], n_modes: int) -> np.ndarray:
    """Packed (segment, rater, given bits, present bits, ...) rows -> int8 cube, -1 where nothing was given."""
    values = np.full((len(segments), len(rater_ids), n_modes), -1, dtype=np.int8)
    if not len(data):
        return values
    rater_pos = {r: i for i, r in enumerate(rater_ids)}
    r_idx = np.array([rater_pos.get(int(r), -1) for r in data[:, 1]], dtype=np.int64)
    keep = r_idx >= 0
    s_idx = np.searchsorted(segments, data[keep, 0])
    for b in range(_blocks(n_modes)):
        first = b * BLOCK
        bits = np.arange(min(BLOCK, n_modes - first), dtype=np.int64)
        given = (data[keep, 2 + 2 * b][:, None] >> bits) & 1
        present = (data[keep, 3 + 2 * b][:, None] >> bits) & 1
        values[s_idx, r_idx[keep], first:first + len(bits)] = np.where(given == 1, present, -1).astype(np.int8)
    return values


def _traces_and_sizes(db: sqlite_utils.Database, segments: np.ndarray) -> tuple[list[int], list[int]]:
    """The trace of each segment, and how many segments that trace has in the schemes labelled on it
    (a trace cut into turns also has its whole-trace segment; that one is not a turn to cover)."""
    if not len(segments):
        return [], []
    lookup = {row[0]: (row[1], row[2]) for row in db.execute(
        "SELECT id, trace_id, scheme FROM segments WHERE id BETWEEN ? AND ?", [int(segments[0]), int(segments[-1])])}
    keys = [lookup[int(s)] for s in segments]
    schemes: dict[int, set[str]] = {}
    for trace_id, scheme in keys:
        schemes.setdefault(trace_id, set()).add(scheme)
    counts = dict(((t, sc), n) for t, sc, n in db.execute(
        "SELECT trace_id, scheme, COUNT(*) FROM segments WHERE trace_id BETWEEN ? AND ? GROUP BY trace_id, scheme",
        [min(schemes), max(schemes)]))
    size = {t: sum(counts[(t, sc)] for sc in used) for t, used in schemes.items()}
    return [t for t, _ in keys], [size[t] for t, _ in keys]


def traces_formats(db: sqlite_utils.Database) -> set[str]:
    """Import formats present in the database (used to credit datasets in reports)."""
    return {r[0] for r in db.execute("SELECT DISTINCT format FROM traces")}
