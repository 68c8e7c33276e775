"""The Annotate page as an expert uses it (issue 13): code in monospace, a turn's place and its
neighbours, unsure alone, the workload header, the codebook, one sign-out. AppTest; the layout and the
keyboard are in test_app_browser_annotate.py."""

from __future__ import annotations

import os
import re
import sqlite3

from app_helpers import MAIN, PAYLOADS, add_other_labels, add_trace, button, shown, signed_in, texts
from streamlit.testing.v1 import AppTest

from annotator import store
from annotator.app import keys
from annotator.app.viewmodels.text import text_blocks
from annotator.core.taxonomy import load_taxonomy

MAST = load_taxonomy("mast")

FENCED = "Plan first.\n```python\ndef f(x):\n    return x  # <script>alert(1)</script>\n```\nThen run it."


def test_fences_json_tool_calls_and_log_lines_become_code_blocks():
    assert text_blocks(FENCED) == [("prose", "Plan first.", None),
                                   ("code", "def f(x):\n    return x  # <script>alert(1)</script>", "python"),
                                   ("prose", "Then run it.", None)]
    mixed = ('I will call the tool.\n{"tool": "search", "args": {"q": "x"}}\n'
             "2024-01-01 12:00:01 INFO started\nsearch(query=\"abc\")\nIt failed (see above), sadly.")
    assert text_blocks(mixed) == [
        ("prose", "I will call the tool.", None),
        ("code", '{"tool": "search", "args": {"q": "x"}}\n2024-01-01 12:00:01 INFO started\nsearch(query="abc")', None),
        ("prose", "It failed (see above), sadly.", None)]
    # an unknown fence language is dropped (no highlighter guesses), an unclosed fence runs to the end
    assert text_blocks("~~~evil-lang\n![x](http://evil.test/p.png)") == [("code", "![x](http://evil.test/p.png)", None)]
    assert text_blocks("Just prose, (with brackets) and a colon: here.") == [
        ("prose", "Just prose, (with brackets) and a colon: here.", None)]


def _trace_with_code(db) -> None:
    add_trace(db, "code-trace", [("Planner", "Plan the work."),
                                 ("Coder", FENCED + "\n" + PAYLOADS[2]),
                                 ("Reviewer", "Looks fine.")])


def test_a_turn_shows_its_place_its_code_in_monospace_and_its_neighbours_on_demand(app_tokens, app_db, monkeypatch):
    _trace_with_code(app_db)
    coder = app_db.execute("SELECT s.id FROM segments s JOIN traces t ON t.id = s.trace_id"
                           " WHERE t.external_id = 'code-trace' AND s.scheme = 'turn' AND s.idx = 1").fetchone()[0]
    alice = store.user_for_token(app_db, app_tokens["alice"])
    app_db.execute("INSERT INTO assignments (segment_id, rater_id, assigned_at, status) VALUES (?, ?, '0', 'pending')",
                   [coder, alice.rater_id])
    app_db.conn.commit()
    at = signed_in(app_tokens["alice"])
    assert at.session_state["ann_current"] == coder
    assert any(shown(m.value) == "**turn 2 of 3** · Coder" for m in at.markdown)
    codes = [c.value for c in at.code]
    assert "def f(x):\n    return x  # <script>alert(1)</script>" in codes  # monospace, as written
    assert not any("<script>" in m.value or "evil" in m.value or "203.0.113.9" in m.value for m in at.markdown)
    assert any(PAYLOADS[2] in t.value for t in at.text)  # the Markdown image stays text
    assert "Plan the work." not in texts(at) and "Looks fine." not in texts(at)  # neighbours folded
    at.toggle(key="annotate_context").set_value(True).run()
    assert "Plan the work." in texts(at) and "Looks fine." in texts(at)
    assert any("Before: turn 1 of 3 · Planner" in shown(c.value) for c in at.caption)
    assert any("After: turn 3 of 3 · Reviewer" in shown(c.value) for c in at.caption)


def test_review_shows_a_turns_neighbours_on_demand(app_tokens, app_db):
    add_other_labels(app_db, 3, "annotator_1", {"1.1"})
    add_other_labels(app_db, 3, "annotator_2", {"1.2"})
    store.save_settings(app_db, reveal=True)
    at = signed_in(app_tokens["rita"], "views/review.py")
    assert at.selectbox(key="rev_pick").value == 3
    assert any(shown(m.value) == "**turn 2 of 3** · Coder" for m in at.markdown)
    assert "Trace 0 turn 0" not in texts(at)
    at.toggle(key="review_context").set_value(True).run()
    assert "Trace 0 turn 0" in texts(at) and "Trace 0 turn 2" in texts(at)


def test_unsure_alone_is_an_answer_left_out_of_agreement_unless_counted(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    seg = at.session_state["ann_current"]
    at.checkbox(key=f"ann_{seg}_unsure").check().run()
    button(at, "Submit").click().run()
    assert not at.exception and not at.error
    assert app_db.execute("SELECT segment_id, status FROM submissions").fetchall() == [(seg, "unsure")]
    assert app_db.execute("SELECT COUNT(*), SUM(value) FROM labels").fetchone() == (14, 0)  # every MAST mode, absent
    stored = store.get_taxonomy(app_db, "mast")
    assert store.load_label_set(app_db, stored, raters=["alice"]).units == ()  # unsure is not a label
    counted = store.load_label_set(app_db, stored, raters=["alice"], include_unsure=True)
    assert counted.units == (str(seg),) and (counted.values == 0).all()  # counted: her best guess, nothing seen


def test_nothing_ticked_is_refused_in_place_of_the_chips(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    button(at, "Submit").click().run()
    assert "or 'Unsure'" in shown(at.error[0].value)
    assert app_db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_a_database_locked_past_the_busy_timeout_is_one_line_and_the_answer_can_be_sent_again(
        app_tokens, app_db, monkeypatch):
    at = signed_in(app_tokens["alice"])
    seg = at.session_state["ann_current"]
    at.checkbox(key=f"ann_{seg}_none").check().run()
    monkeypatch.setattr(store.db, "BUSY_TIMEOUT_S", 0.2)  # the app's next connection waits 0.2 s, not 30
    locker = sqlite3.connect(os.environ["ANNOTATOR_DB"])
    locker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        button(at, "Submit").click().run()
    finally:
        locker.rollback()
        locker.close()
    assert not at.exception, at.exception
    errors = [shown(e.value) for e in at.error]
    assert [e for e in errors if "app.db: the database is locked by another program" in e], errors
    assert app_db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0  # nothing half-written
    assert at.checkbox(key=f"ann_{seg}_none").value  # her answer is still on the page
    button(at, "Submit").click().run()
    assert not at.exception and not at.error
    assert app_db.execute("SELECT segment_id, status FROM submissions").fetchall() == [(seg, "done")]


def test_a_database_locked_while_a_page_opens_is_one_line_not_a_traceback(app_tokens, app_db, monkeypatch):
    """Opening Annotate claims her segments (a write): outside the labelling fragment, main.py tells it."""
    monkeypatch.setattr(store.db, "BUSY_TIMEOUT_S", 0.2)
    locker = sqlite3.connect(os.environ["ANNOTATOR_DB"])
    locker.execute("BEGIN IMMEDIATE")
    try:
        at = AppTest.from_file(MAIN, default_timeout=30)
        at.query_params["token"] = app_tokens["alice"]
        at.run()
    finally:
        locker.rollback()
        locker.close()
    assert not at.exception, at.exception
    assert any("app.db: the database is locked by another program" in shown(e.value) for e in at.error), at.error
    at.run()  # the lock is gone: the page opens as usual
    assert not at.exception and not at.error and at.session_state["ann_current"]


def test_the_header_counts_her_workload_and_skip_is_not_done(app_tokens, app_db):
    # 2 traces x 3 turns are queued, k = 2: alice may label all six.
    at = signed_in(app_tokens["alice"])
    assert any("### Segment 1 of 6" in m.value for m in at.markdown)
    bar = lambda: next(str(p.proto) for p in at.get("progress"))  # noqa: E731
    assert "0 labelled · 0 skipped · 6 to go (1 in your list, up to 5 more from the queue)" in bar()
    button(at, "Skip").click().run()
    assert any("### Segment 2 of 6" in m.value for m in at.markdown)
    assert "0 labelled · 1 skipped · 5 to go" in bar()
    seg = at.session_state["ann_current"]
    at.checkbox(key=f"ann_{seg}_none").check().run()
    button(at, "Submit").click().run()
    assert "1 labelled · 1 skipped · 4 to go" in bar()
    # bob claims everything: with k = 2 there is still room for alice on each
    bob = store.user_for_token(app_db, app_tokens["bob"])
    assert store.claim(app_db, bob.rater_id, k=2, n=6)
    at.run()
    assert "1 labelled · 1 skipped · 4 to go" in bar()
    store.save_settings(app_db, k=1)  # now a segment bob holds is full: none of the queue is left for her
    at.run()
    assert "1 labelled · 1 skipped · 1 to go" in bar()


def test_one_sign_out_button(app_tokens):
    at = signed_in(app_tokens["alice"])
    assert [b.label for b in at.button].count("Sign out") == 1


def _codebook(at, seg: int):
    button(at, "Codebook").click().run()
    assert not at.exception, at.exception
    return at


def test_the_codebook_opens_beside_the_checklist_searchable_with_confusions(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    seg = at.session_state["ann_current"]
    _codebook(at, seg)
    page = texts(at)
    assert "1.1 Disobey Task Specification" in page and MAST.modes[-1].definition[:40] in page
    assert page.count("not enough labels yet") == 14  # nobody has labelled anything
    at.text_input(key="annotate_codebook_search").input("termination")
    _codebook(at, seg)  # AppTest reruns the whole page, which closes a dialog: open it again (the browser does not)
    titles = [shown(m.value) for m in at.markdown if re.match(r"\*\*\d", m.value)]
    wanted = {f"**{m.code} {m.name}**" for m in MAST.modes
              if any("termination" in t.lower() for t in (m.code, m.name, m.definition, *m.aliases))}
    assert set(titles) == wanted and 0 < len(wanted) < 14


def test_the_codebook_names_the_modes_people_confuse(app_tokens, app_db):
    # segment 2: ann says 1.1, ben says 1.2 (a co-confusion of 1.1 and 1.2); segment 3: both say 1.1 and 1.2.
    # Per (segment, pair) where both labelled both modes: 1 confusion in 2 comparisons = 50 %.
    add_other_labels(app_db, 2, "ann", {"1.1"})
    add_other_labels(app_db, 2, "ben", {"1.2"})
    add_other_labels(app_db, 3, "ann", {"1.1", "1.2"})
    add_other_labels(app_db, 3, "ben", {"1.1", "1.2"})
    add_other_labels(app_db, 3, "judge-x", {"2.1"}, kind="judge")  # judges do not count
    at = _codebook(signed_in(app_tokens["alice"]), 0)
    confusions = [shown(c.value) for c in at.caption if "Most often confused with" in c.value]
    assert len(confusions) == 14
    assert confusions[0] == "Most often confused with: 1.2 Disobey Role Specification (1 time, 50%)"
    assert confusions[1] == "Most often confused with: 1.1 Disobey Task Specification (1 time, 50%)"
    assert all("none so far" in c for c in confusions[2:])


_SYMBOLS = {"→": "arrowright", "←": "arrowleft", "esc": "escape", "1-9": "1-9"}


def _cheat_sheet_keys() -> set[str]:
    out = set()
    for keys_text, _ in keys.CHEAT_SHEET:
        for token in re.split(r"\s+/\s+|,\s*", keys_text.strip()):
            if token:
                out.add(_SYMBOLS.get(token.lower(), token.lower()))
    return out


def _bound_keys() -> set[str]:
    """Keys the script acts on, read from its source: the actions table, the chords, Enter and Escape."""
    table = re.search(r"const actions = \{(.*?)\n  \};", keys._JS, re.S).group(1)
    bound = {k.strip("'") for k in re.findall(r"^\s*('[^']+'|\w+):", table, re.M)}
    if "/^[1-9]$/.test(key)" in keys._JS:
        bound.add("1-9")
    if "key === 'enter'" in keys._JS:
        bound.add("enter")
    if "e.key === 'Escape'" in keys._JS:
        bound.add("escape")
    return bound


def test_the_cheat_sheet_lists_every_bound_key_and_only_those():
    assert _cheat_sheet_keys() == _bound_keys()
    assert {"r", "t", "c", "/", "escape", "1-9"} <= _bound_keys()
