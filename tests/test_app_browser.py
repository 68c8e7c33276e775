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
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from app_helpers import PAYLOADS, add_other_labels, add_trace, make_app_db
from helpers import wait_until

from annotator import store

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


def _healthy(url: str, proc: subprocess.Popen) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"annotator serve exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
    try:
        with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
            return response.read() == b"ok"
    except OSError:
        return False


@contextlib.contextmanager
def _served(path: Path):
    """`annotator serve` on `path` at a free port, until the block ends."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen([sys.executable, "-m", "annotator", "--db", str(path), "serve", "--port", str(port)],
                            cwd=path.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_until(lambda: _healthy(url, proc), timeout=90, what=f"{url} answering its health check", interval=0.2)
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
    tokens = make_app_db(path, traces=4, turns=3, k=1)
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
    tokens = make_app_db(path, traces=2, turns=3, k=2)
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


# The id of the segment on screen: from the Submit button of the live (not mid-rerun) page, once the
# shortcuts listen; null otherwise.
_SEGMENT_JS = """() => {
    if (document.documentElement.dataset.annotatorKeys !== 'on') return null;
    const live = [...document.querySelectorAll('[class*="st-key-ann_"][class*="_submit"]')]
        .find(e => !e.closest('[data-stale="true"]') && e.querySelector('button'));
    const found = live && [...live.classList].join(' ').match(/st-key-ann_(\\d+)_submit/);
    return found ? Number(found[1]) : null;
}"""


def current_segment(page, timeout: float = 30) -> int:
    """The segment on screen, once there is one and the shortcuts listen."""
    return page.wait_for_function(_SEGMENT_JS, timeout=timeout * 1000).json_value()


def wait_for_segment_change(page, old: int, timeout: float = 60) -> int:
    """The segment on screen once it is no longer `old`."""
    return page.wait_for_function(f"(old) => {{ const id = ({_SEGMENT_JS})(); return id !== null && id !== old ? id : null; }}",
                                  arg=old, timeout=timeout * 1000).json_value()


def wait_ready(page, timeout: float = 30) -> None:
    """Wait until the shortcuts are listening and no script run is under way, as a person would wait
    for the page before typing (the typing-speed test is the one that does not wait)."""
    page.wait_for_function(
        """() => document.documentElement.dataset.annotatorKeys === 'on' &&
                 document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState !== 'running'""",
        timeout=timeout * 1000)


_CHECKED_JS = """(seg) => {
    const prefix = `st-key-ann_${seg}_`;
    return [...document.querySelectorAll(`[class*="${prefix}"] input[type=checkbox]`)]
        .filter(box => box.checked && !box.closest('[data-stale="true"]'))
        .map(box => [...box.closest(`[class*="${prefix}"]`).classList].find(n => n.startsWith(prefix)).slice(prefix.length))
        .sort();
}"""


def checked(page, seg: int) -> set[str]:
    """Keys of the ticked checkboxes of segment `seg` (e.g. 'm_1_3', 'none')."""
    return set(page.evaluate(_CHECKED_JS, seg))


def wait_checked(page, seg: int, wanted: set[str], timeout: float = 45) -> None:
    """Wait until exactly `wanted` is ticked on segment `seg`."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"([seg, wanted]) => JSON.stringify(({_CHECKED_JS})(seg)) === JSON.stringify(wanted)",
                               arg=[seg, sorted(wanted)], timeout=timeout * 1000)
    except PlaywrightTimeout:
        raise AssertionError(f"segment {seg}: wanted {sorted(wanted)} ticked; {_page_state(page)}") from None


def _page_state(page) -> str:
    """What the page shows, for a failure message."""
    seg = page.evaluate(_SEGMENT_JS)
    alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
    return (f"page shows segment {seg} with {sorted(checked(page, seg)) if seg else None} ticked; "
            f"script {page.evaluate('() => document.querySelector(`[data-testid=stApp]`)?.dataset.testScriptState')}; "
            f"keys not yet done {page.evaluate('() => document.documentElement.dataset.annotatorPending')}; "
            f"alerts {alerts}")


def submissions(path: Path, user: str) -> list[tuple[int, str, str | None]]:
    """(segment, status, ticked codes) of each submission of `user`, in the order made."""
    db = store.connect(path)
    try:
        return db.execute(
            "SELECT s.segment_id, s.status, (SELECT group_concat(code) FROM (SELECT m.code FROM labels l JOIN modes m"
            " ON m.id = l.mode_id WHERE l.segment_id = s.segment_id AND l.rater_id = s.rater_id AND l.value = 1"
            " ORDER BY m.code)) FROM submissions s JOIN users u ON u.rater_id = s.rater_id WHERE u.name = ?"
            " ORDER BY s.id", [user]).fetchall()
    finally:
        db.conn.close()


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
    page.keyboard.press("/")  # into the filter box: typing there fires no shortcut
    page.keyboard.type("sx")
    page.wait_for_function(f"() => document.querySelector('.st-key-ann_{first}_filter input')?.value === 'sx'")
    page.keyboard.press("Escape")
    wait_ready(page)
    page.keyboard.press("2")  # shortcuts run in the order pressed: had "s" or "x" fired, the segment would
    page.keyboard.press("2")  # have changed before this tick, and it would not land on the first one
    wait_checked(page, first, {"m_1_3", "m_2_2"})
    assert current_segment(page) == first and submissions(server["db"], "alice") == []
    page.locator(f'.st-key-ann_{first}_filter input').fill("")
    page.keyboard.press("Escape")
    wait_ready(page)
    page.keyboard.press("s")
    second = wait_for_segment_change(page, first)
    assert submissions(server["db"], "alice") == [(first, "done", "1.3,2.2")]
    wait_ready(page)
    page.keyboard.press("x")  # skip the second one
    third = wait_for_segment_change(page, second)
    assert submissions(server["db"], "alice")[1:] == [(second, "skipped", None)]
    wait_ready(page)
    page.keyboard.press("k")  # back to the skipped one, then to the first: her labels are there
    assert wait_for_segment_change(page, third) == second
    wait_ready(page)
    page.keyboard.press("k")
    assert wait_for_segment_change(page, second) == first
    wait_checked(page, first, {"m_1_3", "m_2_2"})
    assert page.dialogs == []


def test_untrusted_trace_text_stays_inert(server, page):
    page.goto(server["url"] + "?token=" + server["tokens"]["bob"])
    seg = current_segment(page)
    # The server drops the token from the address in a run after sign-in: wait for it, then check.
    page.wait_for_function("() => !location.search.includes('token=')", timeout=30_000)
    assert "token=" not in page.url
    shown = [*PAYLOADS, "A" * 1000]  # the evil trace's turns, in order; the last one is 2 MB long
    assert len(server["evil"]) == len(shown)
    for expected, text in zip(server["evil"], shown):
        assert seg == expected
        body = page.inner_text("body")
        assert text in body, (seg, text)  # shown, as text
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
        if text.startswith("AAAA"):
            assert page.get_by_role("button", name=re.compile(r"Show more \(1,99\d,\d{3} more characters\)")).count()
        wait_ready(page)
        page.keyboard.press("1")
        page.keyboard.press("1")
        wait_checked(page, seg, {"m_1_1"})
        wait_ready(page)
        page.keyboard.press("s")
        if expected != server["evil"][-1]:
            seg = wait_for_segment_change(page, seg)
    done = wait_until(lambda: submissions(server["db"], "bob"), until=lambda rows: len(rows) == len(shown),
                      timeout=60, what="bob's last submission in the database")
    assert done == [(s, "done", "1.1") for s in server["evil"]]
    wait_ready(page)
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
        wait_ready(page)
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
    page.wait_for_selector(".st-key-rev_pick input", timeout=30_000)
    _choose(page, "rev_pick", "segment 2 · 1 disputed: 2.2")  # the segment with one disputed mode
    radio = page.locator(".st-key-rev_2_m_2_2")
    radio.wait_for(timeout=30_000)
    radio.get_by_text("present", exact=True).click()
    page.locator(".st-key-rev_2_note textarea").fill("the coder asks nobody about the file format")
    page.get_by_role("button", name="Save gold").click()
    rows = wait_until(lambda: _gold_rows(review_server["db"], 2), timeout=30, what="gold rows for segment 2")
    assert len(rows) == 14 and {r[2:] for r in rows} == {
        ("adjudicated", "rita", "the coder asks nobody about the file format")}
    assert {r[0] for r in rows if r[1]} == {"1.1", "2.2"}  # 1.1 as both raters said; 2.2 as rita decided
    page.wait_for_selector("text=1 adjudicated / 2 contested", timeout=30_000)


def test_labelling_at_typing_speed_loses_nothing(server, page):
    """Three segments labelled without waiting for the page: each key is done in order, on the segment
    on screen when its turn comes, and every tick reaches the database."""
    page.goto(server["url"] + "?token=" + server["tokens"]["carol"])
    first = current_segment(page)  # keys sent before the listener exists reach no app; then, no waiting
    plan = [("13", "22"), ("21",), ("33", "15")]
    for codes in plan:
        for code in codes:
            page.keyboard.press(code[0], delay=40)
            page.keyboard.press(code[1], delay=40)
        page.keyboard.press("s", delay=40)
    try:
        rows = wait_until(lambda: submissions(server["db"], "carol"), until=lambda rows: len(rows) >= len(plan),
                          timeout=120, what="carol's three submissions in the database")
    except AssertionError as exc:  # say what the page shows, then fail
        raise AssertionError(f"{exc}; {_page_state(page)}") from None
    assert rows[0][0] == first
    assert [(status, codes) for _, status, codes in rows] == [("done", "1.3,2.2"), ("done", "2.1"),
                                                              ("done", "1.5,3.3")], _page_state(page)
    assert page.dialogs == []
