"""The Annotate page as an expert uses it (issue 13): code in monospace, a turn's place and its
neighbours, unsure alone, the workload header, the codebook, one sign-out. AppTest; the layout and the
keyboard are in test_app_browser_annotate.py."""

from __future__ import annotations

from app_helpers import PAYLOADS, add_other_labels, add_trace, button, shown, signed_in, texts

from annotator import store
from annotator.app.viewmodels.text import text_blocks

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
