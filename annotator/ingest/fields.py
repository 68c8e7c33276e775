"""Fields of exported run/observation/span records, checked: text, times, and chat messages in the shapes
that Langfuse, LangSmith and the OpenAI Agents SDK record (OpenAI chat messages, LangChain messages, plain
text). A field of the wrong type raises BadField; the reader names the file and the record."""

from __future__ import annotations

from typing import Any

from annotator.ingest.genai import openai_message, openai_tool_calls
from annotator.ingest.records import kind_of
from annotator.ingest.spans import Message, ToolCall, as_text, ns_from_iso


class BadField(ValueError):
    """A field of the wrong type or form; the message names the field."""


def text(record: dict, name: str, *, required: bool = False) -> str | None:
    """A text field (whole numbers are taken as text: some exports write ids as numbers)."""
    value = record.get(name)
    if value is None or value == "":
        if required:
            raise BadField(f"missing field {name!r}")
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise BadField(f"field {name!r} must be text, not {kind_of(value)}")


def time_ns(record: dict, name: str) -> int | None:
    """An ISO 8601 time field (or epoch seconds / milliseconds as a number) as nanoseconds."""
    value = record.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return ns_from_iso(value)
        except ValueError:
            raise BadField(f"field {name!r} is not a time: {value[:40]!r}") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value * (1_000_000 if value > 1e11 else 1_000_000_000))
    raise BadField(f"field {name!r} must be a time, not {kind_of(value)}")


# --------------------------------------------------------------------------------------------------
# Messages

_LC_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "tool",
             "AIMessageChunk": "assistant", "HumanMessage": "user", "AIMessage": "assistant",
             "SystemMessage": "system", "ToolMessage": "tool", "FunctionMessage": "tool"}


def _langchain(item: dict) -> Message | None:
    """A LangChain message, serialised ({"lc": 1, "id": [..., "AIMessage"], "kwargs": {...}}) or as a dict
    with "type" (human, ai, system, tool)."""
    if item.get("lc") and isinstance(item.get("kwargs"), dict):
        ids = item.get("id") if isinstance(item.get("id"), list) else []
        body, kind = item["kwargs"], str(ids[-1]) if ids else ""
    elif isinstance(item.get("type"), str) and item["type"] in _LC_ROLES and "content" in item:
        body, kind = item, item["type"]
    else:
        return None
    role = _LC_ROLES.get(kind) or _LC_ROLES.get(str(body.get("type") or ""))
    calls = body.get("tool_calls")
    tool_calls = tuple(ToolCall(str(c.get("name") or "tool"), as_text(c.get("args")), _opt(c.get("id")))
                       for c in calls if isinstance(c, dict) and "args" in c) if isinstance(calls, list) else ()
    if not tool_calls:
        extra = body.get("additional_kwargs")
        tool_calls = openai_tool_calls(extra.get("tool_calls")) if isinstance(extra, dict) else ()
    return Message(role, _content(body.get("content")), name=_opt(body.get("name")), tool_calls=tool_calls,
                   tool_call_id=_opt(body.get("tool_call_id")))


def _opt(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _content(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in value):
        return "\n".join(p["text"] for p in value)
    return as_text(value)


def _is_message(item: Any) -> bool:
    return isinstance(item, dict) and (("role" in item and ("content" in item or "tool_calls" in item))
                                       or _langchain(item) is not None)


def _one(item: Any, default_role: str | None) -> Message:
    if isinstance(item, dict):
        found = _langchain(item)
        if found is not None:
            return found
        if "role" in item:
            return openai_message({**item, "content": item.get("content")}, default_role=default_role)
    return Message(default_role, as_text(item))


def _flat(items: list) -> list:
    # LangChain chat model inputs are a batch: [[message, ...]]
    return [m for sub in items for m in (sub if isinstance(sub, list) else [sub])]


def messages(value: Any, *, default_role: str | None, structured: bool = True) -> list[Message]:
    """Chat messages found in an input or output value.

    A list of messages; an object holding them under "messages", "choices" (OpenAI responses) or
    "generations" (LangChain); one message; plain text. Other structured values become one message of their
    JSON when `structured`, else nothing (a span's internal state is not something an agent said).
    """
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [Message(default_role, value)]
    if isinstance(value, list):
        flat = _flat(value)
        if flat and all(_is_message(m) for m in flat):
            return [_one(m, default_role) for m in flat]
    if isinstance(value, dict):
        if _is_message(value):
            return [_one(value, default_role)]
        found = _nested(value, default_role)
        if found is not None:
            return found
    return [Message(default_role, as_text(value))] if structured else []


def _nested(value: dict, default_role: str | None) -> list[Message] | None:
    if isinstance(value.get("messages"), list):
        return messages(value["messages"], default_role=default_role)
    if isinstance(value.get("choices"), list):
        return [_one(c.get("message"), default_role) for c in value["choices"]
                if isinstance(c, dict) and isinstance(c.get("message"), dict)]
    if isinstance(value.get("generations"), list):
        out = []
        for generation in _flat(value["generations"]):
            if isinstance(generation, dict) and isinstance(generation.get("message"), dict):
                out.append(_one(generation["message"], default_role))
            elif isinstance(generation, dict) and isinstance(generation.get("text"), str):
                out.append(Message(default_role, generation["text"]))
        return out
    for key in ("input", "output", "content", "text", "question", "answer", "query", "result"):
        if len(value) == 1 and isinstance(value.get(key), str):
            return [Message(default_role, value[key])]
    return None
