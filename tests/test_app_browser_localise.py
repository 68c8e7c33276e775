"""Localisation in a real browser: the L key marks the turn being read; the Agreement page shows the figures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import wait_until
from test_app_browser import CHROMIUM, CHROMIUM_ARGS, _need_browser, _served

from annotator import store
from annotator.core.taxonomy import load_taxonomy
from annotator.ingest import import_file

WHO = Path(__file__).parent / "data" / "who_and_when"
SHOTS = Path(os.environ.get("ANNOTATOR_SCREENSHOTS", "")) if os.environ.get("ANNOTATOR_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def who_server(tmp_path_factory):
    _need_browser()
    path = tmp_path_factory.mktemp("localise") / "app.db"
    db = store.connect(path)
    store.save_taxonomy(db, load_taxonomy("mast"))
    import_file(db, WHO / "Hand-Crafted", fmt="who-and-when", scheme="turn")
    tokens = {name: store.add_user(db, name, role) for name, role in (("ann", "annotator"), ("lead", "admin"))}
    store.save_settings(db, k=1)
    db.conn.close()
    with _served(path) as url:
        yield {"url": url, "db": path, "tokens": tokens}


def test_key_l_marks_the_turn_and_agreement_shows_it(who_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
        tab.goto(f"{who_server['url']}?token={who_server['tokens']['ann']}")
        here = tab.locator('[class*="st-key-ann_"][class*="_loc_here"] button').first
        here.wait_for(timeout=180_000)  # the first run of the page is slow on a loaded machine
        tab.wait_for_function("document.documentElement.dataset.annotatorKeys === 'on'", timeout=90_000)
        label = here.inner_text()
        tab.keyboard.press("l")
        db = store.connect(who_server["db"])
        answers = wait_until(lambda: store.load_answers(db, raters=["ann"]), timeout=30, what="her localisation")
        assert f"(step {answers[0].root_cause.step})" in label
        tab.get_by_text("root cause").first.wait_for(timeout=90_000)
        if SHOTS:
            here.scroll_into_view_if_needed()
            tab.screenshot(path=str(SHOTS / "annotate_localise.png"))
        tab.goto(f"{who_server['url']}agreement?token={who_server['tokens']['lead']}")
        # The dataset's reference and her answer make a pair on the Agreement page.
        tab.get_by_text("Localisation against a reference").first.wait_for(timeout=120_000)
        tab.wait_for_function("""() => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState
                              !== 'running'""", timeout=120_000)
        tab.locator('[data-testid="stDataFrame"]').nth(2).wait_for(timeout=120_000)
        if SHOTS:
            tab.screenshot(path=str(SHOTS / "agreement_localise.png"), full_page=True)
        browser.close()
