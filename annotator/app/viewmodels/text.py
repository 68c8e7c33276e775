"""Turning untrusted trace text into what the page shows. Pure functions, no Streamlit.

Trace text is only ever shown through elements that render plain text (st.text, st.code); the few
short strings that must go into a Markdown-rendering place (a speaker badge, an expander label) are
reduced here to a harmless character set first.
"""

from __future__ import annotations

import re
import unicodedata

TURN_PREVIEW_CHARS = 2_000  # a longer turn is folded: this much first, then "show more"
SHOW_MORE_FACTOR = 10  # each "show more" shows ten times as much
TURNS_PREVIEW = 40  # a segment with more turns shows this many first

_UNSAFE_LABEL = re.compile(r"[^\w .,'\-]", re.UNICODE)


def safe_label(value: object, *, limit: int = 40) -> str:
    """A short label safe to put where Streamlit renders Markdown (badges, expander titles).

    Keeps letters, digits, space, apostrophe, comma, '.', '-' and '_' (the last three backslash-escaped,
    so they cannot start a list or emphasis); everything else, including every Markdown, HTML and
    maths character, becomes a space. Never empty.
    """
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = _UNSAFE_LABEL.sub(" ", text)
    text = " ".join(text.split())[:limit].strip() or "?"
    return re.sub(r"([._\-])", r"\\\1", text)


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
