"""Split a trace into segments that keep character offsets into the trace text.

Pure core: standard library only, no I/O. A trace is one string; a *turn* is one agent message inside
it, found from the speaker markers that multi-agent frameworks write into their logs; a *segment* is
the unit people and the judge label: the whole trace, one turn, or a window of consecutive turns.

Invariants (checked by property tests):

- turns and segments tile the text: in order, contiguous, non-overlapping, covering ``text`` exactly;
- no segment is empty, so an empty text has no turns and no segments under every scheme (the
  importer rejects empty traces anyway);
- ``turn`` and ``window:N`` segments are at most ``max_chars`` long; a turn longer than that is cut
  into pieces, at the last line break that fits, else hard. ``trace`` is the one exception: it is
  always one segment, because MAST labels are given per whole trace.

Turn detection lives in :mod:`annotator.core.turns`; its names are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from annotator.core.errors import OptionError
from annotator.core.turns import Turn, render_messages, split_turns

__all__ = [
    "SCHEMES",
    "Segment",
    "Turn",
    "parse_scheme",
    "render_messages",
    "segment_trace",
    "split_turns",
]

SCHEMES = ("trace", "turn", "window:N")


@dataclass(frozen=True)
class Segment:
    """A labelling unit: ``text[start:end]``; ``index`` is 0-based within (trace, scheme)."""

    index: int
    kind: str  # "trace" | "turn" | "window"
    start: int
    end: int
    speaker: str | None = None  # only for kind "turn"
    recipient: str | None = None  # only for kind "turn", where the format names it
    meta: Mapping[str, str] | None = field(default=None, compare=False)  # the turn's (see Turn.meta)


# --------------------------------------------------------------------------------------------------
# Schemes


_WINDOW_RE = re.compile(r"window:([0-9]{1,9})")


def parse_scheme(value: str) -> tuple[str, int | None]:
    """Parse a segmentation scheme: ``trace``, ``turn`` or ``window:N`` (N >= 1).

    Case and surrounding spaces are ignored. Returns ``("trace", None)``, ``("turn", None)`` or
    ``("window", N)``; raises ValueError with a one-line message for anything else.

    >>> parse_scheme("window:3")
    ('window', 3)
    """
    raw = value.strip().lower() if isinstance(value, str) else ""
    if raw in ("trace", "turn"):
        return raw, None
    match = _WINDOW_RE.fullmatch(raw)
    if match and int(match.group(1)) >= 1:
        return "window", int(match.group(1))
    raise OptionError(f"segment scheme {value!r}: expected trace, turn or window:N with N >= 1")


# --------------------------------------------------------------------------------------------------
# Segmentation


def _check_turns(turns: list[Turn], length: int) -> None:
    """Given turns must tile the text, else offsets of the segments would be meaningless."""
    pos = 0
    for i, turn in enumerate(turns):
        if turn.start != pos or turn.end < turn.start:
            raise ValueError(f"turns[{i}]: starts at {turn.start}, expected {pos} (turns must tile the text)")
        pos = turn.end
    if pos != length:
        raise ValueError(f"turns end at {pos} but the text has {length} characters")


def _cut(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces of at most max_chars, after a line break where possible."""
    pieces = []
    while end - start > max_chars:
        limit = start + max_chars
        newline = text.rfind("\n", start, limit)
        cut = newline + 1 if newline >= start else limit  # a piece may end with its newline
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


_Unit = tuple[int, int, Turn, bool]  # (start, end, the turn it comes from, whether it is the whole turn)


def _units(text: str, turns: list[Turn], max_chars: int) -> list[_Unit]:
    """One unit per non-empty turn, oversized turns cut into pieces (whole=False)."""
    units: list[_Unit] = []
    for turn in turns:
        if turn.end == turn.start:
            continue
        pieces = _cut(text, turn.start, turn.end, max_chars)
        whole = len(pieces) == 1
        units.extend((s, e, turn, whole) for s, e in pieces)
    return units


def _windows(units: list[_Unit], size: int, max_chars: int) -> list[Segment]:
    """Group whole turns greedily, at most ``size`` turns and max_chars per window; pieces stand alone."""
    spans: list[list[int]] = []  # [start, end, turns]
    open_window = False
    for start, end, _, whole in units:
        current = spans[-1] if spans else None
        if open_window and current is not None and whole and current[2] < size and end - current[0] <= max_chars:
            current[1], current[2] = end, current[2] + 1
        else:
            spans.append([start, end, 1])
        open_window = whole
    return [Segment(i, "window", s, e) for i, (s, e, _) in enumerate(spans)]


def segment_trace(
    text: str,
    scheme: str,
    *,
    turns: list[Turn] | None = None,
    max_chars: int = 20_000,
) -> list[Segment]:
    """Split ``text`` into segments under ``scheme`` (``trace``, ``turn`` or ``window:N``).

    - ``trace``: one segment over the whole text, whatever its length.
    - ``turn``: one segment per turn (``turns`` if given, e.g. from :func:`render_messages`, else
      :func:`split_turns`); a turn longer than ``max_chars`` becomes several consecutive segments
      with the same speaker, cut after a line break where possible, else hard.
    - ``window:N``: up to N consecutive turns per segment, cut at a turn boundary before a window
      would exceed ``max_chars``; a turn longer than ``max_chars`` is cut as above, each piece alone.

    Segments tile the text in order and are never empty, so an empty text gives ``[]``.
    Raises ValueError for an unknown scheme, ``max_chars < 1``, or ``turns`` that do not tile ``text``.
    """
    kind, size = parse_scheme(scheme)
    if not isinstance(max_chars, int) or max_chars < 1:
        raise ValueError(f"max_chars must be a positive integer, got {max_chars!r}")
    if turns is not None:
        _check_turns(turns, len(text))
    if not text:
        return []
    if kind == "trace":
        return [Segment(0, "trace", 0, len(text))]
    units = _units(text, split_turns(text) if turns is None else turns, max_chars)
    if kind == "turn":
        return [Segment(i, "turn", s, e, turn.speaker, turn.recipient, turn.meta)
                for i, (s, e, turn, _) in enumerate(units)]
    return _windows(units, size or 1, max_chars)
