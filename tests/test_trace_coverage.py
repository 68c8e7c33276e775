"""Trace level respects coverage (issue 10, item 4): absent only from a trace the rater labelled in full.

The dataset below is small enough to roll up by hand; the expected trace labels, the 2x2 table and
the coverage counts are written out from the rule, and the kappa is checked against scikit-learn.
"""

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from annotator import store
from annotator.core.agreement import LabelSet, build_report, rollup
from annotator.core.agreement.coverage import trace_coverage
from annotator.core.report import render
from annotator.core.taxonomy import load_taxonomy
from annotator.services.report import report_for

M = -1  # not labelled
# trace -> (segments, labels of rater a per segment, labels of rater b per segment), mode 1.1 only.
TRACES = {
    "T1": (3, [0, 0, 0], [0, 0, 1]),    # both in full: a absent, b present
    "T2": (3, [0, 0, M], [0, 0, 0]),    # a saw 2 of 3 and found nothing: missing for a; b absent
    "T3": (2, [1, M], [0, 1]),          # a saw 1 of 2 but it is positive: present for a; b present
    "T4": (2, [0, 0], [0, 0]),          # both in full, both absent
    "T5": (4, [0, M, M, M], [M, M, M, 0]),  # each saw one turn: missing for both
    "T6": (2, [0, M], [0, M]),          # nobody labelled turn 2: missing for both (the store knows it exists)
}
# Rolled up by hand from the rule: (a, b) per trace.
EXPECTED_TRACE_LABELS = {"T1": (0, 1), "T2": (M, 0), "T3": (1, 1), "T4": (0, 0), "T5": (M, M), "T6": (M, M)}
# Traces both raters touched: all six; in full by both: T1 and T4.
EXPECTED_COVERAGE = {"traces": 6, "full": 2, "partial": 4}
# The rule before issue 10 (absent as soon as a rater labelled any segment), for contrast.
OLD_RULE_LABELS = {"T1": (0, 1), "T2": (0, 0), "T3": (1, 1), "T4": (0, 0), "T5": (0, 0), "T6": (0, 0)}


def _segment_label_set(*, with_sizes: bool) -> LabelSet:
    units, groups, sizes, values = [], [], [], []
    for trace, (size, a, b) in TRACES.items():
        for i in range(size):
            if a[i] == M and b[i] == M:
                continue  # like the store: a segment nobody labelled is not a unit
            units.append(f"{trace}#{i}")
            groups.append(trace)
            sizes.append(size)
            values.append([[a[i]], [b[i]]])
    return LabelSet(tuple(units), ("a", "b"), ("human", "human"), (("1.1", "x", "c"),), np.array(values, np.int8),
                    unit_groups=tuple(groups), group_sizes=tuple(sizes) if with_sizes else None)


def test_rollup_follows_the_rule_written_out_by_hand():
    traces = rollup(_segment_label_set(with_sizes=True))
    assert traces.units == tuple(TRACES)
    got = {t: tuple(int(v) for v in traces.values[i, :, 0]) for i, t in enumerate(traces.units)}
    assert got == EXPECTED_TRACE_LABELS


def test_without_sizes_the_units_in_the_set_are_the_whole_trace():
    """T6's second turn is unknown to a LabelSet without sizes: both raters then covered T6 in full."""
    traces = rollup(_segment_label_set(with_sizes=False))
    got = {t: tuple(int(v) for v in traces.values[i, :, 0]) for i, t in enumerate(traces.units)}
    assert got == {**EXPECTED_TRACE_LABELS, "T6": (0, 0)}


def _pair_expectation(labels: dict[str, tuple[int, int]]) -> tuple[int, float]:
    both = [(a, b) for a, b in labels.values() if a != M and b != M]
    y_a, y_b = [a for a, _ in both], [b for _, b in both]
    return len(both), cohen_kappa_score(y_a, y_b)


def test_trace_level_report_uses_the_rule_and_reports_coverage():
    report = build_report(_segment_label_set(with_sizes=True), bootstrap=0, level="trace")
    pair = report["modes"][0]["pairs"][0]
    n, kappa = _pair_expectation(EXPECTED_TRACE_LABELS)
    assert (pair["n"], pair["both"], pair["a_only"], pair["b_only"], pair["neither"]) == (3, 1, 0, 1, 1)
    assert pair["n"] == n and pair["kappa"] == pytest.approx(kappa) == pytest.approx(0.4)
    old_n, old_kappa = _pair_expectation(OLD_RULE_LABELS)
    assert (old_n, round(old_kappa, 3)) != (pair["n"], round(pair["kappa"], 3))  # the rule changed the figure
    assert report["trace_coverage"] == [{"a": "a", "b": "b", **EXPECTED_COVERAGE}]
    assert "Trace coverage per pair" in render(report, "md")
    assert "Trace coverage per pair" in render(report, "html")
    segment_level = build_report(_segment_label_set(with_sizes=True), bootstrap=0, level="segment")
    assert "trace_coverage" not in segment_level


def test_coverage_of_three_raters_counts_each_pair():
    values = np.array([[[0], [0], [M]], [[0], [M], [M]], [[1], [1], [0]]], np.int8)
    ls = LabelSet(("x#0", "x#1", "y#0"), ("a", "b", "c"), ("human",) * 3, (("1.1", "x", "c"),), values,
                  unit_groups=("x", "x", "y"), group_sizes=(2, 2, 1))
    got = {(c["a"], c["b"]): (c["traces"], c["full"], c["partial"]) for c in trace_coverage(ls)}
    # x: a full, b half, c none; y: everyone full.
    assert got == {("a", "b"): (2, 1, 1), ("a", "c"): (1, 1, 0), ("b", "c"): (1, 1, 0)}


def test_group_sizes_are_checked():
    values = np.zeros((2, 1, 1), np.int8)
    with pytest.raises(ValueError, match="two sizes"):
        LabelSet(("s1", "s2"), ("a",), ("human",), (("1.1", "x", "c"),), values, unit_groups=("t", "t"),
                 group_sizes=(2, 3))
    with pytest.raises(ValueError, match="units but a size"):
        LabelSet(("s1", "s2"), ("a",), ("human",), (("1.1", "x", "c"),), values, unit_groups=("t", "t"),
                 group_sizes=(1, 1))


def test_database_trace_level_counts_turns_nobody_labelled(tmp_path):
    """Through the store: each trace also has a whole-trace segment (another scheme), which is not a
    turn to cover; T6's unlabelled second turn is."""
    db = store.connect(tmp_path / "cov.db")
    tax = store.get_taxonomy_by_id(db, store.save_taxonomy(db, load_taxonomy("mast")))
    mode = tax.mode_ids["1.1"]
    with store.write(db):
        raters = [store.ensure_rater(db, name, "human") for name in ("a", "b")]
        for trace, (size, *labels) in TRACES.items():
            segments = [store.SegmentInput("trace", 0, "trace", 0, 10 * size)]
            segments += [store.SegmentInput("turn", i, "turn", 10 * i, 10 * i + 10) for i in range(size)]
            trace_id, _ = store.insert_trace(db, store.TraceInput(trace, "x" * 10 * size, "test", "text",
                                                                  segments=segments))
            turns = [row[0] for row in db.execute(
                "SELECT id FROM segments WHERE trace_id = ? AND scheme = 'turn' ORDER BY idx", [trace_id])]
            for rater, per_turn in zip(raters, labels):
                for segment, value in zip(turns, per_turn):
                    if value != M:
                        store.write_labels(db, store.LabelWrite(segment, rater, tax.id, {mode: value}))
    report = report_for(db, level="trace", bootstrap=0, raters=["a", "b"])
    pair = next(m for m in report["modes"] if m["code"] == "1.1")["pairs"][0]
    assert (pair["n"], pair["both"], pair["a_only"], pair["b_only"], pair["neither"]) == (3, 1, 0, 1, 1)
    assert report["trace_coverage"] == [{"a": "a", "b": "b", **EXPECTED_COVERAGE}]


def test_doctest_examples_hold():
    import doctest

    from annotator.core.agreement import coverage

    result = doctest.testmod(coverage, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_agreement_page_shows_trace_coverage(app_tokens, app_db):
    from app_helpers import add_other_labels, signed_in

    # app_db: trace-0 has turns 2, 3, 4 and trace-1 turns 6, 7, 8 (segments 1 and 5 are the whole traces).
    for segment in (2, 3, 4, 6):
        add_other_labels(app_db, segment, "annotator_1", {"1.1"} if segment == 3 else set())
    for segment in (2, 3, 6):
        add_other_labels(app_db, segment, "annotator_2", {"1.1"})
    at = signed_in(app_tokens["rita"], "views/agreement.py")
    at.radio[0].set_value("trace")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception and not at.error
    tables = [d.value for d in at.dataframe if "partial" in d.value.columns]
    assert len(tables) == 1
    # trace-0: annotator_1 in full, annotator_2 in part; trace-1: both in part.
    assert tables[0][["a", "b", "traces", "full", "partial"]].values.tolist() == [
        ["annotator_1", "annotator_2", 2, 0, 2]]
