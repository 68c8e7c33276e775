"""The Review page (adjudication) through AppTest, and the review service behind it."""

from __future__ import annotations

from app_helpers import PAYLOADS, add_other_labels, add_trace, button, shown, signed_in, texts

from annotator import store
from annotator.app.components import review_panels
from annotator.services import review


def _disagree(db, *, reveal: bool = True) -> None:
    """Segment 3: three disputed modes; segment 2: one; segment 4: agreement. Two annotators each."""
    add_other_labels(db, 2, "annotator_1", {"1.1", "2.2"})
    add_other_labels(db, 2, "annotator_2", {"1.1"})
    add_other_labels(db, 3, "annotator_1", {"3.1"})
    add_other_labels(db, 3, "annotator_2", {"1.2", "2.2"})
    add_other_labels(db, 4, "annotator_1", {"1.1"})
    add_other_labels(db, 4, "annotator_2", {"1.1"})
    store.save_settings(db, reveal=reveal)


def _gold(db, segment_id: int) -> dict[str, dict]:
    return store.gold_of_segment(db, segment_id, store.get_taxonomy(db, "mast").id)


def _radio(at, segment_id: int, code: str):
    return at.radio(key=review_panels._mode_key(segment_id, code))


# --------------------------------------------------------------------------------------------------
# The service

def test_contested_segments_are_ranked_and_track_adjudication(app_db):
    _disagree(app_db)
    stored = store.get_taxonomy(app_db, "mast")
    rows = review.contested_segments(app_db, stored)
    assert [(r.segment_id, r.disputed_modes) for r in rows] == [(3, ("1.2", "2.2", "3.1")), (2, ("2.2",))]
    assert review.next_open(rows) == 3 and review.next_open(rows, after=3) == 2
    assert [r.segment_id for r in review.with_mode(rows, "2.2")] == [3, 2]
    assert [r.segment_id for r in review.with_mode(rows, "3.1")] == [3]
    from annotator.services.gold import adjudicate

    adjudicate(app_db, 3, {"1.2": 0, "2.2": 1}, adjudicator="rita")  # 3.1 still open
    assert not review.contested_segments(app_db, stored)[0].adjudicated
    adjudicate(app_db, 3, {"3.1": 1}, adjudicator="rita")
    rows = review.contested_segments(app_db, stored)
    assert rows[0].adjudicated and review.next_open(rows) == 2 and review.next_open(rows, after=2) is None


def test_a_segment_review_suggests_the_majority_and_hides_names(app_db):
    _disagree(app_db)
    add_other_labels(app_db, 2, "annotator_3", {"2.2"})
    add_other_labels(app_db, 2, "judge:m@v", {"3.3"}, kind="judge")
    stored = store.get_taxonomy(app_db, "mast")
    hidden = review.load_review(app_db, 2, stored, include_judges=True)
    assert [c.label for c in hidden.raters] == ["rater 1", "rater 2", "rater 3", "judge 1"]
    assert hidden.disputed == ("1.1", "2.2") and hidden.suggestion["2.2"] == 1 and hidden.suggestion["1.1"] == 1
    assert hidden.suggestion["3.3"] == 0  # the judge does not vote
    rows = {r["mode"].split()[0]: r for r in review.label_rows(hidden)}
    assert rows["2.2"]["rater 1"] == "✓" and rows["2.2"]["rater 2"] == "–"
    assert review.reasons(hidden, "2.2") == [("rater 1", "✓ annotator_1 says 2.2"), ("rater 3", "✓ annotator_3 says 2.2")]
    named = review.load_review(app_db, 2, stored, names="names")
    assert [c.label for c in named.raters] == ["annotator_1", "annotator_2", "annotator_3"]
    tie = review.load_review(app_db, 3, stored)
    assert tie.suggestion["3.1"] is None and tie.suggestion["1.3"] == 0
    assert review.load_review(app_db, 999, stored) is None
    assert not review.load_review(app_db, 7, stored).labelled


# --------------------------------------------------------------------------------------------------
# The page

def test_review_waits_for_the_reveal_phase(app_tokens, app_db):
    _disagree(app_db, reveal=False)
    at = signed_in(app_tokens["rita"], "views/review.py")
    assert "reveal phase" in shown(at.info[0].value) and not at.radio and not at.dataframe
    assert not [b for b in at.button if b.label == "Open the reveal phase now"]  # only the lead opens it
    lead = signed_in(app_tokens["lead"], "views/review.py")
    button(lead, "Open the reveal phase now").click().run()
    assert store.get_settings(app_db).reveal and lead.dataframe


def test_adjudicate_the_most_contested_segment(app_tokens, app_db):
    _disagree(app_db)
    at = signed_in(app_tokens["rita"], "views/review.py")
    assert at.selectbox(key="rev_pick").value == 3 and at.selectbox(key="rev_pick").options[:2] == [
        "segment 3 · 3 disputed: 1.2, 2.2, 3.1", "segment 2 · 1 disputed: 2.2"]
    assert any("0 adjudicated / 2 contested" in str(p.proto) for p in at.get("progress"))
    assert _radio(at, 3, "3.1").value is None  # a tie between two raters: no default
    assert _radio(at, 3, "1.1").value == "absent"  # both said absent
    button(at, "Save gold").click().run()
    assert "choose present or absent for 1.2, 2.2, 3.1" in shown(at.error[0].value) and not _gold(app_db, 3)
    _radio(at, 3, "1.2").set_value("absent")
    _radio(at, 3, "2.2").set_value("present")
    _radio(at, 3, "3.1").set_value("present")
    at.text_area(key="rev_3_note").input("the agent stops before the tests ran")
    button(at, "Save gold").click().run()
    assert not at.exception and not at.error
    gold = _gold(app_db, 3)
    assert len(gold) == 14 and {g["provenance"] for g in gold.values()} == {"adjudicated"}
    assert {g["adjudicator"] for g in gold.values()} == {"rita"}
    assert {c for c, g in gold.items() if g["value"]} == {"2.2", "3.1"}
    assert gold["2.2"]["note"] == "the agent stops before the tests ran"
    assert at.session_state["rev_current"] == 2  # on to the next open segment
    assert any("1 adjudicated / 2 contested" in str(p.proto) for p in at.get("progress"))
    at.selectbox(key="rev_pick").set_value(3).run()
    assert _radio(at, 3, "3.1").value == "present" and "adjudicated by rita" in texts(at)


def _names_shown(at) -> bool:
    """Whether a rater's name appears anywhere but inside her rationale (the test rationales quote it)."""
    page = texts(at)
    for quoted in ("annotator_1 says", "annotator_2 says", "judge:m@v says"):
        page = page.replace(quoted, "")
    return "annotator_1" in page or "annotator_2" in page


def test_names_are_hidden_unless_the_lead_allows_them(app_tokens, app_db):
    _disagree(app_db)
    add_other_labels(app_db, 3, "judge:m@v", {"3.3"}, kind="judge")
    at = signed_in(app_tokens["rita"], "views/review.py")
    table = at.dataframe[0].value
    assert list(table.columns) == ["mode", "rater 1", "rater 2", "gold now"] and not _names_shown(at)
    at.toggle(key="rev_judges").set_value(True).run()
    assert list(at.dataframe[0].value.columns) == ["mode", "rater 1", "rater 2", "judge 1", "gold now"]
    assert not _names_shown(at) and "judge:m@v" not in texts(at).replace("judge:m@v says", "")
    store.save_settings(app_db, reveal_names="names")
    at.run()
    assert {"annotator_1", "annotator_2"} <= set(at.dataframe[0].value.columns)


def test_the_mode_filter_and_opening_a_segment_by_number(app_tokens, app_db):
    _disagree(app_db)
    at = signed_in(app_tokens["rita"], "views/review.py")
    at.selectbox(key="rev_mode").set_value("3.1").run()
    assert at.selectbox(key="rev_pick").options == ["segment 3 · 3 disputed: 1.2, 2.2, 3.1"]
    at.selectbox(key="rev_mode").set_value("1.4").run()
    assert "No contested segment disputes this mode" in shown(at.success[0].value)
    at.number_input(key="rev_open").set_value(7).run()
    button(at, "Open").click().run()
    assert at.session_state["rev_current"] == 7
    assert "No person has labelled segment 7" in shown(at.warning[0].value)  # nothing to adjudicate: no form
    assert not [b for b in at.button if b.label == "Save gold"]


def test_saving_gold_for_a_segment_that_lost_its_labels_changes_nothing(app_tokens, app_db):
    _disagree(app_db)
    at = signed_in(app_tokens["rita"], "views/review.py")
    for code in ("1.2", "2.2", "3.1"):
        _radio(at, 3, code).set_value("absent")
    app_db.execute("DELETE FROM labels WHERE segment_id = 3")  # e.g. labels withdrawn meanwhile
    app_db.conn.commit()
    button(at, "Save gold").click().run()
    assert "Nothing saved: segment 3 has no labels under mast@1" in shown(at.error[0].value)
    assert not _gold(app_db, 3)


def test_build_gold_for_the_rest(app_tokens, app_db):
    _disagree(app_db)
    add_other_labels(app_db, 2, "annotator_3", {"2.2"})
    at = signed_in(app_tokens["lead"], "views/review.py")
    at.radio(key="rev_strategy").set_value("majority")
    button(at, "Build gold").click().run()
    assert "gold labels on 3 segments (majority)" in shown(at.success[0].value)
    assert _gold(app_db, 2)["2.2"] == {**_gold(app_db, 2)["2.2"], "value": 1, "provenance": "majority"}
    assert _gold(app_db, 4)["1.1"]["provenance"] == "unanimous"


def test_trace_text_and_names_on_the_review_page_are_plain_text(app_tokens, app_db):
    trace = add_trace(app_db, "evil", [("<b>Boss</b>", p) for p in PAYLOADS], scheme="trace")
    [segment] = [s.id for s in store.segments_of_trace(app_db, trace, "trace")]
    add_other_labels(app_db, segment, "annotator_1", {"1.1"})
    add_other_labels(app_db, segment, "<img src=x onerror=alert(1)>", {"2.2"})
    store.save_settings(app_db, reveal=True, reveal_names="names")
    at = signed_in(app_tokens["rita"], "views/review.py")
    assert at.session_state["rev_current"] == segment
    rendered = [e.value for kind in ("markdown", "caption") for e in at.get(kind)] + [e.label for e in at.expander]
    for payload in PAYLOADS:
        assert not any(payload[:12] in r for r in rendered)
    assert any(PAYLOADS[0] in t.value for t in at.text)  # shown, as plain text


def test_gold_built_then_a_fourth_rater_disagrees_reads_stale_on_the_page(app_tokens, app_db):
    """Unanimous gold on segment 4; a third annotator then says otherwise: the page marks the gold stale."""
    from annotator.services.gold import build_gold

    _disagree(app_db)
    build_gold(app_db, strategy="unanimous")
    assert _gold(app_db, 4)["1.1"]["provenance"] == "unanimous"
    add_other_labels(app_db, 4, "annotator_3", {"2.2"})  # labelled after gold was built
    at = signed_in(app_tokens["rita"], "views/review.py")
    at.selectbox(key="rev_pick").set_value(4).run()
    assert any("Stale gold" in w.value for w in at.warning)
    table = at.dataframe[0].value
    gold_now = dict(zip(table["mode"].str.split().str[0], table["gold now"]))
    assert gold_now["1.1"] == "stale · ✓ unanimous"  # the mark comes first: a narrow column cannot hide it
    assert any(o.startswith("⚠ stale · segment 4 ") for o in at.selectbox(key="rev_pick").options)


def test_the_naming_rule_is_checked_and_reads_the_old_yes_no_setting(app_db):
    import json

    import pytest

    with pytest.raises(store.StoreError, match="reveal_names must be one of anonymous, names"):
        store.save_settings(app_db, reveal_names="initials")
    assert store.get_settings(app_db).reveal_names == "anonymous"  # the default; unchanged by the refusal
    for old, new in ((True, "names"), (False, "anonymous")):  # stored as "reviewers see names" before
        app_db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('review.names', ?)", [json.dumps(old)])
        app_db.conn.commit()
        assert store.get_settings(app_db).reveal_names == new
