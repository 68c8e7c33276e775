"""Any taxonomy size (issue 10, item 8): agreement on taxonomies of more than 62 modes.

The loader packs each (segment, rater)'s labels into 62-bit blocks; a 100-mode report is checked
mode by mode against scikit-learn's cohen_kappa_score on the labels as written, and the loader cell by
cell at the block edges.
"""

import random
import warnings

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from annotator import store
from annotator.core.taxonomy import Mode, Taxonomy
from annotator.services.report import report_for


def _taxonomy(n_modes: int) -> Taxonomy:
    return Taxonomy(name=f"big{n_modes}", version="1", modes=tuple(
        Mode(code=f"m{k}", name=f"mode {k}", category=f"cat {k // 10}", definition=f"definition {k}")
        for k in range(n_modes)))


def _fill(db, n_modes: int, *, segments: int, seed: int, missing: float = 0.1):
    """Random labels of three raters (two people, a judge) and some gold; returns (stored, expected) with
    expected[(segment id, rater name, code)] = value for every label written."""
    stored = store.get_taxonomy_by_id(db, store.save_taxonomy(db, _taxonomy(n_modes)))
    rng = random.Random(seed)
    expected: dict[tuple[int, str, str], int] = {}
    with store.write(db):
        raters = {name: store.ensure_rater(db, name, kind)
                  for name, kind in (("ana", "human"), ("ben", "human"), ("judge:m@1", "judge"))}
        for t in range(segments):
            trace_id, _ = store.insert_trace(db, store.TraceInput(f"t{t}", f"trace {t}", "test", "text", segments=[
                store.SegmentInput("trace", 0, "trace", 0, 7)]))
            segment = store.trace_segment_id(db, trace_id)
            truth = {m.code: rng.random() < 0.05 + 0.4 * (k % 7) / 7 for k, m in enumerate(stored.taxonomy.modes)}
            for name, rater in raters.items():
                if rng.random() < missing:
                    continue
                values = {c: int(v if rng.random() < 0.85 else not v) for c, v in truth.items()
                          if rng.random() > missing}
                store.write_labels(db, store.LabelWrite(segment, rater, stored.id,
                                                        {stored.mode_ids[c]: v for c, v in values.items()}))
                expected.update({(segment, name, c): v for c, v in values.items()})
            if t % 4 == 0:
                last = stored.taxonomy.modes[-1].code
                store.set_adjudicated_gold(db, segment, stored.id, {stored.mode_ids[last]: t % 3 % 2},
                                           adjudicator="r", note=None)
                expected[(segment, "gold", last)] = t % 3 % 2
    return stored, expected


@pytest.mark.parametrize("n_modes", [62, 63, 124, 125])
def test_loader_reads_every_cell_at_the_block_edges(tmp_path, n_modes):
    db = store.connect(tmp_path / "edges.db")
    stored, expected = _fill(db, n_modes, segments=12, seed=n_modes)
    label_set = store.load_label_set(db, stored, include_gold=True)
    assert label_set.shape[2] == n_modes
    for i, unit in enumerate(label_set.units):
        for j, name in enumerate(label_set.raters):
            for k, code in enumerate(label_set.mode_codes):
                assert label_set.values[i, j, k] == expected.get((int(unit), name, code), -1), (unit, name, code)


def test_hundred_mode_report_matches_sklearn_mode_by_mode(tmp_path):
    db = store.connect(tmp_path / "hundred.db")
    stored, expected = _fill(db, 100, segments=80, seed=7)
    report = report_for(db, taxonomy=stored.taxonomy.ref, bootstrap=0)
    assert len(report["modes"]) == 100
    checked = 0
    for mode in report["modes"]:
        for pair in mode["pairs"]:
            shared = sorted({s for (s, r, c) in expected if r == pair["a"] and c == mode["code"]}
                            & {s for (s, r, c) in expected if r == pair["b"] and c == mode["code"]})
            y_a = [expected[(s, pair["a"], mode["code"])] for s in shared]
            y_b = [expected[(s, pair["b"], mode["code"])] for s in shared]
            assert pair["n"] == len(shared)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # sklearn warns (and returns nan) where kappa is undefined
                want = cohen_kappa_score(y_a, y_b, labels=[0, 1]) if shared else float("nan")
            if np.isnan(want):
                assert pair["kappa"] is None
            else:
                assert pair["kappa"] == pytest.approx(want, abs=1e-12)
                checked += 1
    assert checked > 250  # most of the 100 modes x 3 pairs have a defined kappa


def _brute_force_co_confusion(values: np.ndarray, limit: int):
    """Every (unit, rater pair, mode pair) looked at one by one."""
    n, r, m = values.shape
    counts, comparisons, examples = {}, {}, {}
    for u in range(n):
        for i in range(r):
            for j in range(i + 1, r):
                a, b = values[u, i], values[u, j]
                for x in range(m):
                    for y in range(x + 1, m):
                        if min(a[x], a[y], b[x], b[y]) < 0:
                            continue
                        comparisons[x, y] = comparisons.get((x, y), 0) + 1
                        if (a[x], a[y], b[x], b[y]) in ((1, 0, 0, 1), (0, 1, 1, 0)):
                            counts[x, y] = counts.get((x, y), 0) + 1
                            if u not in examples.setdefault((x, y), []):
                                examples[x, y].append(u)
    return counts, comparisons, {k: v[:limit] for k, v in examples.items()}


@pytest.mark.parametrize("chunk", [None, 5])
def test_co_confusion_of_a_large_taxonomy_matches_brute_force(monkeypatch, chunk):
    from annotator.core.agreement import LabelSet, co_confusion, confusion

    if chunk is not None:
        monkeypatch.setattr(confusion, "PRODUCTS_PER_CHUNK", chunk)
    rng = np.random.default_rng(11)
    n, r, m = 25, 3, 70
    values = np.where(rng.random((n, r, m)) < 0.1, -1, (rng.random((n, r, m)) < 0.3).astype(np.int8)).astype(np.int8)
    values[3] = -1  # a unit nobody labelled
    ls = LabelSet(tuple(f"u{i}" for i in range(n)), ("a", "b", "c"), ("human",) * 3,
                  tuple((f"m{k}", "", "") for k in range(m)), values)
    counts, comparisons, examples = _brute_force_co_confusion(values, 3)
    rows = co_confusion(ls, max_examples=3)
    assert len(rows) == len(counts) > 100
    for row in rows:
        key = (int(row["a_mode"][1:]), int(row["b_mode"][1:]))
        assert (row["count"], row["comparisons"]) == (counts[key], comparisons[key])
        assert row["examples"] == [f"u{u}" for u in examples[key]]
