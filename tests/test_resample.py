"""`--resample segment|trace` (issue 10, item 2): trace resampling on clustered data, and a default that
follows the segmentation (trace for turn- and window-level segments, segment for whole-trace segments)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from agreement_support import make_label_set
from helpers import run_cli

from annotator import store
from annotator.core.agreement import compute_report
from annotator.core.taxonomy import load_taxonomy
from annotator.services.report import report_for


def _clustered(n_traces: int, per_trace: int, seed: int):
    """Two raters; every segment of a trace carries its trace's labels (the extreme of within-trace correlation)."""
    rng = np.random.default_rng(seed)
    truth = rng.random((n_traces, 1, 3)) < 0.3
    noise = rng.random((n_traces, 2, 3)) < 0.15
    traces = np.where(noise, ~truth, truth).astype(np.int8)
    segments = np.repeat(traces, per_trace, axis=0)
    groups = [f"t{i // per_trace:04d}" for i in range(n_traces * per_trace)]  # sorted = trace order
    return make_label_set(traces), make_label_set(segments, groups=groups)


def _width(entry: dict) -> float:
    return entry["mean_pairwise_kappa_ci_high"] - entry["mean_pairwise_kappa_ci_low"]


def test_trace_resampling_widens_intervals_on_clustered_data():
    traces, segments = _clustered(40, 6, seed=3)
    by_segment = compute_report(segments, bootstrap=400, seed=1, resample="segment")
    by_trace = compute_report(segments, bootstrap=400, seed=1, resample="trace")
    # Segments that copy their trace carry the information of 40 units, not 240: drawn one by one they give
    # intervals about sqrt(6) too narrow; drawn by trace they give what 40 independent traces give. The same
    # seed draws the same 40 trace indices, and kappa does not change when every count is multiplied by 6,
    # so the trace bootstrap equals the bootstrap of the 40 distinct traces exactly.
    alone = compute_report(traces, bootstrap=400, seed=1, resample="segment")
    for k in range(3):
        wide, narrow = _width(by_trace["modes"][k]), _width(by_segment["modes"][k])
        assert wide > 1.8 * narrow
        assert by_trace["modes"][k]["mean_pairwise_kappa_ci_low"] == pytest.approx(
            alone["modes"][k]["mean_pairwise_kappa_ci_low"])
    assert _width(by_trace["pooled"]) > 1.8 * _width(by_segment["pooled"])
    assert by_trace["params"]["resample"] == "trace" and by_segment["params"]["resample"] == "segment"


def test_core_default_follows_the_shape_of_the_data():
    traces, segments = _clustered(10, 3, seed=0)
    assert compute_report(segments, bootstrap=0)["params"]["resample"] == "trace"
    one_each = make_label_set(traces.values, groups=[f"t{i}" for i in range(10)])
    assert compute_report(one_each, bootstrap=0)["params"]["resample"] == "segment"
    assert compute_report(traces, bootstrap=0)["params"]["resample"] == "segment"  # no trace ids
    assert compute_report(segments, bootstrap=0, level="trace")["params"]["resample"] == "trace"


def _database(path, *, scheme: str, turns: int):
    """Six traces, `turns` segments each (whole traces when scheme is "trace"), labelled by two people."""
    db = store.connect(path)
    tax = store.get_taxonomy_by_id(db, store.save_taxonomy(db, load_taxonomy("mast")))
    codes = [m.code for m in tax.taxonomy.modes]
    rng = np.random.default_rng(7)
    with store.write(db):
        raters = [store.ensure_rater(db, name, "human") for name in ("ann", "bob")]
        for t in range(6):
            text = "".join(f"turn {i}\n" for i in range(turns))
            spans = [(7 * i, 7 * i + 7) for i in range(turns)] if scheme == "turn" else [(0, len(text))]
            trace_id, _ = store.insert_trace(db, store.TraceInput(
                f"t{t}", text, "test", "text", segments=[
                    store.SegmentInput(scheme, i, scheme, start, end) for i, (start, end) in enumerate(spans)]))
            segment_ids = [row[0] for row in db.execute(
                "SELECT id FROM segments WHERE trace_id = ? ORDER BY idx", [trace_id]).fetchall()]
            for segment_id in segment_ids:
                for rater_id in raters:
                    values = {tax.mode_ids[c]: int(rng.random() < 0.3) for c in codes}
                    store.write_labels(db, store.LabelWrite(segment_id, rater_id, tax.id, values))
    return db


@pytest.mark.parametrize("scheme, turns, expected", [("turn", 4, "trace"), ("trace", 1, "segment")])
def test_cli_and_service_default_follows_the_segmentation(tmp_path, scheme, turns, expected):
    path = tmp_path / f"{scheme}.db"
    db = _database(path, scheme=scheme, turns=turns)
    params = report_for(db, bootstrap=50)["params"]
    assert params["resample"] == expected
    assert ("turn- and window-level" in params["resample_reason"]) is (expected == "trace")
    db.conn.close()
    done = run_cli("report", "--format", "json", "--bootstrap", "50", db=path)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["params"]["resample"] == expected
    chosen = run_cli("report", "--format", "json", "--bootstrap", "50", "--resample", "segment", db=path)
    assert json.loads(chosen.stdout)["params"]["resample"] == "segment"
    assert "chosen" in json.loads(chosen.stdout)["params"]["resample_reason"]


def test_the_agreement_page_uses_the_same_default(tmp_path):
    """The app's report function passes no resample: report_for decides, as for the CLI."""
    from annotator.app.components.agreement_panels import Filters, _report

    path = tmp_path / "turn.db"
    _database(path, scheme="turn", turns=3).conn.close()
    filters = Filters(taxonomy="mast", raters=None, level="segment", tags=None, bootstrap=50)
    page = _report(str(path), (), filters)
    db = store.connect(path)
    cli = report_for(db, bootstrap=50)
    assert page["params"]["resample"] == cli["params"]["resample"] == "trace"
    assert page["modes"] == cli["modes"]
