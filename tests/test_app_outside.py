"""Nothing from outside: every page, for every role, in real Chromium, with hostile text in every field the
data can fill (a taxonomy file's name, version, codes, names, categories, definitions and aliases; trace
ids, speakers, turns and tags; rater names; an adjudicator's name and note; a judge's model name, evidence
and summary; an uploaded file's name and the import errors that quote its record ids, raters and codes; a
model name typed in the Judge lab).

Every request the browser makes is recorded; one that leaves 127.0.0.1 is aborted and fails the test. No
script from the data may run (each payload would set window.__pwned), no maths is typeset, no remote image
or link is in the page. One server and one browser serve all three roles.

Screenshots of every page go to $ANNOTATOR_SCREENSHOTS when it is set (to look at how the text reads).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from app_helpers import add_trace
from test_app_browser import CHROMIUM, CHROMIUM_ARGS, _need_browser, _served

from annotator import store
from annotator.app.viewmodels.navigation import pages_for

pytestmark = pytest.mark.browser

BEACON = "203.0.113.9"  # TEST-NET-3: never routed; a request to it would be a tracking beacon
LOCAL = {"127.0.0.1"}


def evil(where: str) -> str:
    """Hostile text that names where it was put: an image, raw HTML and a script (each would set
    window.__pwned), maths, a Streamlit directive, links, and a right-to-left override."""
    return (f"{where} ![b](http://{BEACON}/{where}.png) <img src=\"http://{BEACON}/{where}-h.png\" "
            f"onerror=\"window.__pwned='{where}'\"> <script>window.__pwned='{where}'</script> "
            f"$\\frac{{a}}{{b}}$ :red[r] **b** [l](http://{BEACON}/{where}-l) www.evil.test \u202e{where} end")


CODES = ["1.1", f"2.1$x$*![c](http://{BEACON}/code.png)", "2.2"]


def _taxonomy_file(tmp: Path) -> Path:
    modes = [{"code": code, "name": evil(f"name{i}"), "category": evil(f"category{i // 2}"),
              "definition": evil(f"definition{i}") + "\n    indented\n1. not a list", "aliases": [evil(f"alias{i}")]}
             for i, code in enumerate(CODES)]
    path = tmp / "evil.yaml"
    path.write_text(yaml.safe_dump({"name": f"evil$x$*b*<i>{BEACON}", "version": f"1![v](http://{BEACON}/v.png)",
                                    "description": evil("description"), "modes": modes}), encoding="utf-8")
    return path


def _labels(db, stored, segment_id: int, rater: str, present: set[str], *, kind: str = "human") -> None:
    rater_id = store.ensure_rater(db, rater, kind)
    store.write_labels(db, store.LabelWrite(segment_id, rater_id, stored.id,
                                            {mode_id: int(code in present) for code, mode_id in stored.mode_ids.items()},
                                            rationales={stored.mode_ids[c]: evil("rationale") for c in present}))


def _judge(db, ref: str, segments: list[int]) -> None:
    from annotator.judge import JudgeOptions, run_judge
    from annotator.judge.prompt import DEFAULT_PROMPT

    answer = json.dumps({"modes": {code: {"present": i == 0, "evidence": evil("evidence") if i == 0 else ""}
                                   for i, code in enumerate(CODES)}, "summary": evil("summary")})
    result = run_judge(db, JudgeOptions(model=f"openai/m![j](http://{BEACON}/model.png)", prompt_path=DEFAULT_PROMPT,
                                        taxonomy=ref, mock_responses={s: answer for s in segments}))
    assert result.status == "done", result.error


def _build(path: Path, tmp: Path) -> dict:
    from annotator.core.taxonomy import load_taxonomy
    from annotator.services.gold import adjudicate, build_gold

    db = store.connect(path)
    taxonomy = load_taxonomy(_taxonomy_file(tmp))
    store.save_taxonomy(db, taxonomy)
    stored = store.get_taxonomy(db, taxonomy.ref)
    segments = []
    for t in range(3):
        add_trace(db, evil(f"trace{t}"), [(evil("speaker"), evil(f"turn{t}")), ("Coder", "plain turn"),
                                          ("Planner", evil("turn-b"))], tags={evil("tagkey"): evil("tagvalue")})
    segments = [s for (s,) in db.execute("SELECT id FROM segments WHERE kind = 'turn' ORDER BY id")]
    for i, segment in enumerate(segments[1:]):  # the first stays for the annotator
        _labels(db, stored, segment, evil("ratera"), {CODES[0], CODES[1]} if i % 2 else {CODES[0]})
        _labels(db, stored, segment, evil("raterb"), {CODES[0]} if i % 3 else {CODES[2]})
    build_gold(db, taxonomy=taxonomy.ref)
    adjudicate(db, segments[2], {c: int(c == CODES[1]) for c in CODES}, adjudicator=evil("adjudicator"),
               taxonomy=taxonomy.ref, note=evil("note"))
    store.save_split(db, stored.id, {s: "dev" for s in segments[1:]}, seed=0)
    _judge(db, taxonomy.ref, segments[1:])
    tokens = {role: store.add_user(db, name, role)
              for name, role in (("ann", "annotator"), ("rev", "reviewer"), ("lead", "admin"))}
    store.save_settings(db, k=2, reveal=True, reveal_names="names", taxonomy=taxonomy.ref)
    db.conn.close()
    return tokens


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    _need_browser()
    tmp = tmp_path_factory.mktemp("outside")
    tokens = _build(tmp / "app.db", tmp)
    with _served(tmp / "app.db") as url:
        yield {"url": url, "tokens": tokens, "tmp": tmp}


# --------------------------------------------------------------------------------------------------
# Driving the pages

def _settled(page, marker: str | re.Pattern, timeout: float = 60) -> None:
    """Wait until a heading (of the main area) or text showing `marker` is on the page, and no script run
    is under way."""
    page.locator('[data-testid="stMain"]').get_by_text(marker).first.wait_for(timeout=timeout * 1000)
    page.wait_for_function("""() => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState
                              !== 'running'""", timeout=timeout * 1000)


def _open_everything(page, name: str) -> None:
    """Open every tab and expander, and hover a few help icons (a tooltip renders its Markdown on hover)."""
    tabs = page.get_by_role("tab")
    for i in range(max(1, tabs.count())):
        if tabs.count():
            tabs.nth(i).click()
        _open_expanders(page)
        _hover_help(page)
        _shoot(page, f"{name}-{i}")


def _open_expanders(page) -> None:
    closed = page.locator('[data-testid="stExpander"] details:not([open]) > summary')
    for _ in range(min(closed.count(), 12)):
        target = closed.first
        if not target.is_visible():
            break
        target.click()


TOOLTIPS_SHOWN: list[str] = []  # one entry per tooltip rendered, so the crawl can tell it hovered some
_ON_TOP = """el => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return hit !== null && (hit === el || el.contains(hit));
}"""


def _hover_help(page) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    icons = page.locator('[data-testid="stTooltipHoverTarget"]:visible')
    for i in range(min(icons.count(), 4)):
        icon = icons.nth(i)
        icon.scroll_into_view_if_needed(timeout=5_000)
        # A help icon under a chart or a table cannot be hovered (and its tooltip holds no data text):
        # ask the page what is under its centre rather than let Playwright retry the hover for seconds.
        if not icon.evaluate(_ON_TOP):
            continue
        try:
            icon.hover(timeout=2_000)
        except PlaywrightTimeout:  # covered after all (the page moved between the two steps)
            continue
        try:
            page.locator('[data-testid="stTooltipContent"]').first.wait_for(timeout=10_000)
        except PlaywrightTimeout:  # hovered but no tooltip (a column header's help in a scrolled pane): the
            continue               # count of tooltips shown, asserted at the end, keeps the crawl honest
        TOOLTIPS_SHOWN.append(page.url)
    page.mouse.move(1, 1)  # away, so no tooltip covers the next tab
    page.locator('[data-testid="stTooltipContent"]').first.wait_for(state="detached", timeout=10_000)


def _check_dom(page, where: str) -> None:
    found = page.evaluate(f"""() => ({{
        pwned: window.__pwned ?? null,
        maths: document.querySelectorAll('.katex, math').length,
        images: [...document.querySelectorAll('img')].map(i => i.src).filter(s => s.includes('{BEACON}')),
        links: [...document.querySelectorAll('a')].map(a => a.href)
            .filter(h => h.includes('{BEACON}') || h.includes('evil.test')),
    }})""")
    assert found == {"pwned": None, "maths": 0, "images": [], "links": []}, (where, found)


def _shoot(page, name: str) -> None:
    folder = os.environ.get("ANNOTATOR_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _judge_lab_inputs(page) -> None:
    """A model name typed in the form (its dry-run message quotes it), then a comparison with errors."""
    page.get_by_role("tab", name="Runs").click()
    page.get_by_label("Model (litellm name)").fill(f"openai/typed![t](http://{BEACON}/typed.png)$x$")
    page.get_by_role("button", name="Dry run").click()
    _settled(page, "Dry run of", timeout=120)
    page.get_by_role("tab", name="Compare").click()
    page.get_by_role("button", name="Compare").click()
    _settled(page, "Where a judge is wrong", timeout=120)


def _data_inputs(page, tmp: Path) -> None:
    """Two uploads: one imported (the message quotes its name), one refused (quoting id, rater, code)."""
    good = {"id": "fine", "messages": [{"role": "user", "content": "hello"}]}
    bad = {"id": f"![i](http://{BEACON}/importid.png) $x$", "messages": [{"role": "user", "content": "hi"}],
           "labels": {f"![r](http://{BEACON}/rater.png)": {f"9.9![c](http://{BEACON}/ic.png)": 1}}}
    page.get_by_role("tab", name="Import").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files([
        {"name": "$x$ <b>good</b> ![f](f.png).jsonl", "mimeType": "application/json",
         "buffer": json.dumps(good).encode()},
        {"name": "bad.jsonl", "mimeType": "application/json", "buffer": json.dumps(bad).encode()}])
    page.get_by_text("bad.jsonl").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Import").click()
    _settled(page, "unknown mode", timeout=120)


def _visit(page, title: str, server: dict, role: str, *, navigate: bool, outside: list[str]) -> None:
    if navigate:  # the first page is where sign-in lands (and a single page has no menu)
        page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=title).first.click()
    # Annotate shows the segment's place, or (to someone outside the pool) its title
    heading = r"^Segment \d+ of \d+|^Annotate$" if title == "Annotate" else f"^{title}$"
    _settled(page, re.compile(heading))
    name = f"{role}-{title.replace(' ', '_')}"
    _open_everything(page, name)
    if title == "Judge lab":
        _judge_lab_inputs(page)
        _open_everything(page, name + "-after")
    if title == "Data":
        _data_inputs(page, server["tmp"])
        _shoot(page, name + "-imported")
    _check_dom(page, f"{role}: {title}")
    assert outside == [], (f"{role}: {title}", outside)


def test_every_page_for_every_role_loads_nothing_from_outside(hostile_server):
    from playwright.sync_api import sync_playwright

    outside: list[str] = []

    def guard(route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in LOCAL:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for role in ("annotator", "reviewer", "admin"):
                context = browser.new_context(viewport={"width": 1400, "height": 1400})
                context.route("**/*", guard)
                page = context.new_page()
                page.on("dialog", lambda d: (outside.append(f"dialog: {d.message}"), d.dismiss()))
                page.goto(hostile_server["url"] + "?token=" + hostile_server["tokens"][role])
                for i, spec in enumerate(pages_for(role)):
                    _visit(page, spec.title, hostile_server, role, navigate=i > 0, outside=outside)
                context.close()
        finally:
            browser.close()
    assert outside == []
    assert len(TOOLTIPS_SHOWN) >= 10, TOOLTIPS_SHOWN  # the help tooltips (Markdown) were rendered too
