"""The Annotate page in Debian's Chromium (issue 13): panes sized to the window, code in monospace,
keys R / Esc, T and C, the mode filter applied as one types. Every wait is on the page's state."""

from __future__ import annotations

import pytest
from app_helpers import add_trace, make_app_db
from test_app_browser import (
    _need_browser,
    _served,
    current_segment,
    page,
    submissions,
    wait_checked,
    wait_for_segment_change,
    wait_ready,
)

from annotator import store
from annotator.core.taxonomy import load_taxonomy

__all__ = ["page"]  # the fixture, shared with test_app_browser
pytestmark = pytest.mark.browser

LONG_TURN = "\n".join(f"Line {i}: the planner thinks about step {i} and writes it down." for i in range(400))
CODE_TURN = 'I call the tool now.\n```json\n{"tool": "search", "args": {"q": "flaky test"}}\n```\nDone.'


@pytest.fixture(scope="module")
def annotate_server(tmp_path_factory):
    _need_browser()
    path = tmp_path_factory.mktemp("annotate") / "app.db"
    db = store.connect(path)
    store.save_taxonomy(db, load_taxonomy("mast"))
    add_trace(db, "long", [("Planner", LONG_TURN), ("Coder", CODE_TURN), ("Reviewer", "Looks fine to me.")])
    db.conn.close()
    tokens = make_app_db(path, traces=1, turns=3, k=1)
    with _served(path) as url:
        yield {"url": url, "db": path, "tokens": tokens}


def _rect(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect();"
                                           " return {top: r.top, bottom: r.bottom, height: r.height}; }")


def _focused_key(page) -> str | None:
    """The st-key-* class of the keyed element holding the focus (innermost), or None."""
    return page.evaluate("""() => { let e = document.activeElement;
        while (e && e !== document.body) {
            const k = [...(e.classList || [])].find(n => n.startsWith('st-key-'));
            if (k) return k.slice(7);
            e = e.parentElement;
        }
        return null; }""")


def _open(page, url: str) -> None:
    page.set_default_timeout(90_000)  # the machine may be busy: every wait below is on state, so a long one costs nothing
    page.goto(url, timeout=180_000)


def test_panes_fit_the_window_and_code_is_monospace(annotate_server, page):
    _open(page, annotate_server["url"] + "?token=" + annotate_server["tokens"]["alice"])
    seg = current_segment(page, timeout=120)
    wait_ready(page)
    # the pane CSS arrives as its own element of the run: wait until it applies, then measure
    page.wait_for_function("() => getComputedStyle(document.querySelector('.st-key-annotate_reading')).maxHeight"
                           " !== 'none'")
    height = page.evaluate("() => window.innerHeight")
    reading, checklist = _rect(page, ".st-key-annotate_reading"), _rect(page, ".st-key-annotate_checklist")
    assert reading["bottom"] <= height + 1 and reading["height"] > 0.6 * height  # no fixed 640 px box
    assert checklist["bottom"] <= height + 1
    # the long turn scrolls inside the reading pane: Submit stays in view
    page.eval_on_selector(".st-key-annotate_reading", "e => { e.scrollTop = e.scrollHeight; }")
    page.wait_for_function("() => document.querySelector('.st-key-annotate_reading').scrollTop > 0")
    submit = _rect(page, f".st-key-ann_{seg}_submit")
    assert submit["top"] >= 0 and submit["bottom"] <= height
    # the next segment holds a fenced block: shown in a monospace font, as text
    page.keyboard.press("n")
    wait_checked(page, seg, {"none"})
    wait_ready(page)
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelector('.st-key-annotate_reading [data-testid=\"stCode\"]')")
    font = page.eval_on_selector(".st-key-annotate_reading [data-testid='stCode'] code",
                                 "e => getComputedStyle(e).fontFamily")
    assert "mono" in font.lower()
    code_text = page.inner_text(".st-key-annotate_reading [data-testid='stCode']")
    assert '{"tool": "search", "args": {"q": "flaky test"}}' in code_text and "```" not in code_text


def test_keys_reason_and_back_neighbours_codebook_and_live_filter(annotate_server, page):
    _open(page, annotate_server["url"] + "?token=" + annotate_server["tokens"]["bob"])
    seg = current_segment(page, timeout=120)
    wait_ready(page)
    # T: the neighbouring turns open (every trace here has 3 turns: each turn has a neighbour before or after)
    page.keyboard.press("t")
    page.wait_for_selector(f".st-key-seg_{seg}_after_box, .st-key-seg_{seg}_before_box")
    # 1 3 then R: the focus goes to the reason of 1.3; Esc brings it back to 1.3's checkbox
    wait_ready(page)
    page.keyboard.press("1")
    page.keyboard.press("3")
    wait_checked(page, seg, {"m_1_3"})  # the reason field comes with the tick's run
    wait_ready(page)
    page.keyboard.press("r")
    page.wait_for_function(f"() => document.activeElement?.closest('.st-key-ann_{seg}_m_1_3_why')")
    page.keyboard.type("it repeats step 3")
    page.keyboard.press("Escape")
    page.wait_for_function(f"() => document.activeElement?.closest('.st-key-ann_{seg}_m_1_3')"
                           f" && !document.activeElement.closest('.st-key-ann_{seg}_m_1_3_why')")
    # Leaving the field applies the reason in a run that may start only now (its widgets are stale meanwhile):
    # the tick and the reason it kept are checked in the stored label at the end.
    assert _focused_key(page) == f"ann_{seg}_m_1_3"
    # / then typing: the filter applies without Enter, and the focus stays in the field
    wait_ready(page)
    page.keyboard.press("/")
    page.keyboard.type("termination")
    mast = load_taxonomy("mast")
    others = sum(not any("termination" in t.lower() for t in (m.code, m.name, m.definition, *m.aliases))
                 for m in mast.modes)
    page.wait_for_function(f"() => [...document.querySelectorAll('[data-testid=\"stExpander\"] summary')]"
                           f".some(s => s.innerText.includes('Other modes ({others})'))")
    assert _focused_key(page) == f"ann_{seg}_filter"
    page.locator(f".st-key-ann_{seg}_filter input").fill("")
    page.keyboard.press("Escape")
    # C: the codebook dialog; its search applies as one types too
    wait_ready(page)
    page.keyboard.press("c")
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Most often confused with", exact=False).first.wait_for()
    dialog.get_by_placeholder("Search codes, names, definitions").fill("")
    dialog.get_by_placeholder("Search codes, names, definitions").press_sequentially("premature")
    page.wait_for_function("() => document.querySelectorAll('[role=dialog] [class*=\"st-key-annotate_codebook_\"]"
                           "[class*=\"_3_1\"]').length === 1 && document.querySelectorAll("
                           "'[role=dialog] [class*=\"st-key-annotate_codebook_\"][class*=\"_1_1\"]').length === 0")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('[role=dialog]')")
    wait_ready(page)
    page.keyboard.press("s")
    wait_for_segment_change(page, seg, timeout=120)
    assert submissions(annotate_server["db"], "bob") == [(seg, "done", "1.3")]
    db = store.connect(annotate_server["db"])
    try:
        assert db.execute("SELECT rationale FROM labels WHERE value = 1").fetchall() == [("it repeats step 3",)]
    finally:
        db.conn.close()
