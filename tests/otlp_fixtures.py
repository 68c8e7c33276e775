"""OTLP fixtures written from the specifications (OTLP/JSON encoding, GenAI semantic conventions), not from
the reader: hex ids, times as decimal strings, attributes as [{key, value: {stringValue|intValue...}}]."""

from __future__ import annotations

import json
from pathlib import Path

TRACE = "5b8efff798038103d269b633813fc60c"
S = 1_000_000_000
T0 = 1_750_000_000 * S


def sid(n: int) -> str:
    return f"{n:016x}"


def value(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [value(x) for x in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": value(x)} for k, x in v.items()]}}
    return {"stringValue": v}


def attrs(**kv) -> list[dict]:
    return [{"key": k.replace("__", "."), "value": value(v)} for k, v in kv.items()]


def span(n: int, parent: int | None, name: str, start: float, end: float, trace: str = TRACE, events=(),
         **attributes) -> dict:
    out = {"traceId": trace, "spanId": sid(n), "name": name, "kind": 1,
           "startTimeUnixNano": str(T0 + int(start * S)), "endTimeUnixNano": str(T0 + int(end * S)),
           "attributes": attrs(**attributes), "status": {}}
    if parent is not None:
        out["parentSpanId"] = sid(parent)
    if events:
        out["events"] = list(events)
    return out


def request(spans: list[dict], *, service: str = "travel-app", scope: str = "my.agents") -> dict:
    return {"resourceSpans": [{
        "resource": {"attributes": attrs(service__name=service, deployment__environment="test")},
        "scopeSpans": [{"scope": {"name": scope, "version": "1.0"}, "spans": spans}],
    }]}


def parts(role: str, *items: dict, **extra) -> dict:
    return {"role": role, "parts": list(items), **extra}


def text(content: str) -> dict:
    return {"type": "text", "content": content}


def call(call_id: str, name: str, arguments: dict) -> dict:
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": arguments}


def response(call_id: str, result: str) -> dict:
    return {"type": "tool_call_response", "id": call_id, "response": result}


def current_convention_spans() -> list[dict]:
    """Planner asks a tool for the weather and hands over to Writer, under the current GenAI conventions."""
    system_p = [text("You plan trips.")]
    user = parts("user", text("Plan a day in Paris."))
    asks = parts("assistant", call("call_1", "get_weather", {"city": "Paris"}), finish_reason="tool_call")
    answer = parts("assistant", text("Sunny. Writer: a short plan please."), finish_reason="stop")
    return [
        span(1, None, "invoke_agent Planner", 0, 10, gen_ai__operation__name="invoke_agent",
             gen_ai__agent__name="Planner", gen_ai__conversation__id="conv-7"),
        span(2, 1, "chat gpt-test", 1, 2, gen_ai__operation__name="chat", gen_ai__request__model="gpt-test",
             gen_ai__system_instructions=json.dumps(system_p), gen_ai__input__messages=json.dumps([user]),
             gen_ai__output__messages=json.dumps([asks])),
        span(3, 1, "execute_tool get_weather", 3, 4, gen_ai__operation__name="execute_tool",
             gen_ai__tool__name="get_weather", gen_ai__tool__call__id="call_1",
             gen_ai__tool__call__arguments='{"city": "Paris"}', gen_ai__tool__call__result="sunny, 21C"),
        span(4, 1, "chat gpt-test", 5, 6, gen_ai__operation__name="chat", gen_ai__request__model="gpt-test",
             gen_ai__system_instructions=json.dumps(system_p),
             gen_ai__input__messages=json.dumps([user, asks, parts("tool", response("call_1", "sunny, 21C"))]),
             gen_ai__output__messages=json.dumps([answer])),
        span(5, 1, "invoke_agent Writer", 7, 9, gen_ai__operation__name="invoke_agent",
             gen_ai__agent__name="Writer"),
        span(6, 5, "chat gpt-test", 7.5, 8.5, gen_ai__operation__name="chat", gen_ai__request__model="gpt-test",
             gen_ai__input__messages=json.dumps([parts("user", text("Sunny. Writer: a short plan please."))]),
             gen_ai__output__messages=json.dumps([parts("assistant", text("Louvre, then a picnic."))])),
    ]


# What the current-convention trace must become: (speaker, recipient, a phrase of the turn), in order.
CURRENT_TURNS = [
    ("system", "Planner", "You plan trips."),
    ("user", "Planner", "Plan a day in Paris."),
    ("Planner", "get_weather", "get_weather("),
    ("get_weather", "Planner", "sunny, 21C"),
    ("Planner", None, "Sunny. Writer: a short plan please."),
    ("Writer", "Planner", "Louvre, then a picnic."),
]


def write_lines(path: Path, requests: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in requests), encoding="utf-8")
    return path
