"""Service functions for the CLI and the app: run (in the foreground or a background thread), watch,
stop, list, and the judge's self-agreement across samples.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from annotator import store
from annotator.core.errors import NotFoundError, UserError
from annotator.core.report.model import SelfAgreement
from annotator.judge import parallel
from annotator.judge.plan import Estimate, JudgeOptions, estimate, plan_run, resolve
from annotator.judge.redact import failure_line, scrub
from annotator.judge.runner import Execution, RunStats
from annotator.judge.selfagree import self_agreement

log = logging.getLogger(__name__)
_STOPS: dict[int, threading.Event] = {}  # run id -> stop flag of runs in this process
_THREADS: dict[int, threading.Thread] = {}


@dataclass(frozen=True)
class RunResult:
    run_id: int
    rater: str
    status: str  # done | failed (every call failed) | stopped | error
    stats: RunStats
    error: str | None = None


def _open(db_or_path: sqlite_utils.Database | str | Path) -> sqlite_utils.Database:
    return db_or_path if isinstance(db_or_path, sqlite_utils.Database) else store.open_existing(db_or_path)


def dry_run(db: sqlite_utils.Database, options: JudgeOptions) -> Estimate:
    """How many calls a run would make, its tokens and (where the price is known) its cost. Calls nothing."""
    return estimate(db, plan_run(db, options))


def create_run(db: sqlite_utils.Database, options: JudgeOptions, *, extra: dict | None = None) -> int:
    """Register the judge rater and a run in state 'planning'; return the run id. `extra`: more params
    to keep with the run (a batch run keeps what resuming it by id needs)."""
    prompt, taxonomy, rater = resolve(db, options)
    temperature = options.temperature if options.temperature is not None else prompt.temperature
    rater_id = store.ensure_rater(db, rater, "judge", model=options.model, prompt_version=prompt.version,
                                  params={"prompt": prompt.name, "temperature": temperature})
    params = {"api_base": scrub(options.api_base), "concurrency": options.concurrency, "samples": options.samples,
              "limit": options.limit, "temperature": temperature, "timeout": options.timeout,
              "max_attempts": options.max_attempts, "processes": options.processes, "refresh": options.refresh,
              **(extra or {})}
    selection = "ids" if options.segment_ids is not None else options.segments
    store.save_prompt(db, version=prompt.version, name=prompt.name, path=str(prompt.path), text=prompt.text)
    return store.create_judge_run(db, rater_id=rater_id, taxonomy_id=taxonomy.id, model=options.model,
                                  prompt_path=str(prompt.path), prompt_version=prompt.version, params=params,
                                  selection=selection)


def execute_run(db: sqlite_utils.Database, run_id: int, options: JudgeOptions, *,
                on_progress: Callable[[RunStats], None] | None = None,
                stop: threading.Event | None = None) -> RunResult:
    """Plan and carry out run `run_id` (made by create_run) in this thread; record how it ended."""
    stop = stop or threading.Event()
    rater = store.get_judge_run(db, run_id)["rater"]
    stats = RunStats()
    try:
        plan = plan_run(db, options)
        store.start_judge_run(db, run_id, total=plan.total, cached=len(plan.cached))
        log.info("judge run %d started: %s, %d segment-samples (%d cached)", run_id, rater, plan.total,
                 len(plan.cached))
        execution = Execution(db, plan, run_id, store.get_rater(db, rater).id, on_progress=on_progress, stop=stop)
        stats = execution.stats
        execution.apply_cached()
        if on_progress is not None:
            on_progress(stats)
        _carry_out(db, execution, on_progress=on_progress, stop=stop)
        if execution.fatal:
            raise UserError(f"stopped: every call would fail alike: {execution.fatal}")
        if execution.unreachable:  # failed, not error: nothing is wrong with the run; rerun it when the server is up
            store.finish_judge_run(db, run_id, "failed", error=execution.unreachable)
            log.warning("judge run %d failed: %s", run_id, execution.unreachable)
            return RunResult(run_id, rater, "failed", stats, execution.unreachable)
    except (KeyboardInterrupt, asyncio.CancelledError):
        store.finish_judge_run(db, run_id, "stopped")
        log.info("judge run %d stopped", run_id)
        raise
    except Exception as exc:  # noqa: BLE001 (every failure ends the run as "error"; a bug is logged with its traceback)
        message = _failure(run_id, exc)
        store.finish_judge_run(db, run_id, "error", error=message)
        return RunResult(run_id, rater, "error", stats, message)
    status, error = _ending(db, run_id, stats, stopped=stop.is_set())
    store.finish_judge_run(db, run_id, status, error=error)
    log.info("judge run %d %s: %d judged, %d cached, %d failed", run_id, status, stats.done, stats.cached,
             stats.failed)
    return RunResult(run_id, rater, status, stats, error)


def _carry_out(db: sqlite_utils.Database, execution: Execution, *,
               on_progress: Callable[[RunStats], None] | None, stop: threading.Event) -> None:
    """Make the planned calls, in this process or (`--processes`) in several; their ending lands on `execution`."""
    shares = parallel.processes_for(execution.options, len(execution.plan.jobs))
    if shares == 1:
        asyncio.run(execution.run())
        return
    log.info("judge run %d: %d processes share %d slots", execution.run_id, shares, execution.options.concurrency)
    ending = parallel.run_in_processes(db, execution, shares, on_progress=on_progress, stop=stop)
    for text in ending.tracebacks:
        log.error("judge run %d: a judge process failed:\n%s", execution.run_id, text)
    if ending.crash:
        raise RuntimeError(ending.crash)
    if ending.refused:
        raise UserError(ending.refused)
    execution.fatal, execution.unreachable = ending.fatal, ending.unreachable


def _ending(db: sqlite_utils.Database, run_id: int, stats: RunStats, *, stopped: bool) -> tuple[str, str | None]:
    """How a run that was not interrupted by an error ends: failed when every call it made failed."""
    if stopped:
        return "stopped", None
    if stats.failed and not stats.done:
        first = store.judge_run_errors(db, run_id, limit=1)
        cause = first[0]["error"] if first else "unknown error"
        return "failed", f"all {stats.failed} calls failed after retries: {cause}"
    return "done", None


def outcome(status: str, failed: int) -> str:
    """The state as people read it: `done`, `done with 3 failures`, `failed`, `stopped`..."""
    if status == "done" and failed:
        return f"done with {failed} failure{'s' if failed != 1 else ''}"
    return status


def _failure(run_id: int, exc: Exception) -> str:
    """The one line a failed run keeps (no secrets); the log gets it too, with the traceback of a bug."""
    message = failure_line(exc)
    if isinstance(exc, UserError):
        log.warning("judge run %d failed: %s", run_id, message)
        return message
    log.error("judge run %d failed: internal error", run_id, exc_info=exc)  # the log file scrubs the traceback
    return message


def run_judge(db: sqlite_utils.Database | str | Path, options: JudgeOptions, *,
              on_progress: Callable[[RunStats], None] | None = None,
              stop: threading.Event | None = None, actor: store.User = store.LOCAL_ADMIN) -> RunResult:
    """Run the judge in the foreground: the CLI's `judge run`."""
    store.require(actor, "admin", "run the judge")
    db = _open(db)
    return execute_run(db, create_run(db, options), options, on_progress=on_progress, stop=stop)


def start_run_thread(db_path: str | Path, options: JudgeOptions, *, actor: store.User = store.LOCAL_ADMIN) -> int:
    """Start a run in a background thread (its own connection) and return its id at once.

    The run appears in `run_progress` and `list_runs` immediately, in state 'planning'. Stop it
    with `stop_run(run_id)`.
    """
    store.require(actor, "admin", "run the judge")
    db = store.open_existing(db_path)
    try:
        run_id = create_run(db, options)
    finally:
        db.conn.close()
    stop = threading.Event()
    _STOPS[run_id] = stop

    def work() -> None:
        conn = None
        try:
            conn = store.open_existing(db_path, migrate=False)
            execute_run(conn, run_id, options, stop=stop)
        except Exception:  # execute_run records its own failures; this is what it could not record
            log.exception("judge run %d: the background thread failed", run_id)
        finally:
            if conn is not None:
                conn.conn.close()
            _STOPS.pop(run_id, None)

    thread = threading.Thread(target=work, name=f"judge-run-{run_id}", daemon=True)
    _THREADS[run_id] = thread
    thread.start()
    return run_id


def stop_run(run_id: int) -> bool:
    """Ask a run of this process to stop (calls in flight are abandoned); False if it is not running here."""
    stop = _STOPS.get(run_id)
    if stop is None:
        return False
    stop.set()
    return True


def wait_run(run_id: int, timeout: float | None = None) -> bool:
    """Wait for a background run of this process to end; True when it has."""
    thread = _THREADS.get(run_id)
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default) of ascending values; None when empty."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    low = int(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def _summary(db: sqlite_utils.Database, run: dict) -> dict:
    status = run["status"]
    if status in store.judge.ACTIVE and not _pid_alive(run["pid"]):
        status = "interrupted"  # its process died (killed); rerun the same command to resume
    latencies = store.judge_run_latencies(db, run["id"])
    finished = run["cached"] + run["done"] + run["failed"]
    return {
        "run_id": run["id"], "rater": run["rater"], "model": run["model"], "prompt_version": run["prompt_version"],
        "prompt_path": run["prompt_path"], "taxonomy": run["taxonomy"], "selection": run["selection"],
        "status": status, "state": outcome(status, run["failed"]),
        "total": run["total"], "cached": run["cached"], "done": run["done"],
        "failed": run["failed"], "finished": finished,
        "fraction": (finished / run["total"]) if run["total"] else (1.0 if status == "done" else 0.0),
        "segments_done": run["segments_done"], "attempts": run["attempts"], "truncated": run["truncated"],
        "prompt_tokens": run["prompt_tokens"], "completion_tokens": run["completion_tokens"],
        "tokens": run["prompt_tokens"] + run["completion_tokens"], "cost": run["cost"],
        "latency_p50_ms": percentile(latencies, 0.5), "latency_p95_ms": percentile(latencies, 0.95),
        "started_at": run["started_at"], "updated_at": run["updated_at"], "finished_at": run["finished_at"],
        "error": run["error"], "params": run["params"],
        # batch runs: each batch's provider id, status, requests and lines stored; their cost is at batch prices
        "batches": [{k: b[k] for k in ("batch_id", "status", "requests", "provider_completed", "provider_failed",
                                       "stored", "answered", "error")} for b in store.run_judge_batches(db, run["id"])],
        "served_models": store.judge_run_served_models(db, run["id"]),
    }


def run_progress(db: sqlite_utils.Database, run_id: int) -> dict:
    """Where a run stands, from the database (works across threads and processes).

    Keys: run_id, rater, status (planning | running | done | failed | stopped | error | interrupted),
    state (the status as people read it: "done with 3 failures"), total,
    cached, done, failed, finished, fraction, tokens, cost, latency_p50_ms, latency_p95_ms,
    started_at, updated_at, finished_at, error, served_models (the model that answered -> calls: the
    response's `model` field, which a proxy sets to the model it routed to), recent_errors.
    """
    run = store.get_judge_run(db, run_id)
    if run is None:
        raise NotFoundError(f"no judge run {run_id}")
    summary = _summary(db, run)
    summary["recent_errors"] = store.judge_run_errors(db, run_id, limit=5)
    return summary


def list_runs(db: sqlite_utils.Database) -> list[dict]:
    """Every judge run, newest first, as `run_progress` describes them (without recent errors)."""
    return [_summary(db, run) for run in store.list_judge_runs(db)]


def rater_self_agreement(db: sqlite_utils.Database, rater: str, taxonomy: str = "mast") -> SelfAgreement:
    """The judge rater's agreement with itself across its samples, per mode (see `self_agreement`)."""
    row = store.get_rater(db, rater)
    if row is None:
        raise NotFoundError(f"no rater {rater!r}")
    stored = store.get_taxonomy(db, taxonomy)
    return self_agreement(store.judge_sample_labels(db, row.id, stored.id), stored.taxonomy.codes)


def served_models(db: sqlite_utils.Database, raters: list[str]) -> dict[str, dict[str, int]]:
    """Per judge rater, the models that answered its successful calls -> calls each (empty: not recorded)."""
    return {rater: store.rater_served_models(db, rater) for rater in raters}


def wait_until_finished(db: sqlite_utils.Database, run_id: int, *, timeout: float = 60.0) -> dict:
    """Poll `run_progress` until the run leaves planning/running (for scripts and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        progress = run_progress(db, run_id)
        if progress["status"] not in store.judge.ACTIVE or time.monotonic() > deadline:
            return progress
        time.sleep(0.05)
