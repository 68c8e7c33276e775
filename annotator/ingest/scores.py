"""Scores and feedback that observability tools attach to traces, read as labels of a failure-mode taxonomy.

A score counts when its name is a mode of the taxonomy: its code ("1.3", also "FM-1.3") or its name ("Step
repetition"), case and spacing ignored. Its value says present or absent: true/false, a number (>= 0.5 is
present), or a word such as "yes"/"no", "fail"/"pass". Other scores (latency, helpfulness...) are left alone
and counted in the import summary.
"""

from __future__ import annotations

import math
from functools import lru_cache

NOT_A_MODE = "scores or feedback whose name is not a mode of the taxonomy (or whose value is not yes/no), ignored"
_PRESENT = frozenset({"1", "true", "yes", "present", "fail", "failed", "failure", "incorrect"})
_ABSENT = frozenset({"0", "false", "no", "absent", "pass", "passed", "ok", "correct"})


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


@lru_cache(maxsize=8)
def mode_names(taxonomy: str = "mast") -> dict[str, str]:
    """Lower-case code or name -> mode code, for a built-in taxonomy."""
    from annotator.core.taxonomy import load_taxonomy

    names: dict[str, str] = {}
    for mode in load_taxonomy(taxonomy).modes:
        names[_norm(mode.code)] = mode.code
        names[_norm(f"FM-{mode.code}")] = mode.code
        names[_norm(mode.name)] = mode.code
    return names


def mode_code(name: object, taxonomy: str = "mast") -> str | None:
    return mode_names(taxonomy).get(_norm(name)) if isinstance(name, str) else None


def present(value: object) -> int | None:
    """1 (present), 0 (absent) or None (not a yes/no value)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return None if math.isnan(value) else int(value >= 0.5)
    if isinstance(value, str):
        word = _norm(value)
        return 1 if word in _PRESENT else 0 if word in _ABSENT else None
    return None
