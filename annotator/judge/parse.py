"""Strict parsing of the judge's answer. Pure: no I/O.

The answer must be one JSON object, bare or inside a ```json code fence:
`{"modes": {"<code>": {"present": true|false, "evidence": "<short quote>"}, ...}, "summary": "<text>"}`
with every code of the taxonomy and no other. Anything else raises JudgementError: a judge that
fails to answer is never read as "no failure".
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_EVIDENCE_CHARS = 2000
_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?(.*?)```", re.DOTALL)


class JudgementError(ValueError):
    """The answer is not a valid judgement; the message says why (shown to people, stored with the call)."""


@dataclass(frozen=True)
class ModeJudgement:
    present: bool
    evidence: str


@dataclass(frozen=True)
class Judgement:
    modes: dict[str, ModeJudgement]  # in the taxonomy's order
    summary: str

    def to_json(self) -> str:
        return json.dumps({"modes": {c: {"present": m.present, "evidence": m.evidence} for c, m in self.modes.items()},
                           "summary": self.summary}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Judgement:
        data = json.loads(text)
        return cls({c: ModeJudgement(bool(m["present"]), m.get("evidence") or "") for c, m in data["modes"].items()},
                   data.get("summary") or "")


def extract_json(text: str) -> object:
    """The JSON value of a bare object, or of the first fenced code block."""
    stripped = (text or "").strip()
    if not stripped:
        raise JudgementError("empty answer")
    candidates = [stripped] if stripped.startswith("{") else []
    fence = _FENCE.search(stripped)
    if fence:
        candidates.append(fence.group(1).strip())
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError as exc:
            last = exc
    if not candidates:
        raise JudgementError("no JSON object in the answer (expected a bare object or a ```json block)")
    raise JudgementError(f"answer is not valid JSON: {last.msg} at line {last.lineno} column {last.colno}")


def _mode(code: str, value: object) -> ModeJudgement:
    if not isinstance(value, dict):
        raise JudgementError(f"mode {code!r}: expected an object with 'present' and 'evidence'")
    present = value.get("present")
    if not isinstance(present, bool):
        raise JudgementError(f"mode {code!r}: 'present' must be true or false, not {json.dumps(present)}")
    evidence = value.get("evidence")
    if evidence is None:
        evidence = ""
    if not isinstance(evidence, str):
        raise JudgementError(f"mode {code!r}: 'evidence' must be a string")
    return ModeJudgement(present, evidence.strip()[:MAX_EVIDENCE_CHARS])


def parse_judgement(text: str, codes: Sequence[str]) -> Judgement:
    """Validate an answer against the taxonomy's codes; raise JudgementError when it does not fit.

    Examples
    --------
    >>> parse_judgement('{"modes": {"1.1": {"present": true, "evidence": "x"}}, "summary": ""}', ["1.1"]).modes
    {'1.1': ModeJudgement(present=True, evidence='x')}
    """
    data = extract_json(text)
    if not isinstance(data, dict) or not isinstance(data.get("modes"), dict):
        raise JudgementError("expected a JSON object with a 'modes' object")
    modes = data["modes"]
    known = set(codes)
    unknown = [c for c in modes if c not in known]
    if unknown:
        raise JudgementError(f"unknown mode code {unknown[0]!r} (the taxonomy has {', '.join(codes)})")
    missing = [c for c in codes if c not in modes]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise JudgementError(f"missing mode {missing[0]!r}{more}")
    summary = data.get("summary", "")
    if summary is None:
        summary = ""
    if not isinstance(summary, str):
        raise JudgementError("'summary' must be a string")
    return Judgement({c: _mode(c, modes[c]) for c in codes}, summary.strip())
