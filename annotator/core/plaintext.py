"""Text from data (trace ids, rater names, taxonomy names, codes and definitions, import errors) made safe to
put where Markdown is rendered: the Markdown report, and the app's labels, captions, alerts and tooltips.

Policy
------
- The text reads as it was written: every ASCII punctuation character is backslash-escaped, which
  CommonMark (and GitHub's and Streamlit's Markdown) renders as the character itself, so nothing forms
  emphasis, a link, an image (a remote fetch), raw HTML, an entity (``&amp;``), maths (``$...$``), a
  Streamlit directive (``:red[...]``, ``:material/icon:``), a list or a heading, and no backslash shows.
- Bidirectional controls (embeddings, overrides, isolates, marks: U+202A-U+202E, U+2066-U+2069,
  U+200E, U+200F, U+061C) are removed: one U+202E in a trace id would otherwise reverse the rest of the
  line it is shown on. Right-to-left text itself still shows right to left (the Unicode bidi algorithm
  needs no controls for that); only explicit overrides of it are lost. Other control characters (but
  line breaks, in multi-line text) are removed too.
- Leading spaces of a line are dropped (four of them would start a code block, which shows the escapes).
- Web addresses and e-mail addresses do not become links: GFM's autolinks are found in the text after
  escapes are resolved, so an invisible WORD JOINER (U+2060) goes after ``://``'s colon, after ``www``
  and after ``@``. It shows nothing, but a copied address holds it.
"""

from __future__ import annotations

import re
import string

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 (but tab, line feed) and C1 controls
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_AUTOLINK_START = re.compile(r"(:(?=//)|\bwww(?=\.)|@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def strip_bidi(text: object) -> str:
    """`text` as a string without bidirectional control characters (see the module's policy)."""
    return BIDI_CONTROLS.sub("", str(text))


def md_literal(text: object, *, multiline: bool = False, limit: int | None = None) -> str:
    """Markdown that renders as exactly `text` (as plain text).

    One line by default (runs of white space become one space); with ``multiline=True`` line breaks
    are kept as Markdown hard breaks. ``limit`` cuts the text (before escaping) to that many characters,
    with an ellipsis.
    """
    raw = _CONTROLS.sub("", strip_bidi("" if text is None else text).replace("\r\n", "\n").replace("\t", " "))
    if not multiline:
        raw = " ".join(raw.split())
    if limit is not None and len(raw) > limit:
        raw = raw[: max(0, limit - 1)].rstrip() + "…"
    raw = _AUTOLINK_START.sub(r"\1" + WORD_JOINER, raw)
    lines = [_PUNCTUATION.sub(r"\\\1", line.strip()) for line in raw.split("\n")]
    return "  \n".join(lines)
