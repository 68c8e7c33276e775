"""Real-browser tests: Debian's Chromium driven by Playwright against `annotator serve` on a free port.

Skipped with a reason when Chromium or Playwright is missing, unless ANNOTATOR_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from annotator import store
from tests.app_helpers import PAYLOADS, REPO, add_other_labels, add_trace, make_db

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-gpu"]
SEGMENT_ID = re.compile(r"st-key-ann_(\d+)_submit")


def _need_browser():
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install playwright)"
    if reason and os.environ.get("ANNOTATOR_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (ANNOTATOR_REQUIRE_BROWSER=1) but {reason}")
    if reason:
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"annotator serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not healthy after {timeout} s")


@contextlib.contextmanager
def _served(path: Path):
    """`annotator serve` on `path` at a free port, until the block ends."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen([sys.executable, "-m", "annotator", "--db", str(path), "serve", "--port", str(port)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _need_browser()
    path = tmp_path_factory.mktemp("browser") / "app.db"
    db = store.connect(path)
    from annotator.core.taxonomy import load_taxonomy

    store.save_taxonomy(db, load_taxonomy("mast"))
    evil = add_trace(db, "evil", [("<b>Boss</b>", p) for p in PAYLOADS] + [("Long", "A" * 2_000_000)])
    db.conn.close()
    tokens = make_db(path, traces=4, turns=3, k=1)
    db = store.connect(path)
    tokens["carol"] = store.add_user(db, "carol", "annotator")
    bob = store.user_for_token(db, tokens["bob"])
    evil_ids = store.claim(db, bob.rater_id, k=1, n=len(PAYLOADS) + 1)  # the lowest ids: the evil trace
    assert {store.get_segment(db, s).trace_id for s in evil_ids} == {evil}
    db.conn.close()
    with _served(path) as url:
        yield {"url": url, "db": path, "tokens": tokens, "evil": evil_ids}


@pytest.fixture(scope="module")
def review_server(tmp_path_factory):
    """Two annotators who disagree on segments 2 (one mode) and 3 (three modes); the reveal phase open."""
    _need_browser()
    path = tmp_path_factory.mktemp("review") / "app.db"
    tokens = make_db(path, traces=2, turns=3, k=2)
    db = store.connect(path)
    for segment, first, second in ((2, {"1.1", "2.2"}, {"1.1"}), (3, {"3.1"}, {"1.2", "2.2"})):
        add_other_labels(db, segment, "annotator_1", first)
        add_other_labels(db, segment, "annotator_2", second)
    store.save_settings(db, reveal=True)
    db.conn.close()
    with _served(path) as url:
        yield {"url": url, "db": path, "tokens": tokens}


@pytest.fixture
def page():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        tab = context.new_page()
        tab.requests, tab.dialogs = [], []
        tab.on("request", lambda r: tab.requests.append(r.url))
        tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
        yield tab
        browser.close()


def current_segment(page) -> int:
    page.wait_for_selector('[class*="st-key-ann_"][class*="_submit"] button', timeout=20_000)
    page.wait_for_selector('html[data-annotator-keys="on"]', state="attached", timeout=20_000)
    found = page.evaluate("""() => [...document.querySelectorAll('[class*="st-key-ann_"]')]
                              .map(e => e.className).join(' ')""")
    return int(SEGMENT_ID.search(found).group(1))


def wait_for_segment_change(page, old: int, timeout: float = 45) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            now = current_segment(page)
        except Exception:  # mid-rerun
            now = old
        if now != old:
            return now
        time.sleep(0.2)
    raise AssertionError(f"segment {old} still shown after {timeout} s")


def wait_ready(page, timeout: float = 30) -> None:
    """Wait until the shortcuts are listening and no script run is under way, as a person would wait
    for the page before typing. (Keys typed during a rerun are a known race, not what this test checks.)"""
    page.wait_for_function(
        """() => document.documentElement.dataset.annotatorKeys === 'on' &&
                 document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState !== 'running'""",
        timeout=timeout * 1000)


def checked(page, seg: int) -> set[str]:
    """Keys of the ticked checkboxes of segment `seg` (e.g. 'm_1_3', 'none')."""
    return set(page.evaluate(f"""() => [...document.querySelectorAll('[class*="st-key-ann_{seg}_"] input[type=checkbox]')]
        .filter(b => b.checked).map(b => b.closest('[class*="st-key-ann_{seg}_"]').className
        .match(/st-key-ann_{seg}_(\\S+)/)[1])"""))


def wait_checked(page, seg: int, wanted: set[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while checked(page, seg) != wanted:
        if time.monotonic() > deadline:
            alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
            raise AssertionError(f"segment {seg}: ticked {checked(page, seg)}, wanted {wanted}; page shows segment "
                                 f"{current_segment(page)}, alerts {alerts}")
        time.sleep(0.15)


def test_sign_in_and_label_with_the_keyboard(server, page):
    page.goto(server["url"])
    page.get_by_label("Access token", exact=True).fill(server["tokens"]["alice"])
    page.get_by_role("button", name="Sign in").click()
    first = current_segment(page)
    wait_ready(page)
    page.keyboard.press("1")
    page.keyboard.press("3")
    wait_checked(page, first, {"m_1_3"})
    wait_ready(page)
    page.keyboard.press("2")
    page.keyboard.press("2")
    wait_checked(page, first, {"m_1_3", "m_2_2"})
    wait_ready(page)
    page.keyboard.press("/")  # into the filter box: typing there fires no shortcut
    page.keyboard.type("sx")
    time.sleep(1.0)
    assert current_segment(page) == first
    page.keyboard.press("Escape")
    page.locator(f'.st-key-ann_{first}_filter input').fill("")
    page.keyboard.press("Escape")
    wait_ready(page)
    page.keyboard.press("s")
    second = wait_for_segment_change(page, first)
    db = store.connect(server["db"])
    rows = db.execute("SELECT m.code FROM labels l JOIN modes m ON m.id = l.mode_id JOIN users u ON u.rater_id ="
                      " l.rater_id WHERE u.name = 'alice' AND l.segment_id = ? AND l.value = 1 ORDER BY m.code",
                      [first]).fetchall()
    assert [r[0] for r in rows] == ["1.3", "2.2"]
    assert db.execute("SELECT status FROM submissions WHERE segment_id = ?", [first]).fetchone() == ("done",)
    wait_ready(page)
    page.keyboard.press("x")  # skip the second one
    third = wait_for_segment_change(page, second)
    assert db.execute("SELECT status FROM submissions WHERE segment_id = ?", [second]).fetchone() == ("skipped",)
    wait_ready(page)
    page.keyboard.press("k")  # back to the skipped one, then to the first: her labels are there
    assert wait_for_segment_change(page, third) == second
    wait_ready(page)
    page.keyboard.press("k")
    assert wait_for_segment_change(page, second) == first
    wait_checked(page, first, {"m_1_3", "m_2_2"})
    db.conn.close()
    assert page.dialogs == []


def test_untrusted_trace_text_stays_inert(server, page):
    page.goto(server["url"] + "?token=" + server["tokens"]["bob"])
    seg = current_segment(page)
    assert "token=" not in page.url
    for expected in server["evil"]:
        assert seg == expected
        body = page.inner_text("body")
        assert "<script>" in body or "onerror" in body or "![tracker]" in body or "$\\frac" in body \
            or "<iframe" in body or "AAAAAAAAAA" in body
        injected = page.evaluate("""() => ({
            pwned: window.__pwned ?? null,
            scripts: [...document.scripts].filter(s => s.textContent.includes('__pwned')).length,
            images: document.querySelectorAll('img[src="x"], img[src*="203.0.113.9"]').length,
            links: document.querySelectorAll('a[href*="203.0.113.9"]').length,
            frames: document.querySelectorAll('iframe[src*="203.0.113.9"]').length,
            maths: document.querySelectorAll('.katex, math').length,
            bold: [...document.querySelectorAll('b')].filter(b => b.textContent === 'Boss').length,
            hidden: getComputedStyle(document.body).display === 'none',
            overflow: document.documentElement.scrollWidth - window.innerWidth,
        })""")
        assert injected == {"pwned": None, "scripts": 0, "images": 0, "links": 0, "frames": 0, "maths": 0,
                            "bold": 0, "hidden": False, "overflow": injected["overflow"]}
        assert injected["overflow"] <= 0, "the page grew wider than the window"
        if "AAAAAAAAAA" in body:
            assert page.get_by_role("button", name=re.compile(r"Show more \(1,99\d,\d{3} more characters\)")).count()
        wait_ready(page)
        page.keyboard.press("1")
        page.keyboard.press("1")
        wait_checked(page, seg, {"m_1_1"})
        wait_ready(page)
        page.keyboard.press("s")
        if expected != server["evil"][-1]:
            seg = wait_for_segment_change(page, seg)
    time.sleep(1)
    assert page.dialogs == []
    hosts = {urlparse(u).hostname for u in page.requests if not u.startswith(("data:", "blob:"))}
    assert hosts <= {"127.0.0.1"}, hosts


def test_the_sign_in_link_leaves_no_token_in_the_tab(server, page):
    """The token leaves the address without a new history entry: Back goes to the page before the link,
    not to the link (which signed her in again), also after she signs out."""
    page.goto(server["url"])
    page.get_by_label("Access token", exact=True).wait_for(timeout=30_000)
    page.goto(server["url"] + "?token=" + server["tokens"]["alice"])
    current_segment(page)
    page.wait_for_function("() => !window.location.href.includes('token')", timeout=30_000)
    page.get_by_role("button", name="Sign out").first.click()
    page.get_by_label("Access token", exact=True).wait_for(timeout=30_000)
    page.go_back()
    page.get_by_label("Access token", exact=True).wait_for(timeout=30_000)
    assert "token" not in page.evaluate("() => window.location.href")
    assert not page.locator('[class*="st-key-ann_"]').count(), "Back signed her in again"


def _gold_rows(path: Path, segment_id: int) -> list[tuple]:
    db = store.connect(path)
    try:
        return db.execute("SELECT m.code, g.value, g.provenance, g.adjudicator, g.note FROM gold g JOIN modes m"
                          " ON m.id = g.mode_id WHERE g.segment_id = ? ORDER BY m.position", [segment_id]).fetchall()
    finally:
        db.conn.close()


def _choose(page, key: str, option: str) -> None:
    """Pick an option of the selectbox with key `key` (a click during a rerun can miss: retried)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(4):
        page.locator(f".st-key-{key} input").click()
        try:
            page.get_by_role("option").filter(has_text=option).click(timeout=5_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"option {option!r} of {key} never appeared")


def test_adjudicate_a_contested_segment(review_server, page):
    page.goto(review_server["url"] + "?token=" + review_server["tokens"]["rita"])
    page.get_by_role("link", name="Review").click()
    page.wait_for_selector(".st-key-rev_pick input", timeout=20_000)
    _choose(page, "rev_pick", "segment 2 · 1 disputed: 2.2")  # the segment with one disputed mode
    radio = page.locator(".st-key-rev_2_m_2_2")
    radio.wait_for(timeout=20_000)
    radio.get_by_text("present", exact=True).click()
    page.locator(".st-key-rev_2_note textarea").fill("the coder asks nobody about the file format")
    page.get_by_role("button", name="Save gold").click()
    deadline = time.monotonic() + 20
    while not (rows := _gold_rows(review_server["db"], 2)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(rows) == 14 and {r[2:] for r in rows} == {
        ("adjudicated", "rita", "the coder asks nobody about the file format")}
    assert {r[0] for r in rows if r[1]} == {"1.1", "2.2"}  # 1.1 as both raters said; 2.2 as rita decided
    page.wait_for_selector("text=1 adjudicated / 2 contested", timeout=20_000)


def test_labelling_at_typing_speed_loses_nothing(server, page):
    """Three segments labelled without waiting for the page: each key is done in order, on the segment
    on screen when its turn comes, and every tick reaches the database."""
    page.goto(server["url"] + "?token=" + server["tokens"]["carol"])
    first = current_segment(page)
    # keys sent before the listener exists reach no app; from then on, type without waiting
    page.wait_for_function("() => document.documentElement.dataset.annotatorKeys === 'on'", timeout=30_000)
    plan = [("13", "22"), ("21",), ("33", "15")]
    for codes in plan:
        for code in codes:
            page.keyboard.press(code[0], delay=40)
            page.keyboard.press(code[1], delay=40)
        page.keyboard.press("s", delay=40)
    deadline = time.monotonic() + 60
    db = store.connect(server["db"])
    query = ("SELECT s.segment_id, group_concat(m.code) FROM submissions s JOIN users u ON u.rater_id = s.rater_id"
             " LEFT JOIN labels l ON l.segment_id = s.segment_id AND l.rater_id = s.rater_id AND l.value = 1"
             " LEFT JOIN modes m ON m.id = l.mode_id WHERE u.name = 'carol' GROUP BY s.id ORDER BY s.id")
    while len(rows := db.execute(query).fetchall()) < len(plan) and time.monotonic() < deadline:
        time.sleep(0.3)
    db.conn.close()
    assert rows[0][0] == first
    assert [sorted(r[1].split(",")) for r in rows] == [["1.3", "2.2"], ["2.1"], ["1.5", "3.3"]]
    assert page.dialogs == []
