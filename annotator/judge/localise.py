"""The localising judge: shows a whole trace as numbered turns and asks for the decisive step and agent.

Who&When's all-at-once method. The answer is parsed strictly: a step that is not a turn of the trace, or
an agent that never speaks in it, is an error for that trace (retried a bounded number of times, then
recorded), never a guess. Each (model, prompt version, trace, parameters) is called once: a rerun takes
the cached answer, and traces whose call failed are tried again (resume).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from annotator import store
from annotator.core.errors import OptionError
from annotator.judge import llm
from annotator.judge.parse import JudgementError, extract_json
from annotator.judge.prompt import USER_SEPARATOR, JudgePrompt, _compile, delimiters, load_prompt
from annotator.resources import PROMPTS_DIR

DEFAULT_LOCALISE_PROMPT = PROMPTS_DIR / "localise" / "localise_judge.md"
SELECTIONS = ("all", "reference")  # every trace with turns, or those a reference or gold localised


@dataclass(frozen=True)
class LocaliseOptions:
    model: str
    prompt: Path = DEFAULT_LOCALISE_PROMPT
    api_base: str | None = None
    api_key_env: str | None = None
    concurrency: int = 4
    limit: int | None = None
    timeout: float = 120.0
    attempts: int = 2  # calls per trace before its error is recorded
    traces: str = "all"
    mock_responses: dict | None = None  # tests and the demo: trace id -> litellm mock_response


@dataclass(frozen=True)
class LocaliseAnswer:
    step: int | None  # None: "no decisive error"
    agent: str | None
    reason: str


@dataclass
class LocaliseRun:
    rater: str
    traces: int = 0
    called: int = 0
    cached: int = 0
    errors: int = 0
    cost: float | None = None


def parse_localisation(text: str, speakers: list[str | None]) -> LocaliseAnswer:
    """The judge's answer, checked against the trace: JudgementError for anything but a valid answer."""
    data = extract_json(text)
    if not isinstance(data, dict):
        raise JudgementError("answer is not a JSON object")
    step, agent, reason = data.get("step", ...), data.get("agent", ...), data.get("reason", "")
    if step is ... or agent is ...:
        raise JudgementError("answer lacks 'step' or 'agent'")
    if step is None and agent is None:
        return LocaliseAnswer(None, None, str(reason or ""))
    if isinstance(step, bool) or not isinstance(step, int):
        raise JudgementError(f"'step' must be a whole number or null, not {step!r}")
    if not 0 <= step < len(speakers):
        raise JudgementError(f"step {step} is not a turn of the trace (0 to {len(speakers) - 1})")
    if not isinstance(agent, str) or agent not in {s for s in speakers if s}:
        raise JudgementError(f"agent {agent!r} does not speak in the trace")
    return LocaliseAnswer(step, agent, str(reason or ""))


def render_messages(prompt: JudgePrompt, segments: list[store.SegmentRow], content_hash: str,
                    question: str | None) -> list[dict]:
    """The prompt's messages for one trace: its turns numbered from 0, between content-bound delimiters."""
    turns = [{"step": s.idx, "speaker": s.speaker or "(unknown)", "recipient": s.recipient, "text": s.text}
             for s in segments]
    begin, end = delimiters(content_hash)
    agents = sorted({s.speaker for s in segments if s.speaker})
    rendered = _compile(prompt).render(turns=turns, agents=agents, question=question, begin=begin, end=end)
    system, sep, user = rendered.partition(f"\n{USER_SEPARATOR}\n")
    if not sep:
        return [{"role": "user", "content": rendered.strip()}]
    return [{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}]


def rater_name(model: str, prompt: JudgePrompt) -> str:
    return f"judge:{model}@{prompt.version}"


def _cache_key(options: LocaliseOptions, prompt: JudgePrompt, content_hash: str) -> str:
    params = {"model": options.model, "prompt": prompt.version, "trace": content_hash,
              "temperature": prompt.temperature, "max_tokens": prompt.max_tokens, "method": "all-at-once"}
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def _selected(db: sqlite_utils.Database, options: LocaliseOptions) -> list[int]:
    if options.traces not in SELECTIONS:
        raise OptionError(f"--traces must be one of {', '.join(SELECTIONS)}, not {options.traces!r}")
    with_turns = store.traces_with_turns(db)
    if options.traces == "reference":
        wanted = {a.trace_id for a in store.load_answers(db) if a.rater_kind in ("reference", "gold")}
        with_turns = [t for t in with_turns if t in wanted]
    return with_turns[:options.limit] if options.limit is not None else with_turns


@dataclass
class _Job:
    trace_id: int
    speakers: list[str | None]
    messages: list[dict]
    key: str


class _Runner:
    def __init__(self, db: sqlite_utils.Database, options: LocaliseOptions, prompt: JudgePrompt, rater_id: int,
                 run: LocaliseRun):
        self.db, self.options, self.prompt, self.rater_id, self.run = db, options, prompt, rater_id, run

    def job(self, trace_id: int) -> _Job:
        segments = store.segments_of_trace(self.db, trace_id, "turn")
        content_hash = store.content_hash(store.trace_text(self.db, trace_id))
        question = segments[0].meta.get("question") if segments else None
        return _Job(trace_id, [s.speaker for s in segments],
                    render_messages(self.prompt, segments, content_hash, question),
                    _cache_key(self.options, self.prompt, content_hash))

    def write(self, job: _Job, answer: LocaliseAnswer) -> None:
        failures = [] if answer.step is None else [store.Failure(answer.step, str(answer.agent), None,
                                                                  answer.reason or None, True)]
        store.write_answer(self.db, job.trace_id, self.rater_id, failures,
                           note=answer.reason or None if answer.step is None else None)

    async def call(self, job: _Job) -> dict:
        """Up to `attempts` calls; the outcome as a call record (parsed answer or the last error)."""
        out: dict = {"attempts": 0, "cost": None, "prompt_tokens": None, "completion_tokens": None}
        kwargs = {"model": self.options.model, "messages": job.messages, "timeout": self.options.timeout,
                  "temperature": self.prompt.temperature, "max_tokens": self.prompt.max_tokens or 800}
        if self.options.api_base:
            kwargs["api_base"] = self.options.api_base
        key = _api_key(self.options)
        if key:
            kwargs["api_key"] = key
        mocks = self.options.mock_responses or {}
        if job.trace_id in mocks:
            kwargs["mock_response"] = mocks[job.trace_id]
        started = time.perf_counter()
        for _ in range(self.options.attempts):
            out["attempts"] += 1
            try:
                reply = await llm.complete(**kwargs)
            except Exception as exc:  # a provider error is this trace's error, recorded, not a crash
                out.update(error=llm.describe(exc), raw=None)
                if llm.is_fatal(exc):
                    raise
                continue
            out.update(raw=reply.text, prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens,
                       cost=reply.cost)
            try:
                answer = parse_localisation(reply.text, job.speakers)
            except JudgementError as exc:
                out["error"] = str(exc)
                continue
            out.update(parsed=answer, error=None)
            break
        out["latency_ms"] = (time.perf_counter() - started) * 1000
        return out

    def record(self, job: _Job, out: dict) -> None:
        answer = out.get("parsed")
        parsed = json.dumps({"step": answer.step, "agent": answer.agent, "reason": answer.reason}) if answer else None
        with store.write(self.db):
            store.record_localisation_call(self.db, store.LocalisationCall(
                self.rater_id, job.trace_id, job.key, json.dumps(job.messages), out.get("raw"), parsed,
                out.get("error"), out["attempts"], out["prompt_tokens"], out["completion_tokens"], out["cost"],
                out.get("latency_ms")))
            if answer is not None:
                self.write(job, answer)
        if answer is None:
            self.run.errors += 1
        if out["cost"] is not None:
            self.run.cost = (self.run.cost or 0.0) + out["cost"]


def _api_key(options: LocaliseOptions) -> str | None:
    import os

    if options.api_key_env:
        return os.environ.get(options.api_key_env)
    if options.api_base and options.model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
        return "no-key"  # a local OpenAI-compatible server needs none, but the client wants one
    return None


def run_localise(db: sqlite_utils.Database, options: LocaliseOptions) -> LocaliseRun:
    """Localise every selected trace; cached answers are reused, failed traces tried again."""
    prompt = load_prompt(options.prompt)
    if options.concurrency < 1:
        raise OptionError("--concurrency must be at least 1")
    if not options.mock_responses:
        llm.check_model(options.model, options.api_base)
    name = rater_name(options.model, prompt)
    rater_id = store.ensure_rater(db, name, "judge", model=options.model, prompt_version=prompt.version,
                                  params={"task": "localise", "method": "all-at-once"})
    run = LocaliseRun(rater=name)
    runner = _Runner(db, options, prompt, rater_id, run)
    todo = []
    for trace_id in _selected(db, options):
        run.traces += 1
        job = runner.job(trace_id)
        cached = store.cached_localisation(db, job.key)
        if cached is not None:
            runner.write(job, LocaliseAnswer(cached["step"], cached["agent"], cached.get("reason") or ""))
            run.cached += 1
        else:
            todo.append(job)
    asyncio.run(_run_all(runner, todo))
    return run


async def _run_all(runner: _Runner, jobs: list[_Job]) -> None:
    gate = asyncio.Semaphore(runner.options.concurrency)

    async def one(job: _Job) -> None:
        async with gate:
            out = await runner.call(job)
        runner.run.called += 1
        runner.record(job, out)

    await asyncio.gather(*(one(job) for job in jobs))
