"""One run spread over several processes (`--processes N`), for servers faster than one client can keep up with.

litellm spends about 6 ms of CPU on each call (BENCHMARKS.md), all of it on the event loop's one thread: one
process makes at most about 160 calls a second, and well before that calls wait in its loop while the server's
slots stand empty (64 slots at 0.5 s each ask for 128 calls a second). With N processes the slots are split
between them, so the run never has more than `concurrency` calls in flight, and the jobs are shared out as
they go: each job falls in a bucket by its cache key (a stable hash, so a process that plans later, when others
have answered some jobs, puts every remaining job in the same bucket), and a process whose slots free up claims
the next bucket from a counter they share. A bucket is called by the one process that claimed it, so no
segment-sample is called twice, and the processes run out of work together: dealt out in fixed shares, the
process that drew the longer share or the slower core went on alone for seconds at the end, with half the
slots empty. Each process writes its own answers as it gets them (SQLite in WAL mode; one writer at a time,
each commit short), so a killed run resumes as a one-process run does.

The processes are started with "spawn", not "fork": the parent may run threads (the app's server, litellm's
own), and a forked copy of a lock held by one of them would never be released. A Retry-After told to one
process holds the workers of every process (runner.Hold), as it holds every worker of a one-process run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import queue
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlite_utils

from annotator import store
from annotator.core.errors import UserError
from annotator.judge.plan import Job, JudgeOptions, plan_run
from annotator.judge.redact import failure_line, scrub
from annotator.judge.runner import Execution, Hold, RunStats

PROGRESS_EVERY_S = 0.25  # how often a process reports its counters to the parent
BUCKET_JOBS = 8  # jobs per bucket: the work a process may still have when the others have none left
_SUMMED = ("done", "failed", "requests", "prompt_tokens", "completion_tokens", "in_flight", "busy_at_drain")
_JOIN_S = 30.0  # how long a process that was asked to stop may take to leave before it is terminated


def bucket(cache_key: str, buckets: int) -> int:
    """The bucket of the job with this cache key (a hex digest): the same in every process's plan."""
    return int(cache_key[:15], 16) % buckets


def buckets_for(jobs: int) -> int:
    return max(1, -(-jobs // BUCKET_JOBS))


def claimed_jobs(jobs: list[Job], buckets: int, claimed) -> Iterator[Job]:
    """The jobs of each bucket this process claims, bucket after bucket, until every bucket is claimed.

    `claimed` is the processes' shared counter (a multiprocessing Value): the next bucket nobody has claimed.
    A claim is taken only when a worker asks for a job, so a process claims as fast as its slots free up."""
    by_bucket: dict[int, list[Job]] = {}
    for job in jobs:
        by_bucket.setdefault(bucket(job.cache_key, buckets), []).append(job)
    while True:
        with claimed.get_lock():
            claim = claimed.value
            claimed.value = claim + 1
        if claim >= buckets:
            return
        yield from by_bucket.pop(claim, ())


def split_slots(concurrency: int, shares: int) -> list[int]:
    """`concurrency` slots dealt out as evenly as they go: 64 over 3 processes is 22, 21, 21."""
    return [concurrency // shares + (index < concurrency % shares) for index in range(shares)]


def processes_for(options: JudgeOptions, jobs: int) -> int:
    """How many processes a run of `jobs` calls uses: never more than it has slots or jobs."""
    return max(1, min(options.processes, options.concurrency, jobs))


def _snapshot(stats: RunStats) -> dict:
    """A process's counters, as the parent sums them."""
    return {**{name: getattr(stats, name) for name in _SUMMED}, "cost": stats.cost, "started": stats.started,
            "drained": stats.drained}


class _Reporter:
    """A process's on_progress: its counters to the parent, at most every PROGRESS_EVERY_S."""

    def __init__(self, updates, index: int):
        self.updates, self.index, self.last = updates, index, 0.0

    def __call__(self, stats: RunStats) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            self.updates.put((self.index, "progress", _snapshot(stats)))


def _process(db_path: str, run_id: int, rater_id: int, options: JudgeOptions, index: int, buckets: int,
             claimed, hold, halt, updates) -> None:
    """The body of process `index`: plan, call the jobs of the buckets it claims, report how it ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent answers it with `halt`
    try:
        db = store.open_existing(db_path, migrate=False)
        try:
            plan = plan_run(db, options)
            execution = Execution(db, plan, run_id, rater_id, on_progress=_Reporter(updates, index), stop=halt,
                                  jobs=claimed_jobs(plan.jobs, buckets, claimed), hold=Hold(hold))
            asyncio.run(execution.run())
        finally:
            db.conn.close()
        updates.put((index, "end", {**_snapshot(execution.stats), "fatal": execution.fatal,
                                    "unreachable": execution.unreachable}))
    except UserError as exc:  # the user's to mend (a database locked too long...): one line, as in one process
        halt.set()
        updates.put((index, "refused", {"error": failure_line(exc)}))
    except BaseException as exc:  # noqa: BLE001 (whatever ends a process is told to the parent, which logs it)
        halt.set()
        updates.put((index, "crash", {"error": failure_line(exc), "traceback": scrub(traceback.format_exc())}))


@dataclass
class Ending:
    """How the processes ended, as one in-process Execution reports it."""

    fatal: str | None = None
    unreachable: str | None = None
    crash: str | None = None  # a process failed (a bug, a lost database): its one line
    refused: str | None = None  # a process stopped on the user's error (annotator.core.errors.UserError): its line
    tracebacks: list[str] = field(default_factory=list)


class _Sums:
    """The run's RunStats as the sum of its processes' last reports."""

    def __init__(self, stats: RunStats, shares: int):
        self.stats, self.latest = stats, [None] * shares
        self.ending, self.ended = Ending(), set()

    def take(self, index: int, kind: str, body: dict) -> None:
        if kind == "crash":
            self.ending.crash = self.ending.crash or f"judge process {index + 1}: {body['error']}"
            self.ending.tracebacks.append(body["traceback"])
        if kind == "refused":
            self.ending.refused = self.ending.refused or body["error"]
        if kind in ("crash", "refused"):
            self.ended.add(index)
            return
        self.latest[index] = body
        if kind == "end":
            self.ended.add(index)
            self.ending.fatal = self.ending.fatal or body["fatal"]
            self.ending.unreachable = self.ending.unreachable or body["unreachable"]
        self._sum()

    def _sum(self) -> None:
        reports = [report for report in self.latest if report is not None]
        for name in _SUMMED:
            setattr(self.stats, name, sum(report[name] for report in reports))
        costs = [report["cost"] for report in reports if report["cost"] is not None]
        self.stats.cost = sum(costs) if costs else None
        drained = [report["drained"] for report in reports]
        if reports and None not in drained:  # the slots' share is over the span in which any process had jobs
            self.stats.started = min(report["started"] for report in reports)
            self.stats.drained = max(drained)

    def missing(self, processes: list) -> None:
        """A process that died without a word (killed, out of memory) is a crash too."""
        for index, process in enumerate(processes):
            if index not in self.ended and process.exitcode not in (None, 0):
                self.ending.crash = self.ending.crash or (f"judge process {index + 1} ended with exit code"
                                                          f" {process.exitcode}")


def run_in_processes(db: sqlite_utils.Database, execution: Execution, shares: int, *,
                     on_progress: Callable[[RunStats], None] | None, stop) -> Ending:
    """Carry out `execution`'s plan in `shares` processes; its stats become their sums as they report."""
    db_path = store.file_path(db)
    if db_path is None:
        raise ValueError("a run in several processes needs a database file")
    context = multiprocessing.get_context("spawn")
    halt, updates, claimed, hold = context.Event(), context.Queue(), context.Value("q", 0), context.Value("d", 0.0)
    options, buckets = execution.options, buckets_for(len(execution.plan.jobs))
    processes = [context.Process(
        target=_process, name=f"judge-run-{execution.run_id}-{index + 1}", daemon=True,
        args=(db_path, execution.run_id, execution.rater_id, dataclasses.replace(options, concurrency=slots),
              index, buckets, claimed, hold, halt, updates))
        for index, slots in enumerate(split_slots(options.concurrency, shares))]
    sums = _Sums(execution.stats, shares)
    for process in processes:
        process.start()
    try:
        _follow(processes, updates, sums, halt, stop, on_progress)
    finally:
        halt.set()
        _join(processes)
    _drain(updates, sums)
    sums.missing(processes)
    return sums.ending


def _follow(processes, updates, sums: _Sums, halt, stop, on_progress) -> None:
    """Take the processes' reports until every one has ended; pass a stop on to them."""
    while len(sums.ended) < len(processes):
        if stop.is_set():
            halt.set()
        try:
            sums.take(*updates.get(timeout=0.2))
        except queue.Empty:
            if not any(process.is_alive() for process in processes):
                return  # whatever they said is in the queue: _drain takes it
            continue
        if on_progress is not None:
            on_progress(sums.stats)


def _drain(updates, sums: _Sums) -> None:
    while True:
        try:
            sums.take(*updates.get(timeout=0.1))
        except queue.Empty:
            return


def _join(processes) -> None:
    deadline = time.monotonic() + _JOIN_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.terminate()
            process.join()
