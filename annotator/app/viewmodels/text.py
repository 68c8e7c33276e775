"""Turning untrusted text into what the page shows. Pure functions, no Streamlit.

Text from data (trace text and ids, speakers, tags, rater and user names, taxonomy names, versions, codes,
names and definitions, judge evidence, import errors that quote a file) reaches the page in one of
three ways, and only these:

- where Streamlit renders Markdown (st.markdown, captions, alerts, toasts, widget and expander labels,
  radio options, badges, help tooltips): through :func:`md_literal`, which renders as the text itself:
  no emphasis, link, image (a remote fetch), HTML, maths or directive, no visible backslash;
- where Streamlit shows plain text (st.text, select and multiselect options, dataframe cells): as is,
  through :func:`plain` for short one-line texts (ids, names: bidi controls stripped) and
  :func:`plain_body` for trace text (bidi overrides made visible);
- st.code for diffs.
"""

from __future__ import annotations

import re

from annotator.core.plaintext import md_literal, strip_bidi

__all__ = ["md_literal", "plain", "plain_body"]

TURN_PREVIEW_CHARS = 2_000  # a longer turn is folded: this much first, then "show more"
SHOW_MORE_FACTOR = 10  # each "show more" shows ten times as much
TURNS_PREVIEW = 40  # a segment with more turns shows this many first

_BIDI_OVERRIDES = re.compile("[\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> str:
    """A short text from data for a widget that shows plain text (a select option, a line of st.text):
    without bidi controls, so a U+202E in a trace id cannot reverse the rest of the line."""
    return strip_bidi("" if value is None else value)


def plain_body(text: str) -> str:
    """Trace text for st.text: bidi embeddings, overrides and isolates shown as ``[U+202E]`` instead of
    acting (an annotator should see that a trace holds one, as in a "Trojan Source" attack, and the rest
    of the line must not be reordered). Directional marks (U+200E, U+200F, U+061C) stay: they reorder
    nothing, and right-to-left text uses them."""
    return _BIDI_OVERRIDES.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def fold(text: str, limit: int) -> tuple[str, int]:
    """The first `limit` characters of `text` (cut at a line break when one is near) and how many
    characters are left out."""
    if len(text) <= limit:
        return text, 0
    cut = text.rfind("\n", int(limit * 0.8), limit)
    cut = cut if cut > 0 else limit
    return text[:cut], len(text) - cut


def next_limit(limit: int) -> int:
    return limit * SHOW_MORE_FACTOR


def turns_of(text: str, *, kind: str, speaker: str | None) -> list[tuple[str | None, str]]:
    """The segment as (speaker, text) turns, for showing it turn by turn.

    A turn segment is one turn. Other segments are split with `annotator.core.segments.split_turns`
    when it is available and finds turns; otherwise the whole text is one turn.
    """
    if kind == "turn" or not text:
        return [(speaker, text)]
    try:
        from annotator.core.segments import split_turns
    except ImportError:  # the segmenter is not installed in this build
        return [(speaker, text)]
    turns = split_turns(text)
    if not turns:
        return [(speaker, text)]
    out: list[tuple[str | None, str]] = []
    if turns[0].start > 0 and text[: turns[0].start].strip():
        out.append((None, text[: turns[0].start]))
    out.extend((t.speaker, text[t.start:t.end]) for t in turns)
    return out


def count_label(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"
