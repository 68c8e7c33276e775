"""The LLM judge: labels segments with failure modes through litellm, as a rater of kind "judge".

Importing this package does not import litellm; only planning a real run, counting tokens or calling a
model does (in `annotator.judge.llm`).

Service API (what the CLI and the app call):
- `run_judge(db, JudgeOptions(...), on_progress=...) -> RunResult`  (foreground)
- `dry_run(db, options) -> Estimate`  (calls nothing)
- `start_run_thread(db_path, options) -> run_id`, `run_progress(db, run_id) -> dict`, `stop_run(run_id)`
- `list_runs(db) -> list[dict]`
- `self_agreement(labels, codes)` (pure) and `rater_self_agreement(db, rater, taxonomy)`
"""

from annotator.judge.parse import Judgement, JudgementError, parse_judgement
from annotator.judge.plan import Estimate, JudgeOptions, cache_key, plan_run
from annotator.judge.prompt import DEFAULT_PROMPT, JudgePrompt, PromptError, load_prompt
from annotator.judge.runner import RunStats
from annotator.judge.selfagree import self_agreement
from annotator.judge.service import (
    RunResult,
    dry_run,
    list_runs,
    rater_self_agreement,
    run_judge,
    run_progress,
    start_run_thread,
    stop_run,
    wait_run,
)

__all__ = [
    "DEFAULT_PROMPT", "Estimate", "JudgeOptions", "JudgePrompt", "Judgement", "JudgementError", "PromptError",
    "RunResult", "RunStats", "cache_key", "dry_run", "list_runs", "load_prompt", "parse_judgement", "plan_run",
    "rater_self_agreement", "run_judge", "run_progress", "self_agreement", "start_run_thread",
    "stop_run", "wait_run",
]
