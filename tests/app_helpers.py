"""Builders shared by the web-app tests: small databases and AppTest set-up (fixtures: conftest.py).

Databases are built through the store (no importer), so these tests do not depend on the segmenter.
"""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

import annotator.app
from annotator import store
from annotator.core.taxonomy import load_taxonomy

# The app's entry script in the installed package (not the checkout's copy).
MAIN = str(Path(annotator.app.__file__).resolve().parent / "launch" / "streamlit_app.py")

PAYLOADS = (
    "<script>window.__pwned = 1; alert('script')</script>",
    "<img src=x onerror=\"window.__pwned = 2; alert('img')\">",
    "![tracker](http://203.0.113.9/pixel.png) and [a link](http://203.0.113.9/phish)",
    "$\\frac{a}{b}$ and $$E = mc^2$$",
    "<iframe src=\"http://203.0.113.9/frame\"></iframe><style>body{display:none}</style>",
)


def turn_text(turns: list[tuple[str, str]]) -> str:
    """A trace as 'Speaker: text' blocks (the generic turn format)."""
    return "\n".join(f"{speaker}: {body}" for speaker, body in turns)


def add_trace(db, external_id: str, turns: list[tuple[str, str]], *, scheme: str = "turn",
              tags: dict | None = None) -> int:
    """Insert a trace whose turns are its segments (scheme 'turn'), or one whole-trace segment."""
    text = turn_text(turns)
    segments, offset = [], 0
    for i, (speaker, body) in enumerate(turns):
        piece = f"{speaker}: {body}" + ("\n" if i < len(turns) - 1 else "")
        segments.append(store.SegmentInput(scheme, i, "turn", offset, offset + len(piece), speaker))
        offset += len(piece)
    whole = store.SegmentInput("trace", 0, "trace", 0, len(text), queued=scheme == "trace")
    trace = store.TraceInput(external_id=external_id, text=text, source="test", format="jsonl",
                             framework="TestFramework", benchmark="TestBench", tags=tags or {"round": "1"},
                             segments=[whole] + (segments if scheme != "trace" else []))
    with store.write(db):
        trace_id, _ = store.insert_trace(db, trace)
    return trace_id


def make_app_db(path: Path, *, traces: int = 3, turns: int = 3, k: int = 2) -> dict:
    """A database with the MAST taxonomy, `traces` traces of `turns` turn segments each, three users
    (alice annotator, rita reviewer, lead admin), and k set. Returns the tokens by user name."""
    db = store.connect(path)
    store.save_taxonomy(db, load_taxonomy("mast"))
    for t in range(traces):
        add_trace(db, f"trace-{t}", [(("Planner", "Coder", "Reviewer")[i % 3],
                                      f"Trace {t} turn {i}: do step {i}.\nSecond line of turn {i}.") for i in range(turns)])
    tokens = {name: store.add_user(db, name, role)
              for name, role in (("alice", "annotator"), ("bob", "annotator"), ("rita", "reviewer"),
                                 ("lead", "admin"))}
    store.save_settings(db, k=k)
    db.conn.close()
    return tokens


def add_other_labels(db, segment_id: int, rater: str, codes: set[str], *, kind: str = "human") -> None:
    """Labels from a rater who is not a user (an imported annotator or a judge)."""
    tax = store.get_taxonomy(db, "mast")
    rater_id = store.ensure_rater(db, rater, kind)
    values = {mode_id: int(code in codes) for code, mode_id in tax.mode_ids.items()}
    store.write_labels(db, store.LabelWrite(segment_id, rater_id, tax.id, values,
                                            rationales={tax.mode_ids[c]: f"{rater} says {c}" for c in codes}))


# --------------------------------------------------------------------------------------------------
# AppTest helpers

def page_path(page: str) -> str:
    """A page file as AppTest.switch_page wants it: relative to the launcher's folder (app/launch/)."""
    return f"../{page}" if page.startswith("views/") else page


def signed_in(token: str, page: str | None = None) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.query_params["token"] = token
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page_path(page)).run()
        assert not at.exception, at.exception
    return at


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before ASCII punctuation shows the punctuation


def shown(markdown: str) -> str:
    """What a reader sees of Markdown that is plain text with backslash escapes (as the app writes data
    text): the escapes resolved, hard breaks as line breaks, invisible word joiners dropped."""
    return _ESCAPED.sub(r"\1", markdown.replace("  \n", "\n")).replace("\u2060", "")


def texts(at: AppTest) -> str:
    """Everything the page sends as text, Markdown, captions, labels and values (for the blind test)."""
    parts = [str(getattr(e, "value", "")) for kind in ("markdown", "text", "caption", "title", "header",
                                                        "subheader", "code", "error", "info", "success")
             for e in at.get(kind)]
    parts += [str(getattr(e, "label", "")) for kind in ("checkbox", "button", "expander", "text_input")
              for e in at.get(kind)]
    parts += [e.value.to_string() for e in at.dataframe]
    parts += [str(e.proto) for e in at.get("bidi_component")]
    return shown("\n".join(parts))


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)

