"""Localisation in the app: marking the decisive error on the Annotate page, figures on the Agreement page."""

from __future__ import annotations

from app_helpers import button, signed_in, texts

from annotator import store
from annotator.services import localise


def _user(db, name):
    return next(u for u in store.list_users(db) if u.name == name)


def _trace_of(at, db):
    seg_id = next(int(b.key.split("_")[1]) for b in at.button if b.key and b.key.endswith("_loc_here"))
    return store.get_segment(db, seg_id)


def test_mark_the_turn_being_read_then_no_decisive_error(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    assert "Not localised yet." in texts(at)
    segment = _trace_of(at, app_db)
    here = button(at, f"Decisive error here (step {segment.idx})")
    here.click().run()
    assert not at.exception
    alice = _user(app_db, "alice")
    answer = localise.answer_of(app_db, alice.rater_id, segment.trace_id)
    assert [(f.step, f.agent, f.is_root_cause) for f in answer.failures] == [(segment.idx, segment.speaker, True)]
    assert f"step {segment.idx} · {segment.speaker}" in texts(at)
    button(at, "No decisive error").click().run()
    assert localise.answer_of(app_db, alice.rater_id, segment.trace_id).status == "no_error"
    assert any("green-badge" in m.value and "No decisive error" in m.value for m in at.markdown)


def test_the_mode_picked_goes_with_the_failure(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    segment = _trace_of(at, app_db)
    at.selectbox(key=f"ann_{segment.id}_loc_mode").select("1.3").run()
    button(at, f"Decisive error here (step {segment.idx})").click().run()
    answer = localise.answer_of(app_db, _user(app_db, "alice").rater_id, segment.trace_id)
    assert answer.root_cause.mode == "1.3"


def test_agreement_page_shows_localisation_without_mode_labels(app_tokens, app_db):
    alice, bob = _user(app_db, "alice"), _user(app_db, "bob")
    traces = [t for (t,) in app_db.execute("SELECT id FROM traces ORDER BY id")]
    for trace in traces:
        localise.save_answer(app_db, alice, trace, [store.Failure(1, "Coder")])
    localise.save_answer(app_db, bob, traces[0], [store.Failure(1, "Coder")])
    localise.save_answer(app_db, bob, traces[1], [store.Failure(2, "Reviewer")])
    at = signed_in(app_tokens["rita"], "views/agreement.py")
    assert not at.exception
    page = texts(at)
    assert "Localisation: rater pairs" in page
    table = at.dataframe[0].value
    row = table.iloc[0]
    assert (row["a"], row["b"], row["n"]) == ("alice", "bob", "2")
    assert row["agent accuracy"].startswith("0.50")
