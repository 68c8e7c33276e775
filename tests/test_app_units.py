"""Pure helpers of the web app: text folding and safe labels, turns, report tables and charts, tags."""

from __future__ import annotations

import pytest
from app_helpers import PAYLOADS, make_app_db

from annotator.app.viewmodels import report_views
from annotator.app.viewmodels.text import TURN_PREVIEW_CHARS, fold, next_limit, safe_label, turns_of
from annotator.app.viewmodels.uploads import parse_tags


@pytest.mark.parametrize("raw", [*PAYLOADS, "[x](javascript:alert(1))", ":red[x]", "**b** _i_ `c`", "# h", "1. x"])
def test_safe_label_leaves_nothing_markdown_or_html_can_use(raw):
    label = safe_label(raw)
    assert not set(label) & set("<>[]()!*`$#:=\"/{}|~^&;")
    assert 0 < len(label.replace("\\", "")) <= 40


def test_safe_label_keeps_ordinary_names():
    assert safe_label("Planner") == "Planner"
    assert safe_label("Inner-Navigator_2") == "Inner\\-Navigator\\_2"
    assert safe_label("") == "?" and safe_label(None) == "?"


def test_fold_cuts_at_a_line_break_near_the_limit():
    text = ("x" * 90 + "\n") * 50
    shown, hidden = fold(text, 1000)
    assert shown.endswith("x") and len(shown) <= 1000 and hidden == len(text) - len(shown)
    assert fold("short", 1000) == ("short", 0)
    long_line = "A" * 2_000_000
    shown, hidden = fold(long_line, TURN_PREVIEW_CHARS)
    assert len(shown) == TURN_PREVIEW_CHARS and hidden == 2_000_000 - TURN_PREVIEW_CHARS
    assert next_limit(TURN_PREVIEW_CHARS) == 10 * TURN_PREVIEW_CHARS


def test_turns_of_a_turn_segment_is_itself():
    assert turns_of("hello", kind="turn", speaker="Coder") == [("Coder", "hello")]
    assert turns_of("", kind="trace", speaker=None) == [(None, "")]


def test_turns_of_a_trace_cover_its_text():
    text = "Planner: first\nCoder: second\nReviewer: third"
    turns = turns_of(text, kind="trace", speaker=None)
    assert "".join(body for _, body in turns) == text


def test_parse_tags():
    assert parse_tags("round=2, batch = a\nsplit=dev") == {"round": "2", "batch": "a", "split": "dev"}
    assert parse_tags("") == {}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_tags("round")


@pytest.fixture
def app_report(tmp_path):
    from app_helpers import add_other_labels

    from annotator import store

    make_app_db(tmp_path / "r.db", traces=3, turns=2)
    db = store.connect(tmp_path / "r.db")
    for seg in (2, 3, 5, 6):
        add_other_labels(db, seg, "ann_a", {"1.1"})
        add_other_labels(db, seg, "ann_b", {"2.2"} if seg % 2 else {"1.1", "3.3"})
    from annotator.services.report import report_for

    return report_for(db, bootstrap=50)


def test_report_tables_keep_undefined_as_none(app_report):
    rows = report_views.kappa_rows(app_report)
    assert len(rows) == 14 and set(rows["pair"]) == {"ann_a vs ann_b"}
    undefined = rows[rows["kappa"].isna()]
    assert not undefined.empty and set(undefined["kappa_text"]) == {"n/a"}
    assert list(report_views.mode_summary(app_report)["mode"])[:2] == ["1.1 Disobey Task Specification",
                                                                       "1.2 Disobey Role Specification"]
    matrix = report_views.pair_matrix(app_report)
    assert set(zip(matrix["rater"], matrix["other"])) == {("ann_a", "ann_b"), ("ann_b", "ann_a")}
    assert {("1.1", "2.2")} <= set(zip(*[report_views.co_confusion(app_report)[c] for c in ("a_mode", "b_mode")]))


def test_charts_are_vega_lite_without_undefined_points(app_report):
    rows = report_views.kappa_rows(app_report)
    spec = report_views.kappa_chart(rows).to_dict()
    [values] = [v for v in spec["datasets"].values() if v and "kappa" in v[0]]
    assert all(v["kappa"] is not None for v in values) and len(values) < len(rows)
    assert report_views.matrix_chart(report_views.pair_matrix(app_report)).to_dict()["layer"]
    assert report_views.co_confusion_chart(report_views.co_confusion(app_report)).to_dict()["layer"]


def test_empty_report_gives_empty_tables():
    empty = {"modes": [], "pooled": {"pairs": []}, "co_confusion": []}
    assert report_views.kappa_rows(empty).empty and report_views.pair_matrix(empty).empty
    assert report_views.co_confusion(empty).empty and report_views.mode_summary(empty).empty


def test_readable_tables_say_n_a_for_undefined(app_report):
    summary = report_views.mode_summary(app_report)
    table = report_views.readable(summary)
    undefined = summary["mean pairwise kappa"].isna()
    assert undefined.any() and not undefined.all()  # modes nobody marked: kappa undefined
    assert set(table["mean pairwise kappa"][undefined]) == {"n/a"}
    assert all(len(v.split(".")[1]) == 2 for v in table["mean pairwise kappa"][~undefined])
