"""What the step-level datasets (Who&When, AgentRx) share: speakers from roles, one turn per message,
JSON files read whole, and the warnings an import counts where a dataset is known to be inconsistent.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from annotator.core.jsonlimits import JsonTooDeepError, loads_bounded
from annotator.core.segments import Turn, render_messages
from annotator.ingest.records import fail, kind_of

# "Orchestrator (-> WebSurfer)", "Orchestrator (thought)": the agent, then a note in parentheses.
_ROLE = re.compile(r"(?P<agent>[^()]+?)\s*\((?P<inner>[^()]*)\)")


def one_line(value: str) -> str:
    """Names as the store keeps speakers (white space collapsed), so labels and turns compare equal."""
    return " ".join(value.split())


def speaker_of(role: str | None, name: str | None) -> tuple[str | None, str | None, str | None]:
    """(speaker, recipient, role note) of a message.

    The speaker is ``name`` when given, else the agent part of the role: "Orchestrator (-> WebSurfer)" is
    Orchestrator speaking to WebSurfer, "Orchestrator (thought)" is Orchestrator (note "thought").
    """
    recipient = note = None
    agent = one_line(role) if role else None
    match = _ROLE.fullmatch(agent) if agent else None
    if match:
        agent, inner = match.group("agent").strip(), match.group("inner").strip()
        if inner.startswith("->"):
            recipient = inner[2:].strip() or None
        else:
            note = inner or None
    if name and name.strip():
        return one_line(name), recipient, one_line(role) if role else None
    return agent or None, recipient, note


def read_json(path: Path, *, record: str | None = None) -> object:
    """The whole JSON document of a (small) file, nesting bounded; errors name the file."""
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(path, f"not valid UTF-8 text (byte {exc.start})", record=record) from None
    if not raw.strip():
        raise fail(path, "the file is empty", record=record)
    try:
        return loads_bounded(raw)
    except JsonTooDeepError as exc:
        raise fail(path, str(exc), record=record) from None
    except json.JSONDecodeError as exc:
        raise fail(path, f"malformed JSON ({exc.msg} at line {exc.lineno} column {exc.colno})", record=record) from None


def messages_to_turns(path: Path, messages: object, field_name: str, *, record: str | None = None,
                      task: str | None = None, answer: str | None = None) -> tuple[str, list[Turn], list[str | None]]:
    """Render a message list as a trace: one turn per message, its speaker from name or role.

    Returns (text, turns, speakers); ``meta`` of each turn keeps the original role and its step number;
    the first turn's also the task (``question``) and its expected answer, which are not turns.
    """
    if not isinstance(messages, list) or not messages:
        raise fail(path, f"field {field_name!r} must be a non-empty list of messages, not {kind_of(messages)}",
                   record=record)
    rendered = []
    for i, message in enumerate(messages):
        where = f"{field_name}[{i}]"
        if not isinstance(message, dict):
            raise fail(path, f"{where} must be an object with 'content' and 'role', not {kind_of(message)}",
                       record=record)
        content, role, name = message.get("content"), message.get("role"), message.get("name")
        for key, value in (("role", role), ("name", name)):
            if value is not None and not isinstance(value, str):
                raise fail(path, f"{where}.{key} must be text, not {kind_of(value)}", record=record)
        if content is not None and not isinstance(content, str | list):
            raise fail(path, f"{where}.content must be text, not {kind_of(content)}", record=record)
        speaker, recipient, note = speaker_of(role, name)
        if speaker is None:
            raise fail(path, f"{where} names no agent (no 'name', empty 'role')", record=record)
        meta = {"step": str(i)} | ({"role": role} if role else {})
        if i == 0:
            meta |= {k: v for k, v in (("question", task), ("ground_truth", answer)) if v}
        rendered.append({"name": speaker, "role": note, "recipient": recipient, "content": content, "meta": meta})
    text, turns = render_messages(rendered)
    return text, turns, [t.speaker for t in turns]


@dataclass
class Warnings:
    """Counted problems of a dataset that is known to be inconsistent, with the first few places."""

    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, where: str) -> None:
        self.counts[kind] += 1
        shown = self.examples.setdefault(kind, [])
        if len(shown) < 3:
            shown.append(where)


def check_agent(agent: str, step: int, speakers: list[str | None], warnings: Warnings, where: str) -> str:
    """The agent as the trace spells it; a name that never speaks, or that is not the step's speaker, is
    counted (the public datasets have both) rather than refused, and kept as the dataset gave it."""
    agent = one_line(agent)
    spoken = {s for s in speakers if s}
    if agent not in spoken:
        folded = {s.casefold(): s for s in spoken}
        if agent.casefold() in folded:
            warnings.add("agent spelled differently from its turns (matched ignoring case)", where)
            agent = folded[agent.casefold()]
        else:
            warnings.add("agent never speaks in the trace", where)
            return agent
    if speakers[step] != agent:
        warnings.add("the step's turn is spoken by another agent", where)
    return agent


def step_index(path: Path, value: object, field_name: str, n_turns: int, *, base: int, record: str | None) -> int:
    """A step given as a whole number (or text holding one), ``base``-based, as a 0-based turn index."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,9}\s*", value):
        number = int(value)
    if number is None:
        raise fail(path, f"{field_name} must be a whole number, not {value!r}", record=record)
    index = number - base
    if not 0 <= index < n_turns:
        raise fail(path, f"{field_name} {number} is out of range (the trace has {n_turns} steps, numbered "
                   f"{base} to {n_turns - 1 + base})", record=record)
    return index
