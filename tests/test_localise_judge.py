"""The localising judge: numbered turns in the prompt, strict parsing, cache and resume (no hosted model)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import run_cli
from judge_helpers import MAST_CODES
from llm_server import LLMServer

from annotator import store
from annotator.ingest import import_file
from annotator.judge.localise import DEFAULT_LOCALISE_PROMPT, LocaliseOptions, parse_localisation, run_localise
from annotator.judge.parse import JudgementError

WHO = Path(__file__).parent / "data" / "who_and_when"
SPEAKERS = ["Orchestrator", "WebSurfer", "Orchestrator"]


@pytest.mark.parametrize(("text", "expected"), [
    ('{"step": 1, "agent": "WebSurfer", "reason": "r"}', (1, "WebSurfer")),
    ('Sure.\n```json\n{"step": 0, "agent": "Orchestrator", "reason": "r"}\n```', (0, "Orchestrator")),
    ('{"step": null, "agent": null, "reason": "impossible task"}', (None, None)),
])
def test_parse_valid(text, expected):
    answer = parse_localisation(text, SPEAKERS)
    assert (answer.step, answer.agent) == expected


@pytest.mark.parametrize(("text", "message"), [
    ('{"step": 3, "agent": "WebSurfer"}', "step 3 is not a turn of the trace (0 to 2)"),
    ('{"step": -1, "agent": "WebSurfer"}', "step -1 is not a turn"),
    ('{"step": 1, "agent": "Coder"}', "agent 'Coder' does not speak in the trace"),
    ('{"step": "1", "agent": "WebSurfer"}', "'step' must be a whole number or null"),
    ('{"step": true, "agent": "WebSurfer"}', "'step' must be a whole number or null"),
    ('{"step": 1}', "answer lacks 'step' or 'agent'"),
    ('{"step": 1, "agent": null}', "agent None does not speak"),
    ("The orchestrator, probably around step 2.", "no JSON object"),
])
def test_parse_refuses_rather_than_guesses(text, message):
    with pytest.raises(JudgementError, match=re.escape(message)):
        parse_localisation(text, SPEAKERS)


@pytest.fixture
def who_db(tmp_path):
    db = store.connect(tmp_path / "j.db")
    import_file(db, WHO, fmt="who-and-when", scheme="turn")
    ids = dict(db.execute("SELECT g.value || '/' || t.external_id, t.id FROM traces t JOIN trace_tags g"
                          " ON g.trace_id = t.id AND g.key = 'subset'").fetchall())
    return db, ids


def test_mock_run_writes_answers_caches_and_resumes(who_db):
    db, ids = who_db
    hc1, hc2, ag1 = ids["Hand-Crafted/1.json"], ids["Hand-Crafted/2.json"], ids["Algorithm-Generated/1.json"]
    mocks = {hc1: '{"step": 3, "agent": "Orchestrator", "reason": "counted wrong"}',
             hc2: '{"step": 9, "agent": "Orchestrator", "reason": "out of range"}',  # refused, recorded
             ag1: '{"step": null, "agent": null, "reason": "no mistake"}'}
    options = LocaliseOptions(model="openai/gpt-4o-mini", mock_responses=mocks, attempts=2)
    first = run_localise(db, options)
    assert (first.traces, first.called, first.cached, first.errors) == (3, 3, 0, 1)
    answers = {a.trace_id: a for a in store.load_answers(db, raters=[first.rater])}
    assert answers[hc1].root_cause.step == 3 and answers[hc1].root_cause.agent == "Orchestrator"
    assert answers[ag1].status == "no_error"
    assert hc2 not in answers  # never a guess
    rater = store.get_rater(db, first.rater)
    assert rater.kind == "judge" and first.rater.startswith("judge:openai/gpt-4o-mini@")
    [(trace, error)] = store.localisation_call_errors(db, rater.id)
    assert trace == hc2 and "step 9 is not a turn of the trace (0 to 3)" in error
    # Resume: the two answered traces come from the cache; only the failed one is called again.
    mocks[hc2] = '{"step": 2, "agent": "Orchestrator", "reason": "guessed"}'
    second = run_localise(db, options)
    assert (second.called, second.cached, second.errors) == (1, 2, 0)
    assert store.load_answers(db, raters=[first.rater], trace_ids=[hc2])[0].root_cause.step == 2
    assert db.execute("SELECT COUNT(*) FROM localisation_calls").fetchone()[0] == 4


class _LocaliseServer(LLMServer):
    """Answers with the step of the first turn whose text says MISTAKE, spoken by that turn's agent."""

    def judgement(self, prompt: str, behaviour: str) -> str:
        turns = re.findall(r"^\[step (\d+)\] ([^\n:]+?)(?: -> [^\n:]+)?:\n(.*?)(?=^\[step |\Z)", prompt, re.M | re.S)
        for step, speaker, text in turns:
            if "all counted as before 2000" in text:
                return json.dumps({"step": int(step), "agent": speaker, "reason": "scripted"})
        return json.dumps({"step": 0, "agent": turns[0][1] if turns else "nobody", "reason": "scripted"})


def test_local_server_run_and_agreement_against_the_reference(who_db, tmp_path):
    db, ids = who_db
    server = _LocaliseServer(MAST_CODES).start()
    try:
        result = run_cli("localise", "judge", "--model", "openai/test-model", "--api-base", server.base_url,
                         "--traces", "reference", db=tmp_path / "j.db")
        assert result.exit_code == 0, result.output
        assert "3 traces, 3 called, 0 from the cache, 0 errors" in result.output
        prompt = "\n".join(m["content"] for m in server.requests[0]["messages"])
        assert "[step 0]" in prompt and "numbered 0 to" in prompt and "The task the system was given" in prompt
        again = run_cli("localise", "judge", "--model", "openai/test-model", "--api-base", server.base_url,
                        db=tmp_path / "j.db")
        assert "3 from the cache" in again.output and server.count == 3
    finally:
        server.stop()
    report = json.loads(run_cli("localise", "report", "--format", "json", "--bootstrap", "0",
                                db=tmp_path / "j.db").output)
    [against] = report["against_reference"]
    # The scripted judge finds Hand-Crafted/1.json's step 3 (Orchestrator) and answers step 0 elsewhere:
    # the dataset says step 2 for the other two, by Orchestrator and DataVerification_Expert.
    assert against["step_accuracy"]["value"] == pytest.approx(1 / 3)
    assert against["agent_accuracy"]["value"] == pytest.approx(2 / 3)  # step 0 of HC2 is Orchestrator's


def test_shipped_prompt_is_not_a_mode_prompt():
    from annotator.judge.prompt import shipped_prompts

    assert DEFAULT_LOCALISE_PROMPT.is_file() and DEFAULT_LOCALISE_PROMPT not in shipped_prompts()
