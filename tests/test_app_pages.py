"""Every page and role through streamlit.testing.v1.AppTest."""

from __future__ import annotations

import re

import pytest
from app_helpers import MAIN, PAYLOADS, add_other_labels, add_trace, button, page_path, shown, signed_in, texts
from streamlit.testing.v1 import AppTest

from annotator import store
from annotator.services import annotate


def mode_box(at: AppTest, code: str):
    return next(c for c in at.checkbox if shown(c.label).startswith(f"{code} "))


# --------------------------------------------------------------------------------------------------
# Sign-in

def test_sign_in_with_the_access_token_form(app_tokens):
    at = AppTest.from_file(MAIN, default_timeout=30).run()
    field = at.text_input(key="sign_in_token")
    assert field.label == "Access token" and not at.checkbox  # no data before sign-in
    field.input(app_tokens["alice"])
    at.button[0].click().run()
    assert not at.exception
    assert any("Segment 1 of " in shown(m.value) for m in at.markdown)


def _forgets_the_link(at: AppTest) -> bool:
    """The script that takes the token out of the address is on the page (the browser test runs it)."""
    return any("annotator_forget_link" in str(e.proto) for e in at.get("bidi_component"))


def test_sign_in_link_signs_in_and_has_the_browser_forget_it(app_tokens):
    at = signed_in(app_tokens["alice"])
    assert _forgets_the_link(at)
    assert any(shown(c.label).startswith("1.1 ") for c in at.checkbox)
    box = mode_box(at, "1.1").check().run()  # a rerun still sees the token: her ticks stay
    assert mode_box(box, "1.1").value


@pytest.mark.parametrize("token", ["wrong-token", ""])
def test_a_wrong_token_gets_a_clear_message_and_no_data(app_tokens, token):
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.query_params["token"] = token or "x"
    at.run()
    assert "not valid" in shown(at.error[0].value)
    assert _forgets_the_link(at)
    assert not at.checkbox and not at.text  # no segment, no labels
    assert "Trace 0" not in texts(at)


def test_a_used_up_token_stops_working(app_tokens, app_db):
    store.reset_token(app_db, "alice")
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.query_params["token"] = app_tokens["alice"]
    at.run()
    assert "not valid" in shown(at.error[0].value) and not at.checkbox


def test_a_reset_token_ends_an_open_session(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    store.reset_token(app_db, "alice")
    at.run()
    assert not at.checkbox and "session ended" in texts(at)


def test_sign_out(app_tokens):
    at = signed_in(app_tokens["alice"])
    button(at, "Sign out").click().run()
    assert at.text_input(key="sign_in_token") and not at.checkbox


# --------------------------------------------------------------------------------------------------
# Roles and pages

@pytest.mark.parametrize("role, allowed, refused", [
    ("alice", ["views/annotate.py"], ["views/agreement.py", "views/data.py", "views/review.py"]),
    ("rita", ["views/review.py", "views/agreement.py", "views/taxonomy.py"], ["views/data.py", "views/judge_lab.py"]),
    ("lead", ["views/data.py", "views/judge_lab.py", "views/taxonomy.py", "views/review.py"], []),
])
def test_each_role_sees_only_its_pages(app_tokens, role, allowed, refused):
    at = signed_in(app_tokens[role])
    for page in allowed:
        at.switch_page(page_path(page)).run()
        assert not at.exception, (page, at.exception)
        assert not any("do not have access" in e.value for e in at.error), page
    for page in refused:  # not registered for this role: AppTest cannot even switch to it
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page_path(page))


def test_pages_refuse_a_role_that_is_too_low(app_tokens):
    """Each page checks the role itself too, should it ever be reached without the menu."""
    from annotator.app.viewmodels.navigation import allowed, pages_for

    assert [p.title for p in pages_for("annotator")] == ["Annotate"]
    assert [p.title for p in pages_for("reviewer")] == ["Annotate", "Review", "Agreement", "Taxonomy"]
    assert len(pages_for("admin")) == 6 and not allowed("annotator", "admin") and not allowed("nobody", "annotator")


# --------------------------------------------------------------------------------------------------
# Annotate

def test_label_and_submit_shows_the_next_segment(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    first = at.session_state["ann_current"]
    mode_box(at, "1.3").check().run()
    assert any("1\\.3" in m.value and "badge" in shown(m.value) for m in at.markdown)  # the ticked chip
    button(at, "Submit").click().run()
    assert not at.exception
    alice = store.user_for_token(app_db, app_tokens["alice"])
    tax = store.get_taxonomy(app_db, "mast")
    [mine] = store.labels_for_segment(app_db, first, tax.id, rater_id=alice.rater_id)
    assert {c for c, v in mine.values.items() if v} == {"1.3"} and len(mine.values) == 14
    assert at.session_state["ann_current"] != first
    assert any("1 labelled · 0 skipped · 5 to go" in str(p.proto) for p in at.get("progress"))


def test_submit_without_a_choice_is_refused(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    button(at, "Submit").click().run()
    assert "No failure" in shown(at.error[0].value)
    assert app_db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_no_failure_unticks_modes_and_submits_zeros(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    seg = at.session_state["ann_current"]
    mode_box(at, "2.1").check().run()
    at.checkbox(key=f"ann_{seg}_none").check().run()
    assert mode_box(at, "2.1").value is False
    button(at, "Submit").click().run()
    assert app_db.execute("SELECT SUM(value), COUNT(*) FROM labels WHERE segment_id = ?", [seg]).fetchone() == (0, 14)


def test_ticks_survive_the_mode_filter(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    seg = at.session_state["ann_current"]
    mode_box(at, "1.1").check().run()
    at.text_input(key=f"ann_{seg}_filter").input("verification").run()
    [folded] = [e for e in at.expander if e.label.startswith("Other modes")]  # the rest fold away
    inside = {shown(c.label)[:3] for c in folded.checkbox}
    assert "1.1" in inside and not {"3.2", "3.3"} & inside
    mode_box(at, "3.2").check().run()
    at.text_input(key=f"ann_{seg}_filter").input("").run()
    assert mode_box(at, "1.1").value and mode_box(at, "3.2").value
    button(at, "Submit").click().run()
    rows = app_db.execute("SELECT m.code FROM labels l JOIN modes m ON m.id = l.mode_id WHERE l.segment_id = ?"
                      " AND l.value = 1 ORDER BY m.code", [seg]).fetchall()
    assert [r[0] for r in rows] == ["1.1", "3.2"]


def test_rationale_and_unsure(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    seg = at.session_state["ann_current"]
    mode_box(at, "2.4").check().run()
    at.text_input(key=f"ann_{seg}_m_2_4_why").input("agent kept the file path to itself").run()
    at.checkbox(key=f"ann_{seg}_unsure").check().run()
    button(at, "Submit").click().run()
    assert app_db.execute("SELECT status FROM submissions").fetchone()[0] == "unsure"
    assert app_db.execute("SELECT rationale FROM labels WHERE value = 1").fetchone()[0] == "agent kept the file path to itself"


def test_skip(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    seg = at.session_state["ann_current"]
    button(at, "Skip").click().run()
    assert app_db.execute("SELECT segment_id, status FROM submissions").fetchall() == [(seg, "skipped")]
    assert at.session_state["ann_current"] != seg


def test_go_back_and_change_an_earlier_segment(app_tokens, app_db):
    at = signed_in(app_tokens["alice"])
    first = at.session_state["ann_current"]
    mode_box(at, "1.1").check().run()
    button(at, "Submit").click().run()
    button(at, "Previous").click().run()
    assert at.session_state["ann_current"] == first
    assert mode_box(at, "1.1").value is True  # her saved labels are shown
    mode_box(at, "1.1").uncheck().run()
    mode_box(at, "1.5").check().run()
    button(at, "Update labels").click().run()
    history = [r[0] for r in app_db.execute("SELECT status FROM submissions WHERE segment_id = ? ORDER BY id", [first])]
    assert history == ["done", "done"]
    positives = app_db.execute("SELECT m.code FROM labels l JOIN modes m ON m.id = l.mode_id"
                           " WHERE l.segment_id = ? AND l.value = 1", [first]).fetchall()
    assert positives == [("1.5",)]
    assert at.session_state["ann_current"] != first  # back at her next unlabelled segment


def test_a_reload_resumes_where_she_was(app_tokens):
    at = signed_in(app_tokens["alice"])
    seg = at.session_state["ann_current"]
    mode_box(at, "1.1").check().run()
    button(at, "Submit").click().run()
    nxt = at.session_state["ann_current"]
    again = signed_in(app_tokens["alice"])  # a new browser session: the same next segment, nothing lost
    assert again.session_state["ann_current"] == nxt != seg
    assert any("1 labelled · 0 skipped · 5 to go" in str(p.proto) for p in again.get("progress"))


def test_blind_rule_before_submit_and_reveal_after(app_tokens, app_db):
    alice = store.user_for_token(app_db, app_tokens["alice"])
    seg = annotate.next_segment_id(app_db, alice)
    add_other_labels(app_db, seg, "annotator_zed", {"3.3"})
    add_other_labels(app_db, seg, "judge:model-q@123", {"1.4"}, kind="judge")
    store.save_settings(app_db, reveal=True)
    at = signed_in(app_tokens["alice"])
    page = texts(at)
    for secret in ("annotator_zed", "judge:model-q", "zed says", "model-q@123 says"):
        assert secret not in page
    assert not mode_box(at, "3.3").value
    mode_box(at, "2.2").check().run()
    button(at, "Submit").click().run()
    button(at, "Previous").click().run()
    cards = [shown(m.value) for m in at.markdown if m.value.startswith("**")]
    assert any(c.startswith("**rater 1**") for c in cards) and any(c.startswith("**judge 1**") for c in cards)
    assert not any("annotator_zed" in c or "model-q" in c for c in cards)  # the lead's rule: anonymous
    chips = [shown(m.value) for m in at.markdown if "badge[" in m.value]
    assert any("3.3" in c for c in chips) and any("1.4" in c for c in chips)  # their ticks as chips
    assert "annotator_zed says 3.3" in [t.value for t in at.text]  # with the reason, as plain text
    store.save_settings(app_db, reveal_names="names")
    at.run()
    cards = [shown(m.value) for m in at.markdown if m.value.startswith("**")]
    assert any(c.startswith("**annotator_zed**") for c in cards)
    assert any(c.startswith("**judge:model-q@123**") for c in cards)


def test_nothing_to_label(app_tokens, app_db):
    at = signed_in(app_tokens["rita"])  # a reviewer is not in the default pool
    assert "not in the annotator pool" in shown(at.info[0].value)


def test_untrusted_trace_text_is_only_ever_plain_text(app_tokens, app_db):
    trace = add_trace(app_db, "evil", [("<b>Boss</b>", p) for p in PAYLOADS] + [("Long", "A" * 2_000_000)])
    alice = store.user_for_token(app_db, app_tokens["alice"])
    ids = [r[0] for r in app_db.execute("SELECT id FROM segments WHERE trace_id = ? AND queued = 1 ORDER BY idx", [trace])]
    app_db.execute("UPDATE segments SET queued = 0 WHERE trace_id != ?", [trace])
    app_db.conn.commit()
    at = signed_in(app_tokens["alice"])
    shown = [*PAYLOADS, "A" * 100]  # the trace's turns in order; the last one is 2 MB long
    assert len(ids) == len(shown)
    for seg, text in zip(ids, shown):
        assert at.session_state["ann_current"] == seg
        rendered = [e.value for kind in ("markdown", "caption") for e in at.get(kind)]
        labels = [e.label for e in at.get("expander")]
        for payload in PAYLOADS:
            assert not any(payload in r or payload[:12] in r for r in rendered + labels)
        assert any(text in t.value for t in at.text), (seg, text)  # shown, as plain text
        assert max(len(t.value) for t in at.text) <= 2_000  # the 2 MB turn is folded
        mode_box(at, "1.1").check().run()
        button(at, "Submit").click().run()
    assert store.rater_progress(app_db, alice.rater_id).done == len(ids)


# --------------------------------------------------------------------------------------------------
# Agreement and Data

def _two_raters(db) -> None:
    for seg in (1, 2, 3):
        add_other_labels(db, seg + 1, "annotator_1", {"1.1", "2.2"})
        add_other_labels(db, seg + 1, "annotator_2", {"1.1"} if seg % 2 else {"2.2", "3.1"})


def test_agreement_dashboard_renders(app_tokens, app_db):
    _two_raters(app_db)
    at = signed_in(app_tokens["rita"], "views/agreement.py")
    assert [t.value for t in at.title] == ["Agreement"]
    assert len(at.get("vega_lite_chart")) == 3  # people's kappa per mode, pair matrix, co-confusion
    assert sorted(b.proto.label for b in at.get("download_button")) == [
        "Report .csv", "Report .html", "Report .json", "Report .md"]
    assert not any("annotator_1 vs" in d.value.to_string() for d in at.dataframe)  # people first, pairs on demand
    at.toggle(key="agreement_all_pairs").set_value(True).run()
    assert any("annotator_1" in d.value.to_string() for d in at.dataframe)
    assert not at.error


def test_agreement_page_shows_judges_against_the_people(app_tokens, app_db):
    """A judge is not one of the people: its own table, and the alt-test says why it was not run here."""
    _two_raters(app_db)
    for seg in (2, 3, 4):
        add_other_labels(app_db, seg, "judge:m@v1", {"1.1"}, kind="judge")
    at = signed_in(app_tokens["rita"], "views/agreement.py")
    assert not at.exception and not at.error
    assert "On which modes can the judge replace an annotator?" in texts(at)
    table = next(d.value for d in at.dataframe if "judge vs people [95% CI]" in d.value.columns)
    assert set(table["judge"]) == {"judge:m@v1"}
    assert table["can replace an annotator?"].str.contains("at least 3 annotators").all()
    assert list(table.columns[:6]) == ["mode", "people's kappa [95% CI]", "judge", "judge vs people [95% CI]",
                                       "judge minus people [95% CI]", "can replace an annotator?"]  # left to right
    summary = next(d.value for d in at.dataframe if "Fleiss kappa" in d.value.columns)
    from annotator.core.report.html import FLAG_HELP

    assert max(len(flags) for flags in summary["flags"]) >= 3  # a list cell each: every flag, one chip each
    assert all(set(flags) <= set(FLAG_HELP) for flags in summary["flags"])
    at.toggle(key="agreement_all_pairs").set_value(True).run()
    pairs = at.multiselect(key="agreement_pairs")
    assert pairs.value == ["annotator_1 vs annotator_2"]  # people only at first
    assert any("judge:m@v1" in option for option in pairs.options)  # the judge's pairs on demand
    assert len(at.get("vega_lite_chart")) == 4  # people, pairs, matrix, co-confusion


def test_agreement_page_with_nothing_to_compare(app_tokens):
    """No labels yet: a message, no error, and annotator progress still shown."""
    at = signed_in(app_tokens["lead"], "views/agreement.py")
    assert not at.exception and not at.error
    assert "Nothing to compare yet" in shown(at.info[0].value) and at.dataframe


def test_data_page_settings_and_hand_out(app_tokens, app_db):
    at = signed_in(app_tokens["lead"], "views/data.py")
    at.number_input[0].set_value(3)
    at.toggle[1].set_value(True)  # the reveal phase
    at.radio(key="data_reveal_names").set_value("names")  # one naming rule for annotators and reviewers
    next(b for b in at.button if b.label == "Save settings").click().run()
    assert not at.exception
    settings = store.get_settings(app_db)
    assert settings.k == 3 and settings.reveal is True and settings.reveal_names == "names"
    at.button(key="data_hand_out").click().run()
    assert store.rater_progress(app_db, store.user_for_token(app_db, app_tokens["alice"]).rater_id).assigned == 6


def test_data_page_reads_as_a_lead_would_say_it(app_tokens, app_db):
    """Queue figures in words; the annotators' table lists annotators only, with readable times, no None."""
    alice = store.user_for_token(app_db, app_tokens["alice"])
    seg = annotate.next_segment_id(app_db, alice)  # alice holds one segment; bob none yet
    annotate.submit(app_db, alice, seg, annotate.Choice(frozenset({"1.1"})))
    at = signed_in(app_tokens["lead"], "views/data.py")
    metrics = {m.label: m.value for m in at.metric}
    queued = app_db.execute("SELECT COUNT(*) FROM segments WHERE queued = 1").fetchone()[0]
    assert metrics["Segments to label"] == str(queued) and metrics["Segments handed out"] == "1"
    assert metrics["Given to all 2 annotators"] == "0" and metrics["Still need annotators"] == str(queued)
    table = next(d.value for d in at.dataframe if "annotator" in d.value.columns)
    assert list(table["annotator"]) == ["alice", "bob"]  # not rita (reviewer) nor lead (admin)
    rows = table.set_index("annotator")
    assert rows.loc["bob", "last submission"] == "never" and rows.loc["alice", "done"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \(just now\)", rows.loc["alice", "last submission"])
    assert "None" not in table.to_string()


class _Upload:
    """What st.file_uploader hands the page: a name and the bytes."""

    def __init__(self, name: str, data: bytes):
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


def test_data_page_upload_errors_name_the_file(app_tokens, app_db):
    from annotator.app.components import data_panels

    at = signed_in(app_tokens["lead"], "views/data.py")
    assert at.get("file_uploader")  # AppTest cannot drive an upload: the form's import function is run directly
    messages = data_panels._run_imports([
        _Upload("broken.jsonl", b'{"id": "a", "text": '),
        _Upload("empty.txt", b""),
        _Upload("ok.jsonl", b'{"id": "n1", "text": "Alice: hi\\nBob: hello"}\n'),
    ], "auto", "trace", "round=9", store.user_for_token(app_db, app_tokens["lead"]))
    kinds = [kind for kind, _ in messages]
    assert kinds == ["error", "error", "success"], messages
    assert messages[0][1].startswith("broken.jsonl: ") and messages[1][1] == "empty.txt: the file is empty"
    assert "annotator-upload-" not in " ".join(m for _, m in messages)  # no temporary path leaks out
    assert app_db.execute("SELECT value FROM trace_tags t JOIN traces r ON r.id = t.trace_id WHERE r.external_id = 'n1'"
                      ).fetchone() == ("9",)
    lead = store.user_for_token(app_db, app_tokens["lead"])
    assert data_panels._run_imports([_Upload("x.txt", b"hi")], "auto", "trace", "round", lead) == [
        ("error", "Tags: tag 'round' is not KEY=VALUE")]
    at.session_state[data_panels.RESULTS] = messages
    at.run()
    assert [shown(e.value) for e in at.error][:2] == [messages[0][1], messages[1][1]] and at.success


def test_data_page_upload_uses_the_formats_default_segments(app_tokens, app_db):
    """An empty Segments field is the format's default, as on the command line: an OTLP export is cut per turn."""
    import json

    from annotator.app.components import data_panels

    def message(role: str, text: str) -> str:
        return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])

    attrs = [("gen_ai.operation.name", "chat"), ("gen_ai.input.messages", message("user", "Plan a trip")),
             ("gen_ai.output.messages", message("assistant", "Book flights"))]
    span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b175", "name": "chat m",
            "startTimeUnixNano": "1000", "endTimeUnixNano": "2000",
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs]}
    export = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": [span]}]}]}
    at = signed_in(app_tokens["lead"], "views/data.py")
    assert at.text_input(key="data_scheme").value == ""  # not "trace": the form leaves the choice to the format
    lead = store.user_for_token(app_db, app_tokens["lead"])
    messages = data_panels._run_imports([_Upload("spans.json", json.dumps(export).encode())], "auto", "", "", lead)
    assert [kind for kind, _ in messages] == ["success"], messages
    schemes = {row[0] for row in app_db.execute(
        "SELECT s.scheme FROM segments s JOIN traces t ON t.id = s.trace_id WHERE t.external_id = ?"
        " AND s.queued = 1", [span["traceId"]])}
    assert schemes == {"turn"}
