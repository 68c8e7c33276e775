"""`judge run --batch` as a service: plan as a live run plans, continue the run whose batches are waiting
(by --resume RUN, or found by the cache keys of the same command), submit what is not waiting, follow
every open batch of the run, and record how the run ended.

A run is "submitted" when it leaves batches at the provider (--batch-wait ran out, or Ctrl-C); the same
command, or `--resume RUN`, picks them up by their stored ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import sqlite_utils

from annotator import store
from annotator.core.errors import NotFoundError, OptionError
from annotator.judge.batch import BatchExecution, Poller
from annotator.judge.batch_api import BatchState, batch_target
from annotator.judge.plan import JudgeOptions, RunPlan, plan_run
from annotator.judge.runner import Execution, RunStats
from annotator.judge.service import RunResult, _ending, _failure, create_run

log = logging.getLogger(__name__)
BATCH_PARAMS = ("api_key_env", "max_input_tokens", "max_tokens", "structured_output")  # kept to resume by id


def options_of_run(db: sqlite_utils.Database, run_id: int, *, api_base: str | None = None) -> JudgeOptions:
    """The options a batch run was started with (for --resume RUN); --api-base may point elsewhere now."""
    run = store.get_judge_run(db, run_id)
    if run is None:
        raise NotFoundError(f"--resume {run_id}: no judge run {run_id}")
    params = run["params"]
    if not params.get("batch"):
        raise OptionError(f"--resume {run_id}: run {run_id} was not a batch run; rerun its command to resume it")
    if run["selection"] not in ("all", "gold", "unlabelled"):
        raise OptionError(f"--resume {run_id}: its segments were chosen by id; rerun its command instead")
    options = JudgeOptions(
        model=run["model"], prompt_path=run["prompt_path"], taxonomy=run["taxonomy"], segments=run["selection"],
        limit=params.get("limit"), samples=params.get("samples") or 1, api_base=api_base or params.get("api_base"),
        timeout=params.get("timeout") or 120.0, max_attempts=params.get("max_attempts") or 1,
        temperature=params.get("temperature"), **{k: params[k] for k in BATCH_PARAMS if params.get(k) is not None})
    return options


def _batch_run(db: sqlite_utils.Database, options: JudgeOptions, plan: RunPlan, resume: int | None) -> int:
    """The run to continue (--resume, or the run whose open batches hold this plan's keys), else a new one."""
    if resume is not None:
        run = store.get_judge_run(db, resume)
        if run is None or run["rater"] != plan.rater:
            raise OptionError(f"--resume {resume}: not a run of {plan.rater}")
        return resume
    waiting = store.keys_in_open_batches(db, [j.cache_key for j in plan.jobs])
    if waiting:
        return max(waiting.values())
    extra = {k: getattr(options, k) for k in BATCH_PARAMS}
    return create_run(db, options, extra={"batch": True, **extra})


def run_batch(db: sqlite_utils.Database, options: JudgeOptions, *, resume: int | None = None,
              poller: Poller | None = None, on_progress: Callable[[RunStats], None] | None = None,
              on_batch: Callable[[BatchState], None] | None = None,
              actor: store.User = store.LOCAL_ADMIN) -> RunResult:
    """Run the judge through the provider's batch API in the foreground: `judge run --batch`."""
    store.require(actor, "admin", "run the judge")
    if resume is not None:
        options = replace(options, refresh=False)  # answers this run stored are the cache now
    plan = plan_run(db, options)
    batch_target(options.model, options.api_base)  # a provider litellm cannot batch is refused before any write
    run_id = _batch_run(db, options, plan, resume)
    for batch in store.open_judge_batches(db, run_id=run_id):
        if batch["batch_id"] is None:  # a crash between writing it and submitting it: its items go again
            store.finish_judge_batch(db, batch["id"], status="not submitted", error="interrupted before submission")
    rater = plan.rater
    stats = RunStats()
    try:
        store.start_judge_run(db, run_id, total=plan.total, cached=len(plan.cached))
        execution = Execution(db, plan, run_id, store.get_rater(db, rater).id, on_progress=on_progress)
        stats = execution.stats
        batches = BatchExecution(execution, poller=poller or Poller(), on_batch=on_batch)
        execution.apply_cached()
        waiting = store.keys_in_open_batches(db, [j.cache_key for j in plan.jobs])
        batches.submit([j for j in plan.jobs if j.cache_key not in waiting])
        left = [b for b in store.open_judge_batches(db, run_id=run_id) if batches.follow(b) is None]
    except KeyboardInterrupt:
        store.finish_judge_run(db, run_id, "submitted" if store.open_judge_batches(db, run_id=run_id) else "stopped")
        raise
    except Exception as exc:  # noqa: BLE001 (as a live run: an error ends the run; a bug is logged)
        message = _failure(run_id, exc)
        store.finish_judge_run(db, run_id, "error", error=message)
        return RunResult(run_id, rater, "error", stats, message)
    if left:
        store.finish_judge_run(db, run_id, "submitted")
        log.info("judge run %d: %d batch(es) left at the provider", run_id, len(left))
        return RunResult(run_id, rater, "submitted", stats)
    status, error = _ending(db, run_id, stats, stopped=False)
    store.finish_judge_run(db, run_id, status, error=error)
    log.info("judge run %d %s (batch): %d judged, %d cached, %d failed", run_id, status, stats.done, stats.cached,
             stats.failed)
    return RunResult(run_id, rater, status, stats, error)
