"""Find the turns of a trace: the agent messages, from the speaker markers frameworks write into logs.

Pure core: standard library only. Detection runs a handful of compiled, line-anchored regular
expressions with bounded repetition, each only when a cheap literal probe for its framework occurs in
the text, so it is linear in the length of the text and does not backtrack badly on pathological input
(one 2 MB line, only newlines). Turns tile the text: in order, contiguous, covering it exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["Turn", "render_messages", "split_turns"]


@dataclass(frozen=True)
class Turn:
    """One agent message inside a trace: ``text[start:end]``, said by ``speaker`` (None if unknown).

    ``recipient`` is who it was addressed to, where the format says so. ``meta`` carries what a
    structured format knows about the turn and a reader may want to see (keys such as ``span_id``,
    ``parent_span_id``, ``started_at``, ``ended_at``, ``kind``); plain-text logs leave it None.
    """

    start: int
    end: int
    speaker: str | None
    recipient: str | None = None
    meta: Mapping[str, str] | None = field(default=None, compare=False)


# --------------------------------------------------------------------------------------------------
# Speaker markers, one entry per log format


Marker = tuple[int, "str | None"]  # (offset where a turn starts, speaker)

# A loguru line prefix, as MetaGPT and OpenManus write it: "2025-01-17 11:40:27.872 | INFO     | mod:fn:12 - "
_LOGURU = (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})? \| ?[A-Z]{1,10} {0,10}"
           r"\| ?[\w.<>-]{1,120}:[\w<>-]{1,80}:\d{1,6} - ")
_EOL = r"[ \t]*\r?$"


@dataclass(frozen=True)
class _Format:
    name: str
    probes: tuple[str, ...]  # literals of which one must occur before the regex is worth running
    pattern: re.Pattern[str]
    speaker: Callable[[re.Match[str]], str | None]


def _first_group(*names: str) -> Callable[[re.Match[str]], str | None]:
    """Speaker = the first of the named groups that matched (Python forbids duplicate group names)."""

    def pick(match: re.Match[str]) -> str | None:
        for name in names:
            value = match.group(name)
            if value:
                return value.strip()
        return None

    return pick


def _magentic_speaker(match: re.Match[str]) -> str | None:
    # AutoGen 0.4 console rulers name either the source ("WebSurfer") or "TextMessage (WebSurfer)".
    label = match.group("speaker").strip()
    inner = re.fullmatch(r"\w{1,40}Message \((.{1,80})\)", label)
    return inner.group(1) if inner else label


def _rendered_speaker(match: re.Match[str]) -> str | None:
    # Header written by render_messages: "=== name (role) ===" or "=== name ===".
    # With a recipient: "=== name -> recipient (role) ===".
    label = match.group("speaker").strip()
    if label == _UNNAMED:
        return None
    with_role = re.fullmatch(r"(.+?) \([^()]*\)", label)
    speaker = with_role.group(1) if with_role else label
    return speaker.split(_TO, 1)[0] or None


_FORMATS: tuple[_Format, ...] = (
    # ChatDev: "[2025-17-01 11:36:46 INFO] Programmer: **Programmer<->Code Reviewer on : Coding, turn 0**"
    # and phase sections "[... INFO] **[Seminar Conclusion]**:" (no speaker). Usage-info records are
    # bookkeeping inside a turn, not a new turn.
    _Format(
        "chatdev",
        (" INFO] ", " DEBUG] ", " WARNING] "),
        re.compile(
            r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{1,10}\] "
            r"(?:(?P<speaker>[A-Za-z][\w .'&/-]{0,60}?): \*\*|\*\*\[(?!OpenAI_Usage_Info)[^\]\n]{1,80}\]\*\*)",
            re.MULTILINE,
        ),
        _first_group("speaker"),
    ),
    # AG2 / AutoGen 0.2 console: "user_proxy (to assistant):" on its own line, messages between rulers.
    _Format(
        "ag2",
        (" (to ",),
        re.compile(r"^(?P<speaker>[A-Za-z_][\w .-]{0,80}?) \(to [^()\n]{1,80}\):" + _EOL, re.MULTILINE),
        _first_group("speaker"),
    ),
    # HyperAgent JSON dump: trajectory strings "HyperAgent_<id> - INFO - Planner's Response: ..." and
    # "... - INFO - Navigator->Planner: ...". "Initialized ..." lines stay inside the previous turn.
    _Format(
        "hyperagent",
        ('"HyperAgent_',),
        re.compile(
            r'^[ \t]{0,40}"HyperAgent_[^\s"]{1,200} - [A-Z]{1,10} - '
            r"(?:(?P<speaker>[A-Za-z][\w-]{0,60})'s Response:|(?P<sender>[A-Za-z][\w-]{0,60})->[A-Za-z][\w-]{0,60}:)",
            re.MULTILINE,
        ),
        _first_group("speaker", "sender"),
    ),
    # MetaGPT (loguru): "... | metagpt.roles.role:_act:391 - Alice(SimpleCoder): to do SimpleWriteCode".
    # Often stored inside a JSON string, so a line may also start right after an escaped "\n" or '": "'.
    _Format(
        "metagpt",
        ("): to do ",),
        re.compile(
            r'(?:^|(?<=\\n)|(?<=": "))' + _LOGURU + r"(?P<speaker>[A-Za-z][\w-]{0,40}\([\w-]{1,60}\)): to do ",
            re.MULTILINE,
        ),
        _first_group("speaker"),
    ),
    # MetaGPT communication log: "[2025-03-27 01:21:03] FROM: Human TO: {...}" and
    # "[...] NEW MESSAGES:" followed (after blank lines) by "SimpleCoder: ...".
    _Format(
        "metagpt-log",
        ("] FROM: ", "] NEW MESSAGES:"),
        re.compile(
            r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?\] (?:FROM: (?P<sender>[^\n]{1,80}?) TO:"
            r"|NEW MESSAGES:[ \t]*\r?\n(?:[ \t]*\r?\n){0,3}(?P<speaker>[A-Za-z][\w .-]{0,60}?):)",
            re.MULTILINE,
        ),
        _first_group("sender", "speaker"),
    ),
    # OpenManus (loguru): "... - ✨ Manus's thoughts: ..." and "... - 🎯 Tool 'browser_use' completed ...".
    _Format(
        "openmanus",
        ("'s thoughts:", "' completed"),
        re.compile(
            r"^" + _LOGURU
            + r"(?:\u2728 (?P<speaker>[\w .-]{1,60}?)'s thoughts:|\U0001f3af Tool '(?P<tool>[^'\n]{1,60})' completed)",
            re.MULTILINE,
        ),
        _first_group("speaker", "tool"),
    ),
    # Magentic-One / AutoGen 0.4 console: "---------- WebSurfer ----------".
    _Format(
        "magentic-one",
        ("---- ",),
        re.compile(r"^-{4,40} (?P<speaker>[^\n]{1,120}?) -{4,40}" + _EOL, re.MULTILINE),
        _magentic_speaker,
    ),
    # AppWorld: "Response from Supervisor Agent", "Message to Spotify Agent", "Code Execution Output",
    # possibly indented inside a nested agent loop. Only "Response from X" names an author; the other
    # headers do not, so the header itself is the speaker label.
    _Format(
        "appworld",
        ("Response from ", "Message to ", "Code Execution Output"),
        re.compile(
            r"^[ \t]{0,16}(?:Response from (?P<speaker>[\w .-]{1,60}? (?:Agent|API))"
            r"|(?P<header>Message to [\w .-]{1,60}? Agent|Code Execution Output))" + _EOL,
            re.MULTILINE,
        ),
        _first_group("speaker", "header"),
    ),
    # Our own rendering of JSON messages (render_messages), so its text re-splits the same way.
    _Format(
        "rendered",
        ("=== ",),
        re.compile(r"^=== (?P<speaker>[^\n]{1,200}?) ===" + _EOL, re.MULTILINE),
        _rendered_speaker,
    ),
)

# Generic fallback "Name: text" / "user: text", used only when no framework marker is found.
_GENERIC = re.compile(r"^(?P<speaker>[A-Za-z][\w-]{0,30}(?: [A-Za-z][\w-]{0,30}){0,2}):[ \t]", re.MULTILINE)
_ROLE_WORDS = frozenset({"user", "assistant", "system", "human", "ai", "tool", "function", "model", "bot"})
# Labels that start lines in logs and prose but are not speakers (ReAct steps, headings, fields).
_NOT_SPEAKERS = frozenset(
    [
        "thought", "action", "observation", "note", "notes", "error", "warning", "info", "debug", "traceback",
        "answer", "question", "step", "input", "output", "result", "results", "summary", "reason", "reasoning",
        "plan", "example", "http", "https", "file", "line", "todo", "fixme", "status", "progress", "task",
        "problem", "solution", "explanation", "response", "content", "args", "description", "title", "url",
        "source", "date", "time", "name", "type", "id", "value", "key", "path", "final", "answer", "action",
        "input", "subgoal", "intern", "name", "expected", "actual", "hint", "context", "query", "command",
        "code", "usage"
    ]
) | {"final answer", "action input", "intern name"}

_TRAJECTORY_KEY = re.compile(r'^(?P<indent> {0,40})"trajectory": \[' + _EOL, re.MULTILINE)
_UNNAMED = "(unnamed)"
_TO = " -> "  # between speaker and recipient in a rendered header


@lru_cache(maxsize=16)
def _json_items(indent: int) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Regexes for a pretty-printed JSON array whose key sits at ``indent`` spaces."""
    inner, field = " " * (indent + 4), " " * (indent + 8)
    string = r'"(?P<value>(?:[^"\\\n]|\\.){0,200})"'
    return (
        re.compile(r"^" + inner + r"\{" + _EOL, re.MULTILINE),  # an object element opens
        re.compile(r"^" + " " * indent + r"\]", re.MULTILINE),  # the array closes
        re.compile(r"^" + field + r'"name": ' + string, re.MULTILINE),
        re.compile(r"^" + field + r'"role": ' + string, re.MULTILINE),
    )


def _trajectory_span(text: str) -> tuple[int, int, int] | None:
    """(start, end, indent) of a pretty-printed ``"trajectory": [...]`` array (AG2, HyperAgent dumps)."""
    if '"trajectory": [' not in text:
        return None
    key = _TRAJECTORY_KEY.search(text)
    if key is None:
        return None
    indent = len(key.group("indent"))
    close = _json_items(indent)[1].search(text, key.end())
    return key.end(), (close.start() if close else len(text)), indent


def _json_string(raw: str) -> str:
    try:
        return json.loads(f'"{raw}"')
    except ValueError:
        return raw


def _ag2_json_markers(text: str) -> list[Marker]:
    """AG2 JSON dump: one turn per object in ``trajectory``; the speaker is its "name" (else "role").

    The name comes after the content in these dumps, so each object is searched for it within its own
    span; the closing bracket of the array starts a final speaker-less turn (the dump's epilogue).
    """
    span = _trajectory_span(text)
    if span is None:
        return []
    start, end, indent = span
    opener, _, name_re, role_re = _json_items(indent)
    starts = [m.start() for m in opener.finditer(text, start, end)]
    markers: list[Marker] = []
    for i, pos in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else end
        found = name_re.search(text, pos, stop) or role_re.search(text, pos, stop)
        speaker = _json_string(found.group("value")).strip() if found else ""
        markers.append((pos, speaker or None))
    if markers and end < len(text):
        markers.append((end, None))
    return markers


def _format_markers(fmt: _Format, text: str) -> list[Marker]:
    markers = [(m.start(), fmt.speaker(m)) for m in fmt.pattern.finditer(text)]
    if markers and fmt.name == "hyperagent":
        span = _trajectory_span(text)
        if span is not None and markers[-1][0] < span[1] < len(text):
            markers.append((span[1], None))  # the dump's epilogue after the trajectory array
    return markers


def _generic_markers(text: str) -> list[Marker]:
    """`Name: ...` lines, kept only where unambiguous: a role word, or a name seen at least twice."""
    found = [(m.start(), m.group("speaker")) for m in _GENERIC.finditer(text)]
    found = [(pos, name) for pos, name in found if name.lower() not in _NOT_SPEAKERS]
    counts: dict[str, int] = {}
    for _, name in found:
        counts[name] = counts.get(name, 0) + 1
    kept = [(pos, n) for pos, n in found if n.lower() in _ROLE_WORDS or counts[n] >= 2]
    return kept if len(kept) >= 2 else []


def _detect_markers(text: str) -> list[Marker]:
    """Markers of the framework format with the most markers (ties: the earlier format wins)."""
    best: list[Marker] = []
    candidates: Iterable[list[Marker]] = (
        [_ag2_json_markers(text)]
        + [_format_markers(f, text) for f in _FORMATS if any(p in text for p in f.probes)]
    )
    for markers in candidates:
        if len(markers) > len(best):
            best = markers
    return best or _generic_markers(text)


def split_turns(text: str) -> list[Turn]:
    """Split a raw trace into turns at the speaker markers of the framework that wrote it.

    Recognised: ChatDev, AG2 (console text and JSON dumps), HyperAgent, MetaGPT (loguru lines and the
    communication log), OpenManus, Magentic-One, AppWorld, and the output of :func:`render_messages`;
    else a generic ``Name: text`` fallback where unambiguous. One format is used per trace (the one
    with the most markers). Text before the first marker is its own turn with speaker None; with no
    marker at all the whole text is one turn. The turns tile ``text``; an empty text has no turns.
    """
    if not text:
        return []
    starts: list[Marker] = []
    for pos, speaker in sorted(_detect_markers(text), key=lambda m: m[0]):
        if not starts or pos > starts[-1][0]:
            starts.append((pos, speaker))
    if not starts or starts[0][0] > 0:
        starts.insert(0, (0, None))
    ends = [pos for pos, _ in starts[1:]] + [len(text)]
    return [Turn(pos, end, speaker) for (pos, speaker), end in zip(starts, ends)]


# --------------------------------------------------------------------------------------------------
# JSON messages


def _content_text(content: object) -> str:
    """Message content as text: strings as-is, lists of strings or {"text": ...} parts joined by lines."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") if isinstance(p, dict) else p for p in content]
        if all(isinstance(p, str) for p in parts):
            return "\n".join(parts)
    return json.dumps(content, ensure_ascii=False, indent=2)


def _one_line(value: object) -> str:
    # Names go into a header line; a newline in a name must not open a fake turn.
    return " ".join(str(value).split()) if value is not None else ""


def _header(name: str, role: str, recipient: str) -> str:
    label = name or role or _UNNAMED
    if recipient:
        label += f"{_TO}{recipient}"
    return f"{label} ({role})" if name and role and name != role else label


def render_messages(messages: list[dict]) -> tuple[str, list[Turn]]:
    """Render JSON chat messages ``[{"name", "role", "content"}]`` as a plain-text trace and its turns.

    Each message becomes a header line ``=== name (role) ===`` (``=== name -> recipient (role) ===``
    when the message has a ``recipient``) followed by its content; messages are separated by a blank
    line, which belongs to the turn before it, so the turns tile the text. The speaker is the name,
    else the role, else None; an optional ``meta`` mapping is kept on the turn as text values.
    :func:`split_turns` recognises the headers, but callers that have the messages should keep these
    turns: content may contain header-like lines.
    """
    chunks: list[str] = []
    people: list[tuple[str | None, str | None, Mapping[str, str] | None]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ValueError(f"messages[{i}]: expected an object with name, role and content")
        name, role = _one_line(message.get("name")), _one_line(message.get("role"))
        recipient = _one_line(message.get("recipient"))
        body = _content_text(message.get("content"))
        chunks.append(f"=== {_header(name, role, recipient)} ===\n{body}" + ("" if body.endswith("\n") else "\n"))
        meta = message.get("meta")
        people.append((name or role or None, recipient or None,
                       {str(k): str(v) for k, v in meta.items()} if isinstance(meta, Mapping) else None))
    turns, pos = [], 0
    for i, (chunk, (speaker, addressee, details)) in enumerate(zip(chunks, people)):
        end = pos + len(chunk) + (1 if i + 1 < len(chunks) else 0)
        turns.append(Turn(pos, end, speaker, addressee, details))
        pos = end
    return "\n".join(chunks), turns
