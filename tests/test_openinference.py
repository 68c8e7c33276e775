"""`--format openinference`: OpenInference attributes as OTLP, and Phoenix span exports (JSON, Parquet)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import db_fingerprint
from otlp_fixtures import T0, TRACE, S, request, sid, span, write_lines

from annotator import store
from annotator.ingest import IngestError, detect_format, import_file

SYSTEM = "You are the Researcher."
TASK = "Find the population of Lyon."
CALL_ARGS = '{"city": "Lyon"}'


def _flat_messages(prefix: str, messages: list[dict]) -> dict:
    """OpenInference's flattening: llm.input_messages.<i>.message.<field>, tool calls below each message."""
    out = {}
    for i, message in enumerate(messages):
        for key, value in message.items():
            if key == "tool_calls":
                for j, call in enumerate(value):
                    for ck, cv in call.items():
                        out[f"{prefix}.{i}.message.tool_calls.{j}.tool_call.{ck}"] = cv
            else:
                out[f"{prefix}.{i}.message.{key}"] = value
    return out


def _oi(n, parent, name, start, end, kind, **attributes):
    flat = {"openinference.span.kind": kind, **attributes}
    return span(n, parent, name, start, end, **{k.replace(".", "__"): v for k, v in flat.items()})


CALL = {"id": "call_a", "function.name": "population", "function.arguments": CALL_ARGS}
ASK = {"role": "assistant", "tool_calls": [CALL]}


def _otlp_spans() -> list[dict]:
    first_in = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": TASK}]
    second_in = first_in + [ASK, {"role": "tool", "content": "522,000", "tool_call_id": "call_a"}]
    return [
        _oi(1, None, "Researcher", 0, 10, "AGENT", **{"agent.name": "Researcher", "input.value": TASK,
                                                      "output.value": "Lyon has 522,000 people.",
                                                      "session.id": "s-1"}),
        _oi(2, 1, "ChatCompletion", 1, 2, "LLM", **{"llm.model_name": "gpt-x"},
            **_flat_messages("llm.input_messages", first_in), **_flat_messages("llm.output_messages", [ASK])),
        _oi(3, 1, "population", 3, 4, "TOOL", **{"tool.name": "population", "input.value": CALL_ARGS,
                                                 "output.value": "522,000"}),
        _oi(4, 1, "ChatCompletion", 5, 6, "LLM", **{"llm.model_name": "gpt-x"},
            **_flat_messages("llm.input_messages", second_in),
            **_flat_messages("llm.output_messages", [{"role": "assistant", "content": "Lyon has 522,000 people."}])),
    ]


EXPECTED = [
    ("user", "Researcher", TASK),  # the agent span's input, said first
    ("system", "Researcher", SYSTEM),
    ("Researcher", "population", "population(" + CALL_ARGS),
    ("population", "Researcher", "522,000"),
    ("Researcher", None, "Lyon has 522,000 people."),
]


@pytest.fixture
def db(tmp_path):
    return store.connect(tmp_path / "a.db")


def _check(db, external_id, expected):
    trace_id = db.execute("SELECT id FROM traces WHERE external_id = ?", [external_id]).fetchone()[0]
    turns = store.segments_of_trace(db, trace_id, "turn")
    assert [(t.speaker, t.recipient) for t in turns] == [(s, r) for s, r, _ in expected]
    for turn, (_, _, phrase) in zip(turns, expected):
        assert phrase in turn.text
    return turns


def test_openinference_otlp(db, tmp_path):
    path = write_lines(tmp_path / "oi.jsonl", [request(_otlp_spans())])
    assert detect_format(path) == "openinference"
    result = import_file(db, path)
    assert (result.format, result.traces_added) == ("openinference", 1)
    _check(db, TRACE, EXPECTED)
    text = db.execute("SELECT text FROM traces").fetchone()[0]
    assert text.count("Lyon has 522,000 people.") == 1  # the agent's output repeats the LLM's: said once
    assert db.execute("SELECT llm FROM traces").fetchone()[0] == "gpt-x"


def _phoenix_rows(annotations: list[dict] | None = None) -> list[dict]:
    """The same trace as Phoenix's span dataframe: attributes.* columns, messages as lists of objects."""
    rows = []
    for s in _otlp_spans():
        attrs = {a["key"]: next(iter(a["value"].values())) for a in s["attributes"]}
        row = {"name": s["name"], "span_kind": attrs["openinference.span.kind"],
               "parent_id": s.get("parentSpanId"), "context.span_id": s["spanId"], "context.trace_id": s["traceId"],
               "start_time": (int(s["startTimeUnixNano"]) // 1_000_000),  # pandas writes epoch milliseconds
               "end_time": (int(s["endTimeUnixNano"]) // 1_000_000)}
        for prefix in ("llm.input_messages", "llm.output_messages"):
            items: dict[int, dict] = {}
            for key in [k for k in attrs if k.startswith(prefix + ".")]:
                index, rest = key[len(prefix) + 1:].split(".", 1)
                message = items.setdefault(int(index), {})
                if rest.startswith("message.tool_calls."):  # Phoenix nests tool calls as a list too
                    j, field = rest.removeprefix("message.tool_calls.").split(".", 1)
                    calls = message.setdefault("message.tool_calls", [])
                    calls += [{} for _ in range(int(j) + 1 - len(calls))]
                    calls[int(j)][field] = attrs.pop(key)
                else:
                    message[rest] = attrs.pop(key)
            if items:
                attrs[prefix] = [items[i] for i in sorted(items)]
        row.update({f"attributes.{k}": v for k, v in attrs.items()})
        rows.append(row)
    if annotations:
        rows[0]["annotations"] = annotations
    return rows


ANNOTATIONS = [{"annotation.name": "1.3", "annotation.label": "present", "annotation.annotator_kind": "HUMAN"},
               {"annotation.name": "Step repetition", "annotation.score": 0.0, "annotation.annotator_kind": "HUMAN"},
               {"annotation.name": "Task derailment", "annotation.score": 0.9, "annotation.annotator_kind": "LLM"},
               {"annotation.name": "helpfulness", "annotation.label": "good", "annotation.annotator_kind": "LLM"}]


@pytest.mark.parametrize("shape", ["records", "lines"])
def test_phoenix_json_export_with_annotations(db, tmp_path, shape):
    path = tmp_path / "spans.json"
    rows = _phoenix_rows(ANNOTATIONS)
    path.write_text(json.dumps(rows) if shape == "records" else "".join(json.dumps(r) + "\n" for r in rows))
    assert detect_format(path) == "openinference"
    result = import_file(db, path)
    assert result.traces_added == 1
    turns = _check(db, TRACE, EXPECTED)
    assert turns[1].meta["started_at"] == "2025-06-15T15:06:41.000000000Z"
    labels = db.execute("SELECT r.name, m.code, l.value FROM labels l JOIN raters r ON r.id = l.rater_id "
                        "JOIN modes m ON m.id = l.mode_id ORDER BY r.name, m.code").fetchall()
    step, derail = "1.3", "2.3"  # MAST: 1.3 Step repetition, 2.3 Task derailment
    assert (("phoenix:human", step, 1) in labels and ("judge:phoenix-llm", derail, 1) in labels)
    assert result.notes["span annotations whose name is not a mode of the taxonomy, ignored"] == 1


def test_phoenix_parquet_export(db, tmp_path):
    path = tmp_path / "spans.parquet"
    pd.DataFrame(_phoenix_rows()).to_parquet(path)
    assert detect_format(path) == "openinference"
    import_file(db, path)
    _check(db, TRACE, EXPECTED)


def test_parquet_without_pyarrow_names_the_extra(db, tmp_path, monkeypatch):
    path = tmp_path / "spans.parquet"
    pd.DataFrame(_phoenix_rows()).to_parquet(path)

    def no_pyarrow(*args, **kwargs):
        raise ImportError("Unable to find a usable engine; tried using: 'pyarrow', 'fastparquet'.")

    monkeypatch.setattr(pd, "read_parquet", no_pyarrow)
    with pytest.raises(IngestError, match=r"spans.parquet: reading Parquet needs pyarrow: pip install "
                                          r"'mast-annotator\[parquet\]'"):
        import_file(db, path)


def test_phoenix_bad_row_is_one_line_and_database_unchanged(tmp_path):
    db_path = tmp_path / "bad.db"
    import_file(store.connect(db_path), write_lines(tmp_path / "good.jsonl", [request(_otlp_spans())]))
    before = db_fingerprint(db_path)
    rows = _phoenix_rows()
    rows[2]["start_time"] = "yesterday"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(rows))
    with pytest.raises(IngestError, match=r"bad.json: record 2: start_time 'yesterday' is not a time"):
        import_file(store.connect(db_path), path)
    assert db_fingerprint(db_path) == before


def test_time_units_in_phoenix_exports():
    from annotator.ingest.phoenix import _time

    assert _time(T0 // 1_000_000, "t") == T0  # milliseconds
    assert _time(T0 // 1_000, "t") == T0  # microseconds
    assert _time(T0, "t") == T0
    assert _time(pd.Timestamp(T0 + 5, unit="ns"), "t") == T0 + 5
    assert _time("2025-06-15T15:06:40Z", "t") == T0
    assert S == 10**9 and sid(1) == "0000000000000001"
