"""Running a planned judge run: a pool of workers that keeps every slot busy, bounded retries, one writer.

All workers are coroutines on one event loop, and that loop's thread is the only one that touches the
database: finished segment-samples (call row and labels together) are committed every FLUSH_EVERY_S, in
one transaction, so a killed run loses at most the calls in flight and the answers of the last tenth of a
second, and concurrency never meets "database is locked". (A commit per answer cost more CPU than the
answer's own rows, and with several processes (parallel.py) each commit waits for the write lock.)
Calls are retried on timeouts, 429, 5xx, connection errors and invalid answers, with
exponential backoff and full jitter between transport errors; the last failure is recorded with the
raw answer and never becomes a label.

A Retry-After on an error (a proxy's or provider's rate limit, 429 or 503) holds every worker of the
run until then, not only the one that was told: the limit is the model's, and the others would only
collect 429s of their own. A waiting call keeps its slot, so the run never has more than `concurrency`
calls to its model in flight, retries included. When nothing answers at all (connection refused, DNS,
TLS: `unreachable_after` failures in a row without one answer) the run stops instead of spending every
attempt of every call; what was not called is planned again by the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlite_utils

from annotator import store
from annotator.judge import llm
from annotator.judge.parse import Judgement, JudgementError, parse_judgement
from annotator.judge.plan import Fitter, Job, RunPlan
from annotator.judge.redact import scrub, secret_values

_LONG_TEXT = 20_000  # characters; longer texts may need token counting, which runs off the event loop
FLUSH_EVERY_S = 0.1  # how often the answers received are committed, together


@dataclass
class RunStats:
    """Live counters of a run, updated on the loop thread and read by progress displays."""

    total: int = 0
    cached: int = 0
    done: int = 0
    failed: int = 0
    in_flight: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    concurrency: int = 1
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    drained: float | None = None  # when the last job left the queue
    busy_slot_seconds: float = 0.0  # integral of in_flight over time
    busy_at_drain: float = 0.0
    _last_change: float = field(default_factory=time.perf_counter)

    @property
    def finished_count(self) -> int:
        return self.cached + self.done + self.failed

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def occupy(self, delta: int) -> None:
        now = time.perf_counter()
        self.busy_slot_seconds += self.in_flight * (now - self._last_change)
        self._last_change = now
        self.in_flight += delta

    def mark_drained(self) -> None:
        self.occupy(0)
        self.drained, self.busy_at_drain = time.perf_counter(), self.busy_slot_seconds

    def rate_while_waiting(self) -> float | None:
        """Calls per second while jobs waited: all but the last `concurrency` jobs started by the drain."""
        if self.drained is None or self.drained <= self.started:
            return None
        return max(0, self.total - self.cached - self.concurrency) / (self.drained - self.started)

    def slot_occupancy(self) -> float | None:
        """Share of the slots busy while jobs were still waiting (1.0 = no slot ever idle)."""
        if self.drained is None or self.drained <= self.started:
            return None
        return self.busy_at_drain / (self.concurrency * (self.drained - self.started))

    def add_cost(self, cost: float | None) -> None:
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost


def api_key(options) -> str | None:
    """The key to pass explicitly, if any; otherwise litellm reads the provider's usual variable.

    A local OpenAI-compatible server (vLLM, Ollama, llama.cpp) needs no key, but the OpenAI client
    refuses to start without one: with --api-base and no OPENAI_API_KEY, a placeholder is sent.
    """
    if options.api_key_env:
        return os.environ.get(options.api_key_env)
    if options.api_base and options.model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
        return "no-key"
    return None


@dataclass
class _Outcome:
    judgement: Judgement | None = None
    raw: str | None = None
    error: str | None = None
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None
    latency_ms: float | None = None
    served_model: str | None = None


class Hold:
    """Until when no call of the run is sent: the server's last Retry-After, on the monotonic clock.

    Linux's monotonic clock is the machine's, not the process's, so the run's processes (parallel.py) can
    share one: `shared` is then a multiprocessing Value("d"), and a limit told to one process holds them all."""

    def __init__(self, shared=None):
        self._shared = shared
        self._until = 0.0

    def until(self) -> float:
        return self._until if self._shared is None else self._shared.value

    def extend(self, until: float) -> None:
        """Hold until `until` at least (a shorter Retry-After never cuts a longer one short)."""
        if self._shared is None:
            self._until = max(self._until, until)
            return
        with self._shared.get_lock():
            self._shared.value = max(self._shared.value, until)


@contextlib.contextmanager
def _heap_frozen():
    """Leave the objects alive when the run starts out of the garbage collector's passes until it ends.

    They are mostly litellm's (a few million: its modules, types and price map), never garbage, yet every
    full pass walked them all: 0.1-0.6 s with the loop stopped and the process's slots idle meanwhile, several
    times a minute (BENCHMARKS.md). Frozen, a full pass walks only what the run made. They are handed back when
    the run ends, so cyclic garbage among them is collected then, and runs in other threads of the process
    (the app's) only lose the speed-up if one ends first."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _add(a: float | None, b: float | None):
    return b if a is None else a if b is None else a + b


class Execution:
    """One run's calls. `run()` is a coroutine; everything it does happens on the loop's thread."""

    def __init__(self, db: sqlite_utils.Database, plan: RunPlan, run_id: int, rater_id: int, *,
                 on_progress: Callable[[RunStats], None] | None = None, stop: threading.Event | None = None,
                 rng: random.Random | None = None, jobs: Iterable[Job] | None = None, hold: Hold | None = None):
        """`jobs`: the jobs to call, if not all the plan's (a judge process calls the buckets it claims);
        `hold`: the run's Retry-After, when other processes of the run share it."""
        self.db, self.plan, self.run_id, self.rater_id = db, plan, run_id, rater_id
        self.jobs = plan.jobs if jobs is None else jobs
        self.options = plan.options
        self.fitter = Fitter(plan)
        self.codes = plan.taxonomy.taxonomy.codes
        self.mode_ids = plan.taxonomy.mode_ids
        self.secrets = secret_values()
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        self.rng = rng or random.Random()
        self.fatal: str | None = None  # set when an error will hit every call (bad key...): the run stops
        self.unreachable: str | None = None  # set when nothing answered `unreachable_after` times in a row
        self.stats = RunStats(total=plan.total, cached=len(plan.cached),
                              concurrency=max(1, min(self.options.concurrency, len(plan.jobs))))
        self._api_key = api_key(self.options)
        if self.options.api_key_env:  # it may name any variable, not only one that looks secret (*_KEY...)
            self.secrets = secret_values({**os.environ, "API_KEY": self._api_key or ""})
        self.api_base = scrub(self.options.api_base, self.secrets)
        self._response_format = ({"type": "json_schema", "json_schema": {
            "name": "judgement", "schema": self.fitter.renderer.schema, "strict": True}} if plan.structured else None)
        self._unreachable_limit = self.options.unreachable_after or max(8, 2 * self.stats.concurrency)
        self._unreachable_streak = 0
        self._hold = hold or Hold()
        self._workers: list[asyncio.Future] = []
        self._unsaved: list[tuple[Callable[..., object], store.JudgeCallWrite, store.LabelWrite | None]] | None = None
        self._write_error: Exception | None = None

    async def run(self) -> RunStats:
        """Judge every planned job with `concurrency` workers pulling from one queue."""
        with _heap_frozen():
            return await self._run()

    async def _run(self) -> RunStats:
        self.stats.started = self.stats._last_change = time.perf_counter()
        jobs = iter(self.jobs)
        workers = self._workers = [asyncio.ensure_future(self._worker(jobs)) for _ in range(self.stats.concurrency)]
        watcher = asyncio.ensure_future(self._watch_stop(workers))
        self._unsaved = []
        flusher = asyncio.ensure_future(self._flush_every())
        try:
            await asyncio.gather(*workers, return_exceptions=False)
        except asyncio.CancelledError:
            if not self.stop.is_set():
                raise
        finally:
            watcher.cancel()
            flusher.cancel()
            for w in workers:
                w.cancel()
            self._flush()
            self._unsaved = None
        if self._write_error is not None:
            raise self._write_error
        self.stats.finished = time.perf_counter()
        if self.stats.drained is None:
            self.stats.mark_drained()
        return self.stats

    async def _flush_every(self) -> None:
        """Commit the answers received, every FLUSH_EVERY_S; a database that refuses them stops the run."""
        try:
            while True:
                await asyncio.sleep(FLUSH_EVERY_S)
                self._flush()
        except Exception as exc:  # noqa: BLE001 (raised again by run(), once the workers have stopped)
            self._write_error = exc
            self._halt()

    def _flush(self) -> None:
        if not self._unsaved:
            return
        unsaved, self._unsaved = self._unsaved, []
        with store.write(self.db):
            for save, call, labels in unsaved:
                save(self.db, call, labels)

    async def _watch_stop(self, workers: list[asyncio.Future]) -> None:
        """A stop asked from another thread (the app's Stop button) cancels the workers within 0.2 s."""
        while not self.stop.is_set():
            await asyncio.sleep(0.2)
        for w in workers:
            w.cancel()

    def _halt(self) -> None:
        """Stop now, from a worker on the loop: the others are cancelled at once, their calls abandoned."""
        self.stop.set()
        current = asyncio.current_task()
        for w in self._workers:
            if w is not current:
                w.cancel()

    async def _worker(self, jobs) -> None:
        while not self.stop.is_set():
            job = next(jobs, None)
            if job is None:
                if self.stats.drained is None:
                    self.stats.mark_drained()
                return
            self.stats.occupy(+1)
            try:
                await self.judge(job)
            finally:
                self.stats.occupy(-1)
            if self.fatal or self.unreachable:
                self._halt()
                return

    async def judge(self, job: Job) -> None:
        """Prepare, call (with retries), parse and store one segment-sample."""
        segment = store.get_segment(self.db, job.segment.id)
        try:
            if len(segment.text) > _LONG_TEXT:
                messages, cut = await asyncio.to_thread(self.fitter.fit, segment.text, job)
            else:
                messages, cut = self.fitter.fit(segment.text, job)
        except ValueError as exc:
            self._record(job, {"messages": None}, 0, _Outcome(error=f"prompt: {exc}"))
            return
        request = self.request(messages)
        outcome = await self._call(job, request)
        self._record(job, request, cut, outcome)

    def request(self, messages: list[dict]) -> dict:
        """The chat request of one job, as sent live and as a batch line's body (batch.py)."""
        request = {"model": self.options.model, "messages": messages, "max_tokens": self.plan.max_tokens}
        if self.plan.temperature is not None:
            request["temperature"] = self.plan.temperature
        if self._response_format is not None:
            request["response_format"] = self._response_format
        return request

    def _call_kwargs(self, job: Job, request: dict) -> dict:
        kwargs = {**request, "timeout": self.options.timeout, "drop_params": True}
        if self.options.api_base:
            kwargs["api_base"] = self.options.api_base
        if self._api_key is not None:
            kwargs["api_key"] = self._api_key
        mocks = self.options.mock_responses
        if mocks is not None and job.segment.id in mocks:
            mock = mocks[job.segment.id]  # a litellm mock_response, or a function of the messages giving one
            kwargs["mock_response"] = mock(request["messages"]) if callable(mock) else mock
            kwargs.setdefault("custom_llm_provider", "openai")
        return kwargs

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.options.backoff_cap, self.options.backoff_base * 2 ** (attempt - 1))
        return self.rng.uniform(0, ceiling)  # full jitter: retries of many workers spread out

    async def _wait_for_gate(self) -> None:
        """Hold the call while the server's last Retry-After lasts (it may be moved on while we wait)."""
        while (delay := self._hold.until() - time.monotonic()) > 0:
            await asyncio.sleep(delay)

    def _note_failure(self, exc: Exception, error: str) -> None:
        """What a failed attempt says about every call: fatal, unreachable, or wait (Retry-After)."""
        if llm.is_fatal(exc) and self.fatal is None:
            self.fatal = error
        if not llm.is_unreachable(exc):
            self._unreachable_streak = 0  # the server answered, if only with an error
            asked = llm.retry_after(exc)
            if asked is not None:
                self._hold.extend(time.monotonic() + min(asked, self.options.retry_after_cap))
            return
        self._unreachable_streak += 1
        if self._unreachable_streak >= self._unreachable_limit and self.unreachable is None:
            where = f" at {self.api_base}" if self.api_base else ""
            self.unreachable = (f"stopped after {self._unreachable_streak} connection failures in a row, no answer"
                                f"{where}: {error}")

    async def _call(self, job: Job, request: dict) -> _Outcome:
        out = _Outcome()
        kwargs = self._call_kwargs(job, request)
        guard = self.options.timeout * 1.5 + 5  # in case a provider path ignores `timeout`
        for attempt in range(1, self.options.max_attempts + 1):
            await self._wait_for_gate()
            out.attempts = attempt
            self.stats.requests += 1
            began = time.perf_counter()
            try:
                async with asyncio.timeout(guard):  # cheaper than wait_for: no extra task per call
                    reply = await llm.complete(**kwargs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (every provider error is recorded, none escapes)
                out.errors.append(scrub(llm.describe(exc), self.secrets))
                self._note_failure(exc, out.errors[-1])
                if llm.is_retryable(exc) and attempt < self.options.max_attempts and not self.unreachable:
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                out.error = out.errors[-1]
                return out
            self._unreachable_streak = 0
            out.latency_ms = (time.perf_counter() - began) * 1000
            out.prompt_tokens = _add(out.prompt_tokens, reply.prompt_tokens)
            out.completion_tokens = _add(out.completion_tokens, reply.completion_tokens)
            out.cost = _add(out.cost, reply.cost)
            out.raw, out.served_model = reply.text, reply.model
            try:
                out.judgement = parse_judgement(reply.text, self.codes)
                return out
            except JudgementError as exc:
                out.errors.append(f"invalid answer: {exc}")
        out.error = out.errors[-1]
        return out

    def _record(self, job: Job, request: dict, cut: int, out: _Outcome, *,
                save: Callable[..., object] = store.record_judge_call) -> None:
        """Store the outcome (`save(db, call, labels)`: a batch links it to its line too) and count it."""
        call = store.JudgeCallWrite(
            run_id=self.run_id, segment_id=job.segment.id, sample=job.sample, cache_key=job.cache_key,
            request=self.stored_request(job, request),
            raw_response=scrub(out.raw, self.secrets),
            parsed=out.judgement.to_json() if out.judgement else None,
            error=scrub(out.error, self.secrets), attempts=out.attempts,
            attempt_errors=out.errors[:-1] if out.error else out.errors,
            prompt_tokens=out.prompt_tokens, completion_tokens=out.completion_tokens, cost=out.cost,
            latency_ms=out.latency_ms, truncated=cut > 0, served_model=scrub(out.served_model, self.secrets))
        labels = self.label_write(job, out.judgement, out.latency_ms) if out.judgement else None
        if self._unsaved is None:  # not in a live run (a batch's answers): at once
            save(self.db, call, labels)
        else:
            self._unsaved.append((save, call, labels))
        stats = self.stats
        stats.done, stats.failed = stats.done + (labels is not None), stats.failed + (labels is None)
        stats.prompt_tokens += out.prompt_tokens or 0
        stats.completion_tokens += out.completion_tokens or 0
        stats.add_cost(out.cost)
        if self.on_progress is not None:
            self.on_progress(stats)

    def stored_request(self, job: Job, request: dict) -> str:
        """The request as a call row keeps it: no secrets, the schema named rather than repeated."""
        stored_request = {**request, "api_base": self.api_base, "sample": job.sample}
        if "response_format" in stored_request:
            stored_request["response_format"] = "json_schema"
        return scrub(json.dumps(stored_request, ensure_ascii=False), self.secrets)

    def label_write(self, job: Job, judgement: Judgement, latency_ms: float | None = None) -> store.LabelWrite:
        """The judgement as ordinary labels of the judge rater, evidence included."""
        ids = self.mode_ids
        return store.LabelWrite(
            segment_id=job.segment.id, rater_id=self.rater_id, taxonomy_id=self.plan.taxonomy.id,
            values={ids[c]: int(m.present) for c, m in judgement.modes.items()},
            evidence={ids[c]: m.evidence for c, m in judgement.modes.items() if m.evidence},
            duration_ms=int(latency_ms) if latency_ms is not None else None, sample=job.sample)

    def apply_cached(self) -> None:
        """Make sure the labels of cached answers exist (idempotent: unchanged labels are not rewritten)."""
        for job, parsed in self.plan.cached:
            store.write_labels(self.db, self.label_write(job, Judgement.from_json(parsed)))
