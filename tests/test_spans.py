"""The shared span assembly (annotator.ingest.spans): order, speakers, recipients, no repeated history.

Expected turns are written out by hand from the scenario, not produced by the code under test.
"""

from __future__ import annotations

from collections import Counter

import pytest

from annotator.ingest.records import ImportNote, IngestError, RecordLabels, TraceRecord
from annotator.ingest.spans import (
    AGENT,
    CHAIN,
    HANDOFF,
    LLM,
    MISSING_PARENT,
    TOOL,
    Message,
    Span,
    ToolCall,
    assemble,
    iso_from_ns,
    ns_from_iso,
    read_traces,
)

S = 1_000_000_000


def _turns(record: TraceRecord) -> list[tuple[str | None, str | None, str]]:
    """(speaker, recipient, text of the turn) for every turn."""
    assert record.turns is not None
    return [(t.speaker, t.recipient, record.text[t.start:t.end]) for t in record.turns]


def _two_agents() -> list[Span]:
    """Planner looks up the weather with a tool, then hands off to Writer, who writes the answer.

    Listed out of order on purpose (children before parents, later siblings first), as exporters do.
    """
    system_p = Message("system", "You plan.")
    task = Message("user", "Weather in Paris, as a haiku?")
    call = ToolCall("get_weather", '{"city": "Paris"}', "call_1")
    asks_tool = Message("assistant", "", tool_calls=(call,))
    result = Message("tool", "18C, sunny", tool_call_id="call_1")
    plan = Message("assistant", "Sunny, 18C. Writer, make a haiku.")
    system_w = Message("system", "You write haiku.")
    haiku = Message("assistant", "Paris sun at noon")
    return [
        Span("t1", "llm2", "planner", "chat", LLM, 4 * S, 5 * S,
             inputs=[system_p, task, asks_tool, result], outputs=[plan], model="m-1"),
        Span("t1", "tool1", "planner", "execute_tool get_weather", TOOL, 3 * S, 4 * S,
             tool=call, tool_result="18C, sunny"),
        Span("t1", "llm1", "planner", "chat", LLM, 1 * S, 2 * S, inputs=[system_p, task], outputs=[asks_tool],
             model="m-1"),
        Span("t1", "planner", "root", "invoke_agent Planner", AGENT, 1 * S, 6 * S, agent="Planner",
             outputs=[plan]),
        Span("t1", "root", None, "workflow", CHAIN, 0, 10 * S, inputs=[task], service="svc",
             resource={"deployment.environment": "test"}, framework="fw"),
        Span("t1", "writer", "root", "invoke_agent Writer", AGENT, 7 * S, 9 * S, agent="Writer"),
        Span("t1", "handoff", "planner", "handoff", HANDOFF, 5 * S, 5 * S, handoff_to="Writer"),
        Span("t1", "llm3", "writer", "chat", LLM, 7 * S, 8 * S, inputs=[system_w, task, plan], outputs=[haiku],
             model="m-2"),
    ]


def test_two_agents_turns_speakers_recipients_in_order():
    record = assemble(_two_agents(), source="f.json", external_id="t1", index=0)
    expected = [
        ("user", None, "Weather in Paris, as a haiku?"),  # the workflow's input: no agent yet
        ("system", "Planner", "You plan."),
        ("Planner", "get_weather", "[tool call call_1] get_weather({\"city\": \"Paris\"})"),
        ("get_weather", "Planner", "[result] 18C, sunny"),
        ("Planner", None, "Sunny, 18C. Writer, make a haiku."),
        ("Planner", "Writer", "[handoff] to Writer"),
        ("system", "Writer", "You write haiku."),
        ("Writer", None, "Paris sun at noon"),
    ]
    got = _turns(record)
    assert [(s, r) for s, r, _ in got] == [(s, r) for s, r, _ in expected]
    for (_, _, text), (_, _, want) in zip(got, expected):
        assert want in text
    # every message once: the prompt history the LLM calls repeat is not said again
    for phrase in ("Weather in Paris", "You plan.", "18C, sunny", "Sunny, 18C", "Paris sun"):
        assert record.text.count(phrase) == 1, phrase
    assert record.framework == "fw" and record.llm == "m-1, m-2"
    assert record.tags == {"deployment.environment": "test", "service.name": "svc"}


def test_turn_meta_names_span_parent_times_kind():
    record = assemble(_two_agents(), source="f.json", external_id="t1", index=0)
    assert record.turns is not None
    tool_turn = record.turns[3]
    assert dict(tool_turn.meta or {}) == {
        "span_id": "tool1", "parent_span_id": "planner", "kind": "tool", "tool_call_id": "call_1",
        "started_at": "1970-01-01T00:00:03.000000000Z", "ended_at": "1970-01-01T00:00:04.000000000Z"}
    assert record.turns[2].meta["model"] == "m-1"


def test_turns_tile_the_rendered_text():
    record = assemble(_two_agents(), source="f.json", external_id="t1", index=0)
    assert record.turns is not None
    assert record.turns[0].start == 0 and record.turns[-1].end == len(record.text)
    assert all(a.end == b.start for a, b in zip(record.turns, record.turns[1:]))


def test_siblings_by_start_time_then_file_order():
    spans = [Span("t", "r", None, "root", AGENT, 0, 9, agent="A"),
             Span("t", "b", "r", "c", LLM, 5, 6, outputs=[Message("assistant", "second")]),
             Span("t", "a", "r", "c", LLM, 1, 2, outputs=[Message("assistant", "first")]),
             Span("t", "c", "r", "c", LLM, 5, 6, outputs=[Message("assistant", "third")])]
    record = assemble(spans, source="f", external_id="t", index=0)
    assert [text.split("\n")[1] for _, _, text in _turns(record)] == ["first", "second", "third"]


def test_a_message_said_twice_on_purpose_is_kept():
    again = Message("user", "continue")
    spans = [Span("t", "r", None, "a", AGENT, 0, 9, agent="A"),
             Span("t", "1", "r", "c", LLM, 1, 2, inputs=[again], outputs=[Message("assistant", "one")]),
             Span("t", "2", "r", "c", LLM, 3, 4, inputs=[again, Message("assistant", "one"), again],
                  outputs=[Message("assistant", "two")])]
    record = assemble(spans, source="f", external_id="t", index=0)
    assert [s for s, _, _ in _turns(record)] == ["user", "A", "user", "A"]
    assert record.text.count("continue") == 2


def test_tool_result_without_tool_span_is_named_after_the_call():
    call = ToolCall("search", '{"q": "x"}', "c9")
    spans = [Span("t", "r", None, "a", AGENT, 0, 9, agent="Scout"),
             Span("t", "1", "r", "c", LLM, 1, 2, inputs=[Message("user", "find x")],
                  outputs=[Message("assistant", "", tool_calls=(call,))]),
             Span("t", "2", "r", "c", LLM, 3, 4,
                  inputs=[Message("user", "find x"), Message("assistant", "", tool_calls=(call,)),
                          Message("tool", "x is 42", tool_call_id="c9")],
                  outputs=[Message("assistant", "42")])]
    got = _turns(assemble(spans, source="f", external_id="t", index=0))
    assert [(s, r) for s, r, _ in got] == [("user", "Scout"), ("Scout", "search"), ("search", "Scout"),
                                           ("Scout", None)]


def test_missing_parent_is_attached_to_the_root_and_counted():
    spans = [Span("t", "r", None, "a", AGENT, 0, 9, agent="A"),
             Span("t", "x", "gone", "c", LLM, 1, 2, outputs=[Message("assistant", "hello")])]
    notes: Counter[str] = Counter()
    record = assemble(spans, source="f", external_id="t", index=0, notes=notes)
    assert notes == {MISSING_PARENT: 1}
    assert _turns(record)[0][0] == "A"  # the orphan acts for the root's agent
    assert record.turns is not None and record.turns[0].meta["parent_span_id"] == "r"


def test_duplicate_span_id_is_refused_naming_file_and_span():
    spans = [Span("t", "r", None, "a", AGENT, 0, 9, agent="A", locator="line 1"),
             Span("t", "r", None, "b", LLM, 1, 2, outputs=[Message("assistant", "x")], locator="line 2")]
    with pytest.raises(IngestError) as err:
        assemble(spans, source="f.jsonl", external_id="t", index=0)
    assert str(err.value).startswith("f.jsonl: line 2 (id r): duplicate span id r")
    assert "\n" not in str(err.value)


def test_parent_cycle_is_refused():
    spans = [Span("t", "r", None, "a", AGENT, 0, 9, agent="A"),
             Span("t", "x", "y", "c", LLM, 1, 2, outputs=[Message("assistant", "x")]),
             Span("t", "y", "x", "c", LLM, 1, 2, outputs=[Message("assistant", "y")])]
    with pytest.raises(IngestError, match=r"^f: record id [xy]: parent cycle"):
        assemble(spans, source="f", external_id="t", index=0)


def test_trace_without_content_is_refused_with_the_hint():
    spans = [Span("t", "r", None, "a", LLM, 0, 9)]
    with pytest.raises(IngestError, match="no message content.*capture is off"):
        assemble(spans, source="f", external_id="t", index=0, empty_hint="capture is off")


def test_deep_chain_does_not_hit_the_recursion_limit():
    depth = 5000
    spans = [Span("t", str(i), str(i - 1) if i else None, "a", AGENT, i, 10 * depth - i, agent=f"A{i}")
             for i in range(depth)]
    spans.append(Span("t", "leaf", str(depth - 1), "c", LLM, depth, depth + 1,
                      outputs=[Message("assistant", "deep")]))
    record = assemble(spans, source="f", external_id="t", index=0)
    assert _turns(record) == [(f"A{depth - 1}", f"A{depth - 2}", record.text)]


def test_group_by_session_and_skip_non_genai_traces():
    def llm(trace: str, span: str, text: str, start: int, session: str | None) -> Span:
        return Span(trace, span, None, "chat", LLM, start, start + 1, session=session,
                    outputs=[Message("assistant", text)])

    spans = [llm("t1", "a", "one", 1, "s"), llm("t2", "b", "two", 2, "s"), llm("t3", "c", "three", 3, None),
             Span("t4", "http", None, "GET /", "other", 0, 1)]
    by_trace = list(read_traces("f", spans))
    assert [r.external_id for r in by_trace if isinstance(r, TraceRecord)] == ["t1", "t2", "t3"]
    assert [(n.text, n.count) for n in by_trace if isinstance(n, ImportNote)] == [
        ("traces without any LLM, agent or tool span, skipped", 1)]
    by_session = [r for r in read_traces("f", spans, group="session") if isinstance(r, TraceRecord)]
    assert [r.external_id for r in by_session] == ["s", "t3"]
    assert "one" in by_session[0].text and "two" in by_session[0].text


def test_nothing_to_annotate_is_an_error():
    with pytest.raises(IngestError, match="no LLM, agent or tool spans"):
        list(read_traces("f", [Span("t", "x", None, "GET /", "other", 0, 1)]))


def test_span_labels_become_trace_labels_of_the_rater():
    spans = [Span("t", "r", None, "a", AGENT, 0, 9, agent="A",
                  labels=[RecordLabels("ann", "human", "mast", {"1.1": 0, "1.2": 1})]),
             Span("t", "x", "r", "c", LLM, 1, 2, outputs=[Message("assistant", "x")],
                  labels=[RecordLabels("ann", "human", "mast", {"1.1": 1})])]
    record = assemble(spans, source="f", external_id="t", index=0)
    assert [(lab.rater, lab.values) for lab in record.labels] == [("ann", {"1.1": 1, "1.2": 1})]


def test_times_round_trip_with_nanoseconds():
    assert ns_from_iso("1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert ns_from_iso("2025-01-02T03:04:05.123456789+00:00") % S == 123456789
    assert ns_from_iso("1970-01-01T01:00:00+01:00") == 0
    assert iso_from_ns(ns_from_iso("2025-01-02T03:04:05.000000007Z")) == "2025-01-02T03:04:05.000000007Z"
