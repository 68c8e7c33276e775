"""Text from data put where Markdown is rendered (annotator.core.plaintext): checked against an independent
CommonMark renderer (markdown-it-py, with GFM tables and strikethrough), not against the code itself."""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from annotator.core.plaintext import WORD_JOINER, md_literal, strip_bidi

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
HOSTILE = [
    "![x](http://evil.test/p.png)",
    "[a link](http://evil.test/phish) and <http://evil.test/auto>",
    "<img src=x onerror=\"window.__pwned = 2\"> <script>alert(1)</script>",
    "**bold** _it_ `code` ~~gone~~ a|b",
    "$\\frac{a}{b}$ and $$E = mc^2$$",
    "&amp; &copy; &#x41; and a trailing backslash \\",
    ":red[red] :material/home: :smile:",
    "1. a list",
    "# a heading",
    "- an item",
    "> a quote",
    "===",
    "trace-\u202eevil\u202c-id",
    "[^1] footnote and [ref]: http://evil.test",
    "plain Planner (v2), 50% of 3.1",
]
_RENDER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _rendered_text(markdown: str) -> str:
    """What a CommonMark renderer shows for `markdown` when it is plain text in paragraphs; else the HTML."""
    out = _RENDER.render(markdown).strip().replace("</p>\n<p>", "<br />\n<br />\n")  # paragraphs: a blank line
    match = re.fullmatch(r"<p>(.*)</p>", out, re.DOTALL)
    if not match or "<" in match.group(1).replace("<br />", ""):
        return out  # some element other than text: the caller's comparison fails and shows it
    return html.unescape(match.group(1).replace("<br />\n", "\n")).replace(WORD_JOINER, "")


@pytest.mark.parametrize("raw", HOSTILE)
def test_renders_as_the_text_itself(raw):
    expected = " ".join(raw.split())
    for control in BIDI:
        expected = expected.replace(control, "")
    assert _rendered_text(md_literal(raw)) == expected


def test_every_dollar_and_colon_is_escaped():
    """Maths ($...$) and Streamlit directives (:name[...]) are not CommonMark: checked on the text."""
    out = md_literal("$a$ $$b$$ :red[x] :material/home:")
    assert not re.search(r"(?<!\\)[$:\[]", out)


def test_addresses_do_not_become_autolinks():
    """GFM finds addresses in the text after escapes are resolved: an invisible joiner breaks them."""
    for address in ("http://evil.test/x", "https://evil.test", "www.evil.test", "WWW.evil.test", "a@evil.test"):
        out = md_literal(f"see {address} now").replace("\\", "")
        assert address not in out and out.replace(WORD_JOINER, "") == f"see {address} now"


def test_multiline_keeps_line_breaks_and_never_makes_a_code_block():
    raw = "first line\n    indented four (a code block in Markdown)\n\n1. not a list"
    assert _rendered_text(md_literal(raw, multiline=True)) == \
        "first line\nindented four (a code block in Markdown)\n\n1. not a list"


def test_bidi_controls_are_removed_and_right_to_left_text_kept():
    assert strip_bidi("a\u202eb\u2066c\u2069\u200fd") == "abcd"
    assert md_literal("שלום \u202eworld") == "שלום world"


def test_limit_cuts_before_escaping():
    out = md_literal("a.b.c.d.e.f", limit=5)
    assert _rendered_text(out) == "a.b.…"
