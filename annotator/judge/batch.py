"""A judge run through the provider's batch API (`judge run --batch`): the same plan, prompts, cache keys and
stored calls as a live run, sent as request files instead of one call at a time.

Submit: the run's uncached segment-samples (less those already waiting in a submitted batch) are rendered
as a live run renders them, written to the database as a batch with one item per line, then uploaded
and submitted; the provider's ids are stored at once. Follow: each open batch is polled with backoff
until it ends (or the wait runs out); its output and error files are downloaded and every line stored as
a live call is stored, a failed or missing line as that segment's failure. A restarted run finds its
open batches in the database and follows them by id: it never submits a segment that is waiting.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from annotator import store
from annotator.core.errors import UserError
from annotator.judge import batch_api, llm
from annotator.judge.batch_api import BatchState, Connection
from annotator.judge.parse import JudgementError, parse_judgement
from annotator.judge.plan import Job
from annotator.judge.redact import scrub
from annotator.judge.runner import Execution, _Outcome, api_key

log = logging.getLogger(__name__)
MAX_LINES = 50_000  # OpenAI's limit of requests per batch
MAX_BYTES = 180 * 2 ** 20  # under OpenAI's 200 MB per input file
_LOST_CONTACT = 6  # polls in a row that fail before the run leaves the batch to a later resume


@dataclass(frozen=True)
class Poller:
    """How a batch is waited for: intervals growing from `first` by `factor` up to `cap` seconds, for at
    most `wait` seconds (None: until the batch ends; 0: submit and leave). Clock and sleeper are
    injectable so tests never sleep."""

    first: float = 10.0
    cap: float = 300.0
    factor: float = 1.5
    wait: float | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def intervals(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(self.cap, max(delay * self.factor, self.first))


class BatchExecution:
    """One run's batches. Stores through `execution` (an Execution of the same plan), so answers and
    failures are recorded exactly as a live call's are."""

    def __init__(self, execution: Execution, *, poller: Poller,
                 on_batch: Callable[[BatchState], None] | None = None):
        self.execution = execution
        self.db, self.options = execution.db, execution.options
        provider, self.model_name = batch_api.batch_target(self.options.model, self.options.api_base)
        self.conn = Connection(provider, self.options.api_base, api_key(self.options), self.options.timeout)
        self.prices = batch_api.batch_prices(self.options.model)
        self.poller = poller
        self.on_batch = on_batch
        self.jobs = {(j.segment.id, j.sample): j for j in execution.plan.jobs}

    # --- submit ---------------------------------------------------------------------------------------

    def submit(self, jobs: list[Job]) -> list[int]:
        """Render, store, upload and submit `jobs` in as many batches as the provider's limits need."""
        submitted: list[int] = []
        lines: list[bytes] = []
        items: list[store.BatchItemWrite] = []
        size = 0
        for job in jobs:
            rendered = self._render(job)
            if rendered is None:
                continue
            line, item = rendered
            if lines and (len(lines) >= MAX_LINES or size + len(line) > MAX_BYTES):
                submitted.append(self._submit_one(lines, items))
                lines, items, size = [], [], 0
            lines.append(line)
            items.append(item)
            size += len(line)
        if lines:
            submitted.append(self._submit_one(lines, items))
        return submitted

    def _render(self, job: Job) -> tuple[bytes, store.BatchItemWrite] | None:
        segment = store.get_segment(self.db, job.segment.id)
        try:
            messages, cut = self.execution.fitter.fit(segment.text, job)
        except ValueError as exc:  # recorded as a live run records it: this segment cannot be asked
            self.execution._record(job, {"messages": None}, 0, _Outcome(error=f"prompt: {exc}"))
            return None
        request = self.execution.request(messages)
        custom_id = f"seg{job.segment.id}-s{job.sample}"
        line = json.dumps({"custom_id": custom_id, "method": "POST", "url": batch_api.ENDPOINT,
                           "body": {**request, "model": self.model_name}}, ensure_ascii=False) + "\n"
        item = store.BatchItemWrite(custom_id=custom_id, segment_id=job.segment.id, sample=job.sample,
                                    cache_key=job.cache_key, request=self.execution.stored_request(job, request),
                                    truncated=cut > 0)
        return line.encode("utf-8"), item

    def _submit_one(self, lines: list[bytes], items: list[store.BatchItemWrite]) -> int:
        pk = store.create_judge_batch(self.db, run_id=self.execution.run_id, provider=self.conn.provider, items=items)
        try:
            file_id = batch_api.upload(self.conn, f"annotator-run{self.execution.run_id}-batch{pk}.jsonl",
                                       b"".join(lines))
            store.update_judge_batch(self.db, pk, input_file_id=file_id)
            state = batch_api.submit(self.conn, file_id, {"annotator_run": str(self.execution.run_id),
                                                          "annotator_batch": str(pk)})
        except Exception as exc:  # noqa: BLE001 (not submitted: the items go into a later batch)
            message = self._describe(exc)
            store.finish_judge_batch(self.db, pk, status="not submitted", error=message)
            raise UserError(f"batch not submitted: {message}") from None
        store.update_judge_batch(self.db, pk, batch_id=state.id, status=state.status)
        log.info("judge run %d: batch %s submitted (%d requests)", self.execution.run_id, state.id, len(items))
        self._tell(state)
        return pk

    # --- follow ---------------------------------------------------------------------------------------

    def follow(self, batch: dict) -> BatchState | None:
        """Poll an open batch until it ends (then store it) or the wait runs out (None)."""
        poller, started, failures = self.poller, self.poller.clock(), 0
        intervals = poller.intervals()
        last = None
        while True:
            try:
                state = batch_api.retrieve(self.conn, batch["batch_id"])
                failures = 0
            except Exception as exc:  # noqa: BLE001 (a transient failure is polled again; any other ends the run)
                failures += 1
                if not llm.is_retryable(exc) or failures >= _LOST_CONTACT:
                    raise UserError(f"batch {batch['batch_id']}: {self._describe(exc)}") from None
                state = None
            if state is not None and state != last:
                store.update_judge_batch(self.db, batch["id"], status=state.status, provider_completed=state.completed,
                                         provider_failed=state.failed, output_file_id=state.output_file_id,
                                         error_file_id=state.error_file_id, error=state.error)
                self._tell(state)
                last = state
            if state is not None and state.terminal:
                self.store(batch, state)
                return state
            delay = next(intervals)
            waited = poller.clock() - started
            if self.execution.stop.is_set() or (poller.wait is not None and waited + delay > poller.wait):
                return None
            poller.sleep(delay)

    def store(self, batch: dict, state: BatchState) -> None:
        """Store every line of the output and error files; a request with no line fails with the batch's end."""
        items = {i["custom_id"]: i for i in store.judge_batch_items(self.db, batch["id"])}
        for file_id in (state.output_file_id, state.error_file_id):
            if file_id and items:
                for record in self._lines(batch_api.download(self.conn, file_id)):
                    item = items.pop(str(record.get("custom_id")), None)
                    if item is not None:
                        self._save(batch["id"], item, self._outcome(record))
        for item in items.values():
            reason = f"batch {state.status}: no answer for this request" + (f" ({state.error})" if state.error else "")
            self._save(batch["id"], item, _Outcome(error=scrub(reason, self.execution.secrets), attempts=1))
        store.finish_judge_batch(self.db, batch["id"], status=state.status)
        log.info("judge run %d: batch %s %s and stored", self.execution.run_id, state.id, state.status)

    @staticmethod
    def _lines(data: bytes) -> Iterator[dict]:
        for raw in data.splitlines():
            try:
                record = json.loads(raw)
            except ValueError:
                continue  # a line that is not JSON names no request: its request is failed as unanswered
            if isinstance(record, dict):
                yield record

    def _outcome(self, record: dict) -> _Outcome:
        """One output or error line as a call's outcome: parsed strictly, priced at the batch price."""
        response = record.get("response") or {}
        body = response.get("body") if isinstance(response, dict) else None
        status = response.get("status_code") if isinstance(response, dict) else None
        if status != 200 or not isinstance(body, dict):
            error = record.get("error") or (body or {}).get("error") or {}
            detail = error.get("message") if isinstance(error, dict) else str(error)
            code = error.get("code") if isinstance(error, dict) else None
            label = " ".join(str(x) for x in (code, f"({status})" if status else None) if x) or "error"
            return _Outcome(error=scrub(f"batch line {label}: {detail or 'no answer'}", self.execution.secrets),
                            attempts=1)
        usage = body.get("usage") or {}
        prompt_tokens, completion_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
        choices = body.get("choices") or [{}]
        text = ((choices[0] or {}).get("message") or {}).get("content") or ""
        out = _Outcome(raw=text, attempts=1, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                       cost=batch_api.batch_cost(self.prices, prompt_tokens, completion_tokens))
        try:
            out.judgement = parse_judgement(text, self.execution.codes)
        except JudgementError as exc:
            out.error = f"invalid answer: {exc}"
            out.errors.append(out.error)
        return out

    def _save(self, pk: int, item: dict, out: _Outcome) -> None:
        job = self.jobs.get((item["segment_id"], item["sample"]))
        if job is None or job.cache_key != item["cache_key"]:  # planned otherwise now: store as submitted
            (segment,) = store.judge_segments_by_id(self.db, [item["segment_id"]])
            job = Job(segment, item["sample"], item["cache_key"], {})
        request = json.loads(item["request"]) if isinstance(item["request"], str) else item["request"]

        def save(db, call, labels):
            return store.record_batch_answer(db, pk, item["custom_id"], call, labels)

        self.execution._record(job, request, int(item["truncated"]), out, save=save)

    def _tell(self, state: BatchState) -> None:
        if self.on_batch is not None:
            self.on_batch(state)

    def _describe(self, exc: BaseException) -> str:
        return scrub(llm.describe(exc), self.execution.secrets) or type(exc).__name__
