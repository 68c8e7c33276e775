"""Bounds on JSON nesting, checked before a parser sees the text.

`json.loads` recurses once per level (RecursionError, with a traceback, at about 1,000 levels) and
streaming parsers keep per-level state, so a small file of nested brackets (`[[[[...]]]]`, 200,000 deep)
can exhaust the stack or the memory. Real documents are shallow: a trace record, a taxonomy or a judge's
answer nests fewer than 10 levels. Everything the tool reads as JSON is refused beyond MAX_JSON_DEPTH.

The scan is cheap and bounded: one regular-expression pass that skips strings whole (so brackets inside
trace text do not count) and stops at the first level too deep; it keeps one integer, not a stack.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 100

# A string (closing quote optional, so an unterminated one is consumed once instead of rescanned from every
# quote: possessive quantifiers keep the pass linear) or a bracket. Everything else is skipped by finditer.
_TOKENS = re.compile(r'"(?:[^"\\]++|\\.?)*+"?|[\[\]{}]', re.DOTALL)


class JsonTooDeepError(ValueError):
    """The text nests arrays and objects deeper than the limit; `offset` is where the limit was passed."""

    def __init__(self, limit: int, offset: int | None = None):
        at = f" (at character {offset})" if offset is not None else ""
        super().__init__(f"JSON nested deeper than {limit} levels{at}; the tool reads at most {limit} levels "
                         "of arrays and objects")
        self.limit, self.offset = limit, offset


def check_json_depth(text: str, *, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise JsonTooDeepError when `text` opens more than `limit` arrays/objects inside each other.

    Malformed text is not judged here (the parser reports it); only the depth is.
    """
    depth = 0
    for match in _TOKENS.finditer(text):
        first = match.group()[0]
        if first in "[{":
            depth += 1
            if depth > limit:
                raise JsonTooDeepError(limit, match.start())
        elif first in "]}" and depth:
            depth -= 1


def loads_bounded(text: str, *, limit: int = MAX_JSON_DEPTH, **kwargs):
    """`json.loads` after checking the depth (JsonTooDeepError, a ValueError, beyond `limit`)."""
    import json

    check_json_depth(text, limit=limit)
    return json.loads(text, **kwargs)
