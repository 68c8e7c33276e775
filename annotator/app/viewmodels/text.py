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


def mode_matches(mode, query: str) -> bool:
    """A mode whose code, name, definition or an alias holds `query` (any case); every mode for ""."""
    q = (query or "").strip().lower()
    return not q or any(q in text.lower() for text in (mode.code, mode.name, mode.definition, *mode.aliases))


def count_label(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# --------------------------------------------------------------------------------------------------
# Prose and code: which parts of a turn read better in a monospace font

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)[^\n]*$")  # CommonMark: ``` or ~~~, an info string
CODE_LANGUAGES = frozenset({"python", "py", "json", "bash", "sh", "shell", "console", "javascript", "js",
                            "typescript", "ts", "yaml", "yml", "sql", "html", "xml", "css", "java", "c", "cpp",
                            "go", "rust", "diff", "toml", "ini"})
_CODE_LINE = re.compile(
    r"""^(\s{4,}|\t)\S            # indented code
    | ^\s*[{}\[\]]\s*,?\s*$        # a lone bracket
    | ^\s*["'][^"']+["']\s*:\s     # "key": value
    | ^\s*(def|class|import|from|return|raise|async\s+def|for|while|if|elif|else|try|except|with)\b.*[:;)]?\s*$
    | ^\s*(\$|>>>|\.\.\.)\s       # a shell or Python prompt
    | ^\s*\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}  # a log line with a time stamp
    | ^\s*\[?(DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL|TRACE)\]?[\s:]
    | ^\s*(Traceback\ \(most|File\ ")
    | ^\s*[\w.]+\((\w+\s*=|["'{\[]|\)).*\)\s*;?\s*$  # a call: tool_name(arg=..., "x"), f()
    | ^\s*\[?(tool_call|function_call|tool_calls?|Function\ call|Tool\ call)\b
    | [;{]\s*$""",
    re.VERBOSE,
)


def _code_line(line: str) -> bool:
    stripped = line.strip()
    if stripped[:1] in "{[" and stripped.rstrip(",")[-1:] in "}]":
        return True  # JSON on one line
    return bool(_CODE_LINE.search(line))


def text_blocks(text: str) -> list[tuple[str, str, str | None]]:
    """A turn as blocks to show: ("prose", text, None) or ("code", text, language or None).

    Markdown fences (``` or ~~~) become code blocks, their language kept when it is a common one (an
    unclosed fence runs to the end); runs of lines that look like code, JSON, tool calls or log lines
    become code blocks too (blank lines between two such lines stay inside). Nothing is interpreted:
    both kinds are shown as plain text, the code in monospace. The fence lines themselves are left out.
    """
    blocks: list[tuple[str, str, str | None]] = []
    lines = text.split("\n")
    run: list[str] = []
    run_kind = "prose"

    def flush() -> None:
        body = "\n".join(run)
        if run_kind == "code":
            trailing = len(run) - len("\n".join(run).rstrip("\n").split("\n"))  # blank lines after the code
            blocks.append(("code", body.rstrip("\n"), None))
            if trailing:
                blocks.append(("prose", "", None))
        elif body.strip():
            blocks.append(("prose", body.strip("\n"), None))
        run.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            flush()
            mark, info = fence.group(1), fence.group(2).lower()
            end = next((j for j in range(i + 1, len(lines))
                        if lines[j].strip().startswith(mark) and not lines[j].strip().strip(mark[0])), len(lines))
            blocks.append(("code", "\n".join(lines[i + 1:end]), info if info in CODE_LANGUAGES else None))
            run_kind, i = "prose", end + 1
            continue
        kind = run_kind if not line.strip() else ("code" if _code_line(line) else "prose")
        if kind != run_kind:
            flush()
            run_kind = kind
        run.append(line)
        i += 1
    flush()
    return [b for b in blocks if b[0] == "code" or b[1].strip()]
