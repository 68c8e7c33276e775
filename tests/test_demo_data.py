"""Validate the bundled synthetic demo data (data/demo): format, labels, judge answers, agreement.

Deliberately independent of the project's own modules: it reads the files with json and yaml and
computes agreement by hand, so a bug in the importer or in the statistics cannot hide a bad file.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import pytest
import yaml

from annotator.resources import DEMO_DIR as DEMO
from annotator.resources import TAXONOMY_DIR

BUILD_SCRIPT = Path(__file__).resolve().parent.parent / "data" / "demo" / "build_demo.py"  # in the repository only
RATERS = ("ana", "ben", "chen")


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"{path.name} line {number} is blank"
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:  # pragma: no cover - only on a broken file
            pytest.fail(f"{path.name} line {number}: {exc}")
    return rows


@pytest.fixture(scope="module")
def codes() -> list[str]:
    data = yaml.safe_load((TAXONOMY_DIR / "mast.yaml").read_text(encoding="utf-8"))
    return [str(m["code"]) for m in data["modes"]]


@pytest.fixture(scope="module")
def traces() -> list[dict]:
    return read_jsonl(DEMO / "traces.jsonl")


@pytest.fixture(scope="module")
def answers() -> dict[str, dict]:
    rows = read_jsonl(DEMO / "judge_responses.jsonl")
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "one judge answer per trace"
    return {row["id"]: row["response"] for row in rows}


def quotable_text(trace: dict) -> str:
    """What evidence may quote: the text, or the message contents joined by newlines."""
    if "text" in trace:
        return trace["text"]
    return "\n".join(m["content"] for m in trace["messages"])


def test_traces_follow_the_jsonl_contract(traces):
    assert len(traces) >= 12
    ids = [t["id"] for t in traces]
    assert len(ids) == len(set(ids)) and all(isinstance(i, str) and i for i in ids)
    for trace in traces:
        has_text, has_messages = "text" in trace, "messages" in trace
        assert has_text != has_messages, trace["id"]
        if has_text:
            assert isinstance(trace["text"], str)
        else:
            for message in trace["messages"]:
                assert set(message) == {"name", "role", "content"}, trace["id"]
                assert all(isinstance(v, str) for v in message.values()), trace["id"]
        meta = trace["metadata"]
        assert {"framework", "benchmark", "llm", "round"} <= set(meta) and meta["round"] == "demo"
        assert 1500 <= len(quotable_text(trace)) <= 8000, (trace["id"], len(quotable_text(trace)))


def test_at_least_three_frameworks_and_both_trace_shapes(traces):
    assert len({t["metadata"]["framework"] for t in traces}) >= 3
    assert any("text" in t for t in traces) and any("messages" in t for t in traces)


def test_one_trace_holds_untrusted_looking_content(traces):
    needles = ["<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "![x](http://example.com/a.png)",
               "$x^2$"]
    assert any(all(n in quotable_text(t) for n in needles) for t in traces)


def test_labels_cover_exactly_the_mast_codes(traces, codes):
    for trace in traces:
        assert set(trace["labels"]) == set(RATERS), trace["id"]
        for rater, values in trace["labels"].items():
            assert sorted(values) == sorted(codes), (trace["id"], rater)
            assert all(type(v) is int and v in (0, 1) for v in values.values()), (trace["id"], rater)


def test_judge_answers_cover_every_code_with_verbatim_evidence(traces, answers, codes):
    assert set(answers) == {t["id"] for t in traces}
    for trace in traces:
        response, text = answers[trace["id"]], quotable_text(trace)
        assert isinstance(response["summary"], str) and response["summary"].strip()
        assert sorted(response["modes"]) == sorted(codes), trace["id"]
        for code, verdict in response["modes"].items():
            assert type(verdict["present"]) is bool and isinstance(verdict["evidence"], str)
            if verdict["present"]:
                assert verdict["evidence"] and verdict["evidence"] in text, (trace["id"], code)
            else:
                assert verdict["evidence"] == "", (trace["id"], code)


def percent_agreement(traces: list[dict], code: str) -> float:
    """Mean over rater pairs of the share of traces on which the pair gives the same value."""
    shares = []
    for a, b in itertools.combinations(RATERS, 2):
        same = sum(t["labels"][a][code] == t["labels"][b][code] for t in traces)
        shares.append(same / len(traces))
    return sum(shares) / len(shares)


def test_per_mode_agreement_is_non_trivial(traces, codes):
    agreement = {code: percent_agreement(traces, code) for code in codes}
    assert not all(v == 1.0 for v in agreement.values()), "some mode must show disagreement"
    assert not all(v == 0.0 for v in agreement.values())
    assert any(v < 0.9 for v in agreement.values()), agreement  # the ambiguous modes
    positives = {code: sum(t["labels"][r][code] for t in traces for r in RATERS) for code in codes}
    assert any(n == 0 for n in positives.values()), "one mode nobody marks (kappa undefined)"
    assert sum(n > 0 for n in positives.values()) >= 12


def test_designed_co_confusion_between_3_2_and_3_3(traces):
    def confused(t, a, b):
        la, lb = t["labels"][a], t["labels"][b]
        return la["3.2"] and not la["3.3"] and lb["3.3"] and not lb["3.2"]

    pairs = [(t["id"], a, b) for t in traces for a, b in itertools.permutations(RATERS, 2) if confused(t, a, b)]
    assert len({trace_id for trace_id, _, _ in pairs}) >= 2, pairs


def test_judge_agrees_with_the_majority_on_most_but_not_all_modes(traces, answers, codes):
    disagreeing = set()
    cells = agree = 0
    for trace in traces:
        for code in codes:
            majority = sum(trace["labels"][r][code] for r in RATERS) >= 2
            judged = answers[trace["id"]]["modes"][code]["present"]
            cells, agree = cells + 1, agree + (majority == judged)
            if majority != judged:
                disagreeing.add(code)
    assert agree / cells >= 0.9
    assert 1 <= len(disagreeing) <= 4, disagreeing


def test_files_are_what_build_demo_writes():
    """The jsonl files are generated: editing them by hand would drift from the documented design."""
    spec = importlib.util.spec_from_file_location("build_demo", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    traces, answers = module.records()
    assert (DEMO / "traces.jsonl").read_text(encoding="utf-8") == module.jsonl(traces)
    assert (DEMO / "judge_responses.jsonl").read_text(encoding="utf-8") == module.jsonl(answers)
