import random

import numpy as np

from annotator import store
from annotator.core.taxonomy import load_taxonomy


def test_packed_loader_equals_row_by_row(tmp_path):
    db = store.connect(tmp_path / "l.db")
    tax = store.get_taxonomy_by_id(db, store.save_taxonomy(db, load_taxonomy("mast")))
    rng = random.Random(3)
    raters = [store.ensure_rater(db, name, kind) for name, kind in
              [("ana", "human"), ("ben", "human"), ("judge:m@1", "judge")]]
    expected: dict[tuple[int, int, str], int] = {}
    with store.write(db):
        for t in range(40):
            trace_id, _ = store.insert_trace(db, store.TraceInput(f"t{t}", f"text {t}", "x", "text", segments=[
                store.SegmentInput("trace", 0, "trace", 0, 6)]))
            segment = store.trace_segment_id(db, trace_id)
            for rater in raters:
                if rng.random() < 0.2:
                    continue  # this rater skipped the segment entirely
                codes = [m.code for m in tax.taxonomy.modes if rng.random() < 0.8]  # and some modes
                values = {code: int(rng.random() < 0.3) for code in codes}
                store.write_labels(db, store.LabelWrite(segment, rater, tax.id,
                                                        {tax.mode_ids[c]: v for c, v in values.items()}))
                expected.update({(segment, rater, c): v for c, v in values.items()})
            if t % 3 == 0:
                store.set_adjudicated_gold(db, segment, tax.id, {tax.mode_ids["3.3"]: t % 2}, adjudicator="r",
                                           note=None)
                expected[(segment, -1, "3.3")] = t % 2

    label_set = store.load_label_set(db, tax, include_gold=True)
    rater_ids = {"ana": raters[0], "ben": raters[1], "judge:m@1": raters[2], "gold": -1}
    assert label_set.rater_kinds == ("human", "human", "judge", "gold")
    codes = [m[0] for m in label_set.modes]
    for i, unit in enumerate(label_set.units):
        for j, name in enumerate(label_set.raters):
            for k, code in enumerate(codes):
                want = expected.get((int(unit), rater_ids[name], code), -1)
                assert label_set.values[i, j, k] == want, (unit, name, code)
    labelled = {s for s, r, _ in expected if r != -1}
    assert {int(u) for u in label_set.units} == labelled | {s for s, r, _ in expected if r == -1}
    only_ben = store.load_label_set(db, tax, raters=["ben"])
    assert only_ben.raters == ("ben",) and np.all((only_ben.values >= 0).any(axis=(1, 2)))
