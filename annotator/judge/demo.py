"""A recorded judge run for the demo: the real judge path, answered by recorded responses.

`data/demo/judge_responses.jsonl` has one line per trace: `{"id": <trace external id>, "response":
{"modes": {...}, "summary": "..."}}`. Each recorded response is handed to litellm as `mock_response`
for the whole-trace segment of that trace, so prompts are rendered, tokens counted, answers parsed and
validated, and calls and labels stored exactly as in a live run.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import sqlite_utils

from annotator import store
from annotator.judge.plan import DEFAULT_PROMPT, JudgeOptions

DEMO_MODEL = "demo/recorded-judge"


def read_responses(path: str | Path) -> dict[str, str]:
    """Trace external id -> the recorded answer as text. Errors name the file and line."""
    path = Path(path)
    out: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                trace_id, response = str(record["id"]), record["response"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: expected {{\"id\": ..., \"response\": {{...}}}} ({exc})") from None
            out[trace_id] = response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)
    return out


def _mock(model: str, messages: list[dict], *, text: str) -> dict:
    """A chat.completion answer with token counts as the model's tokenizer would give them."""
    from annotator.judge import llm

    prompt_tokens = llm.count_tokens(model, messages)
    completion_tokens = llm.count_tokens(model, [{"role": "assistant", "content": text}])
    return {"model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def record_demo_run(db: sqlite_utils.Database, responses_path: str | Path, *, model: str = DEMO_MODEL,
                    prompt_path: str | Path = DEFAULT_PROMPT, taxonomy: str = "mast",
                    concurrency: int = 8) -> int:
    """Run the judge over the whole-trace segments of the traces in `responses_path`; return the run id.

    Traces named in the file but missing from the database are an error (the demo data is out of step).
    """
    from annotator.judge.service import create_run, execute_run

    responses = read_responses(responses_path)
    segments = store.whole_trace_segments(db, responses)
    missing = [trace_id for trace_id in responses if trace_id not in segments]
    if missing:
        raise LookupError(f"{responses_path}: trace {missing[0]!r} is not in the database")
    texts = {seg_id: responses[trace_id] for trace_id, ids in segments.items() for seg_id in ids}
    options = JudgeOptions(model=model, prompt_path=prompt_path, taxonomy=taxonomy, segment_ids=tuple(texts),
                           concurrency=concurrency, max_attempts=1,
                           mock_responses={seg_id: functools.partial(_mock, model, text=text) for seg_id, text in texts.items()},
                           structured_output="off")
    run_id = create_run(db, options)
    result = execute_run(db, run_id, options)
    if result.status != "done":
        raise RuntimeError(f"recorded judge run {run_id} ended {result.status}: {result.error}")
    return run_id
