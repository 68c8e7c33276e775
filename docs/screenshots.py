"""Refresh the app's screenshots in docs/: `python docs/screenshots.py [NAME ...]`.

Starts `annotator demo` on a fresh database in a temporary folder (the same demo a new user gets), reads
the sign-in links it prints, signs in per role in Debian's Chromium (/usr/bin/chromium) driven by
Playwright, opens each page through the sidebar as a person would, waits until the page has finished
drawing what the shot is about (never a fixed sleep), and saves docs/NAME.png. With names, only those
shots are taken. Needs `pip install playwright` (no browser download: it drives the system Chromium).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-gpu"]
WIDTH = 1440
LINK = re.compile(r"^\s+(annotator|reviewer|admin)\s+(\S+)\s+link: (\S+)$")
TIMEOUT_MS = 120_000  # generous: the first run of a page imports a lot on a busy machine
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.dataset.testScriptState !== 'running' && !document.querySelector('[data-stale="true"]')
        && !document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]');
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_demo(folder: Path) -> tuple[subprocess.Popen, str, dict[str, str]]:
    """`annotator demo` on a free port; returns the process, the base URL and role -> sign-in link."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "annotator", "--db", str(folder / "demo.db"), "demo",
                             "--port", str(port)], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    links: dict[str, str] = {}
    for line in proc.stdout:  # the links are printed once the server answers
        if found := LINK.match(line.rstrip("\n")):
            links[found.group(1)] = found.group(3)
        if len(links) == 3:
            break
    if len(links) < 3:
        raise RuntimeError(f"annotator demo ended before printing its sign-in links (exit {proc.wait()})")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep draining: a full pipe would stall it
    return proc, f"http://127.0.0.1:{port}/", links


def idle(page) -> None:
    """Wait until Streamlit has finished the script run and nothing on the page is stale or loading."""
    page.wait_for_function(IDLE_JS, timeout=TIMEOUT_MS)


def open_page(page, title: str) -> None:
    """Click a page in the sidebar and wait for its title."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=TIMEOUT_MS)
    idle(page)


def shoot(page, name: str, *, height: int | None = None) -> None:
    """Save docs/NAME.png: the whole scrolling main area (or `height` pixels of it)."""
    idle(page)
    full = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": min(height or full, 4000)})
    idle(page)
    page.screenshot(path=str(DOCS / f"{name}.png"))
    print(f"saved {DOCS / f'{name}.png'}")


def signin(browser, base: str, links: dict, name: str) -> None:
    page = new_page(browser)
    page.goto(base)
    page.get_by_role("button", name="Sign in").first.wait_for(timeout=TIMEOUT_MS)
    shoot(page, name, height=900)


def new_page(browser):
    page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    return page


def signed_in(browser, link: str):
    page = new_page(browser)
    page.goto(link)
    page.wait_for_function("() => !location.search.includes('token=')", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Sign out").first.wait_for(timeout=TIMEOUT_MS)  # a lone page has no nav
    idle(page)
    return page


def reveal(browser, base: str, links: dict, name: str) -> None:
    """alice submits her segment, goes back to it, and sees the other raters' answers as chips."""
    page = signed_in(browser, links["annotator"])
    page.get_by_role("button", name="Submit").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("No failure", exact=True).first.click()
    idle(page)
    page.get_by_role("button", name="Submit").first.click()
    idle(page)
    page.get_by_role("button", name="Previous").first.click()
    page.get_by_text("Other raters' labels").first.wait_for(timeout=TIMEOUT_MS)
    _shoot_around(page, name, page.get_by_text("Other raters' labels").first)


def _shoot_around(page, name: str, anchor) -> None:
    """A 1440 x 1100 shot of the viewport with `anchor` scrolled near its top."""
    page.set_viewport_size({"width": WIDTH, "height": 1100})
    anchor.evaluate("e => e.scrollIntoView({block: 'start'})")
    idle(page)
    page.screenshot(path=str(DOCS / f"{name}.png"))
    print(f"saved {DOCS / f'{name}.png'}")


def page_shot(role: str, title: str, wait_for: str, *, before: Callable | None = None) -> Callable:
    """A shot of one page: sign in as `role`, open `title`, run `before` (clicks), wait for the CSS
    selector `wait_for`, save the whole page."""
    def take(browser, base: str, links: dict, name: str) -> None:
        page = signed_in(browser, links[role])
        open_page(page, title)
        if before:
            before(page)
        page.locator(wait_for).first.wait_for(timeout=TIMEOUT_MS)
        shoot(page, name)
    return take


def _compare(page) -> None:
    """The Compare tab on every gold segment (the demo has no dev/test split)."""
    page.get_by_role("tab", name="Compare").click()
    page.locator('[data-testid="stRadio"] label').filter(has_text=re.compile(r"^all$")).last.click()
    page.get_by_role("button", name="Compare", exact=True).click()


CHART = '[data-testid="stVegaLiteChart"]'


SHOTS: dict[str, Callable] = {
    "signin": signin, "reveal": reveal,
    "review": page_shot("reviewer", "Review", '[data-testid="stDataFrame"]'),
    "agreement": page_shot("reviewer", "Agreement", CHART),
    "judge_lab": page_shot("admin", "Judge lab", CHART, before=_compare),
    "data": page_shot("admin", "Data", "text=Segments to label",
                      before=lambda page: page.get_by_role("tab", name="Assignment").click()),
    "taxonomy": page_shot("admin", "Taxonomy", '[data-testid="stDataFrame"]'),
}


def main(names: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    unknown = sorted(set(names) - set(SHOTS))
    if unknown:
        sys.exit(f"unknown shot(s): {', '.join(unknown)}; choose from {', '.join(SHOTS)}")
    with tempfile.TemporaryDirectory() as folder:
        proc, base, links = start_demo(Path(folder))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for name in names or SHOTS:
                    started = time.monotonic()
                    SHOTS[name](browser, base, links, name)
                    print(f"  {name}: {time.monotonic() - started:.1f} s")
                browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
