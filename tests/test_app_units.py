"""Pure helpers of the web app: text folding and plain text, turns, report tables and charts, tags."""

from __future__ import annotations

import pytest
from app_helpers import make_app_db

from annotator.app.viewmodels import report_views
from annotator.app.viewmodels.text import TURN_PREVIEW_CHARS, fold, next_limit, plain, plain_body, turns_of
from annotator.app.viewmodels.uploads import parse_tags


def test_plain_strips_bidi_controls_from_short_texts():
    assert plain("trace-\u202eevil\u2066x\u2069") == "trace-evilx" and plain(None) == ""


def test_plain_body_shows_overrides_and_keeps_marks():
    shown = plain_body("a\u202eb\u2067c\u200fd")
    assert "\u202e" not in shown and "\u2067" not in shown
    assert shown == "a[U+202E]b[U+2067]c\u200fd"


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
    undefined = [mode["mean_pairwise_kappa"] is None for mode in app_report["modes"]]
    column = table["people: mean pairwise kappa"]  # with its interval: "0.50 [0.34, 0.66]"
    assert any(undefined) and not all(undefined)  # modes nobody marked: kappa undefined
    assert {v for v, u in zip(column, undefined) if u} == {"n/a"}
    assert all(len(v.split(" ")[0].split(".")[1]) == 2 for v, u in zip(column, undefined) if not u)


def _comparison(kappas: list[tuple[float | None, float | None, float | None]]) -> dict:
    """A judge comparison (services.judgelab.Comparison) with one mode and one judge per (kappa, low, high)."""
    judges = []
    for i, (kappa, low, high) in enumerate(kappas):
        judge = {"rater": f"judge:m@{i}", "n": 20, "kappa": kappa, "ci_low": low, "ci_high": high,
                 "flags": ["undefined"] if kappa is None else [], "precision": None if kappa is None else 0.5,
                 "precision_ci_low": None if kappa is None else 0.1, "precision_ci_high": None if kappa is None else 0.9,
                 "recall": 0.25, "recall_ci_low": 0.05, "recall_ci_high": 0.7, "f1": None, "f1_ci_low": None,
                 "f1_ci_high": None, "tp": 1, "fp": 1, "fn": 3, "tn": 15}
        if i:
            before = judges[-1]["kappa"]
            change = None if before is None or kappa is None else kappa - before
            judge["kappa_change"] = change
            judge["kappa_change_ci_low"] = None if change is None else change - 0.25
            judge["kappa_change_ci_high"] = None if change is None else change + 0.25
        judges.append(judge)
    overall = [{"rater": j["rater"], "n": 20, "tp": 1, "fp": 1, "fn": 3, "tn": 15, "precision": 0.5, "recall": 0.25,
                "f1": 1 / 3, "accuracy": 0.8, "mean_kappa": j["kappa"], "mean_kappa_modes_covered": 1} for j in judges]
    return {"taxonomy": "mast@1", "against": "gold", "split": "all", "segments": 20,
            "raters": [j["rater"] for j in judges], "modes": [{"code": "1.1", "name": "Disobey", "judges": judges}],
            "overall": overall, "leakage": {}, "params": {"bootstrap": 100, "seed": 0, "resample": "segment",
                                                         "resample_reason": "one segment per trace", "ci_methods": {}}}


def test_judge_lab_tables_format_kappas_with_intervals_and_changes():
    from annotator.app.viewmodels import judge_forms

    result = _comparison([(0.5, 0.25, 0.75), (0.375, None, None), (None, None, None), (-0.125, -0.5, 0.255)])
    rows = judge_forms.compare_rows(result)
    assert [r["kappa [95% CI]"] for r in rows] == ["0.50 [0.25, 0.75]", "0.38", "n/a", "-0.12 [-0.50, 0.26]"]
    assert [r["change [95% CI]"] for r in rows] == ["", "-0.12 [-0.38, +0.12]", "n/a", "n/a"]
    assert [r["precision [95% CI]"] for r in rows] == ["0.50 [0.10, 0.90]", "0.50 [0.10, 0.90]", "n/a",
                                                       "0.50 [0.10, 0.90]"]
    assert rows[0]["F1 [95% CI]"] == "n/a" and rows[0]["recall [95% CI]"] == "0.25 [0.05, 0.70]"
    assert rows[2]["flags"] == "undefined"
    overall = judge_forms.overall_rows(result)
    assert [o["mean kappa"] for o in overall] == ["0.50", "0.38", "n/a", "-0.12"]
    assert overall[0]["F1 [95% CI]"] == "0.33"  # no interval given: the value alone


def test_cli_and_app_show_a_judge_kappa_alike(capsys):
    """`judge compare` and the Judge lab write the same text for a kappa, defined or not (the CLI used to
    print "n/a [n/a, n/a]" where the page showed "n/a")."""
    from annotator.app.viewmodels import judge_forms
    from annotator.cli.judge import _print_comparison

    result = _comparison([(0.5, 0.25, 0.75), (None, None, None), (0.3, None, None)])
    _print_comparison(result)
    lines = capsys.readouterr().out.splitlines()
    first = lines.index(next(row for row in lines if row.startswith("1.1")))
    rows = [row.split() for row in lines[first:first + 3]]
    assert not any("[n/a" in row for row in lines)
    assert rows[0] == ["1.1", "[1]", "0.50", "[0.25,", "0.75]", "0.50", "[0.10,", "0.90]", "0.25", "[0.05,", "0.70]",
                       "n/a"]
    assert rows[1] == ["[2]", "n/a", "n/a", "n/a", "0.25", "[0.05,", "0.70]", "n/a"]
    assert rows[2][:3] == ["[3]", "0.30", "n/a"]
    assert [r["kappa [95% CI]"] for r in judge_forms.compare_rows(result)] == ["0.50 [0.25, 0.75]", "n/a", "0.30"]


def test_costs_read_alike_in_the_app():
    from annotator.app.viewmodels import judge_forms

    run = {"run_id": 1, "rater": "judge:m@1", "status": "done", "finished": 1200, "total": 1200, "failed": 0,
           "cached": 0, "selection": "all", "tokens": 10, "cost": None, "latency_p50_ms": None,
           "latency_p95_ms": None, "started_at": None, "error": None}
    assert judge_forms.run_rows([run])[0]["cost"] == "n/a (price unknown)"
    assert judge_forms.run_rows([{**run, "cost": 1234.5}])[0]["cost"] == "$1,234.5000"
    assert judge_forms.progress_text({**run, "cost": 0.5}).endswith("cost $0.5000")


def test_taxonomy_tables_say_n_a_for_undefined_kappas():
    from annotator.app.viewmodels import taxonomy_page

    ambiguous = [{"code": "1.1", "name": "Disobey", "category": "Spec", "human_kappa": None, "flags": ["undefined"],
                  "confused_with": [{"mode": "1.2", "count": 3, "rate": 0.1, "examples": ["4"]}],
                  "contested_examples": ["4"]},
                 {"code": "1.2", "name": "Role", "category": "Spec", "human_kappa": -0.125, "flags": [],
                  "confused_with": [], "contested_examples": []}]
    rows = taxonomy_page.ambiguity_rows(ambiguous)
    assert [r["human kappa"] for r in rows] == ["n/a", "-0.12"] and rows[0]["flags"] == "undefined"
    changes = [{"code": "3.2", "name": "Verification", "change": "merge", "from": ["3.2", "3.3"],
                "kappa_before": [0.755, None], "kappa_after": None},
               {"code": "9.9", "name": "New", "change": "add", "from": [], "kappa_before": [], "kappa_after": 1.0}]
    table = taxonomy_page.comparison_rows(changes)
    assert table[0]["kappa before"] == "0.76 / n/a" and table[0]["kappa after"] == "n/a"
    assert table[1]["kappa before"] == "–" and table[1]["kappa after"] == "1.00"


def test_readable_turns_pandas_nan_into_n_a_and_keeps_negative_signs():
    import pandas as pd

    table = pd.DataFrame({"kappa": [0.125, None, -0.335], "n": [10, 0, 3], "mode": ["a", "b", "c"]})
    shown = report_views.readable(table)
    assert list(shown["kappa"]) == ["0.12", "n/a", "-0.34"]
    assert list(shown["n"]) == [10, 0, 3] and list(shown["mode"]) == ["a", "b", "c"]


def test_annotator_rows_leave_out_people_who_label_nothing_and_say_times_in_words():
    from datetime import UTC, datetime

    from annotator.app.viewmodels import team

    now = datetime(2026, 11, 30, 14, 2, 30, tzinfo=UTC)
    people = [
        {"name": "alice", "role": "annotator", "active": 1, "assigned": 5, "done": 2, "unsure": 1, "skipped": 1,
         "last_submission": "2026-11-30T11:02:00.123456+00:00"},
        {"name": "bob", "role": "annotator", "active": 0, "assigned": 0, "done": 0, "unsure": 0, "skipped": 0,
         "last_submission": None},
        {"name": "rita", "role": "reviewer", "active": 1, "assigned": 0, "done": 0, "unsure": 0, "skipped": 0,
         "last_submission": None},
        {"name": "lead", "role": "admin", "active": 1, "assigned": 2, "done": 2, "unsure": 0, "skipped": 0,
         "last_submission": "2026-11-28T14:02:29+00:00"},  # an admin in the pool labels too
    ]
    rows = {r["annotator"]: r for r in team.annotator_rows(people, now)}
    assert list(rows) == ["alice", "bob", "lead"]
    assert rows["alice"]["remaining"] == 1 and rows["alice"]["last submission"] == "2026-11-30 11:02 UTC (3 hours ago)"
    assert rows["bob"]["last submission"] == "never" and rows["bob"]["active"] == "no"
    assert rows["lead"]["last submission"] == "2026-11-28 14:02 UTC (2 days ago)"
    assert team.when("2026-11-30T14:01:30", now).endswith("(1 minute ago)")  # a naive time is UTC
