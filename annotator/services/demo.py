"""The bundled demo: a fresh database with synthetic traces, three annotators' labels, a recorded judge
run, majority gold labels, and accounts.

The recorded judge run takes the real judge path: `judge_responses.jsonl` has one line per trace,
`{"id": <trace external id>, "response": {"modes": {...}, "summary": "..."}}`, and each response is handed
to litellm as `mock_response` for the whole-trace segment of that trace, so prompts are rendered, tokens
counted, answers parsed and validated, and calls and labels stored exactly as in a live run.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from annotator import store
from annotator.core.errors import about_file
from annotator.core.taxonomy import load_taxonomy
from annotator.ingest import import_file
from annotator.judge.plan import DEFAULT_PROMPT, JudgeOptions
from annotator.resources import DEMO_DIR

DEMO_TRACES = DEMO_DIR / "traces.jsonl"
DEMO_JUDGE_RESPONSES = DEMO_DIR / "judge_responses.jsonl"
DEMO_ACCOUNTS = (("alice", "annotator"), ("rita", "reviewer"), ("lead", "admin"))
DEMO_MODEL = "demo/recorded-judge"
DEMO_K = 2  # each demo segment goes to two annotators
DEMO_HANDED_OUT = 12  # segments alice finds in her list at once (more are claimed as she goes)


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    token: str
    link: str


def _fresh(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with about_file(f"{db_path}{suffix}", doing="replace the old demo database"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def build_demo(db_path: str | Path, *, base_url: str = "http://127.0.0.1:8501/") -> list[Account]:
    """Recreate `db_path` from the bundled demo data; return the demo accounts with sign-in links."""
    if not DEMO_TRACES.is_file():
        raise FileNotFoundError(f"{DEMO_TRACES}: demo data not found "
                                "(the installed package is incomplete; reinstall it)")
    db_path = Path(db_path)
    _fresh(db_path)
    db = store.connect(db_path)
    store.save_taxonomy(db, load_taxonomy("mast"))
    import_file(db, DEMO_TRACES, fmt="jsonl", scheme="trace")
    _record_judge_and_gold(db)
    accounts = []
    for name, role in DEMO_ACCOUNTS:
        token = store.add_user(db, name, role)
        accounts.append(Account(name, role, token, f"{base_url}?token={token}"))
    # The demo's three annotators are done, so the reveal phase is open: the Review page has work at once.
    # (A real project opens it on the Data page when its annotators have finished.)
    store.save_settings(db, k=DEMO_K, reveal=True)
    store.assign_to_pool(db, DEMO_HANDED_OUT)
    db.conn.close()
    return accounts


def _record_judge_and_gold(db) -> None:
    """Replay the recorded judge answers through the real judge path (no network), then build gold,
    so the Agreement page and the judge lab have something to show at once."""
    from annotator.services.gold import build_gold

    record_demo_run(db, DEMO_JUDGE_RESPONSES)
    build_gold(db, strategy="majority")

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
                           mock_responses={seg_id: functools.partial(_mock, model, text=text)
                                           for seg_id, text in texts.items()},
                           structured_output="off")
    run_id = create_run(db, options)
    result = execute_run(db, run_id, options)
    if result.status != "done":
        raise RuntimeError(f"recorded judge run {run_id} ended {result.status}: {result.error}")
    return run_id
