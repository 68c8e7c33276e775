"""Helpers shared by the judge tests: a small judge database, options for the local server, stored labels.

The `llm_server` and `judge_db` fixtures built on them live in conftest.py."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from llm_server import LLMServer

from annotator import store
from annotator.core.taxonomy import load_taxonomy

MODEL = "openai/test-model"
MAST_CODES = load_taxonomy("mast").codes


def make_judge_db(path: Path, texts: list[str], *, trace_prefix: str = "t") -> tuple[sqlite_utils.Database, list[int]]:
    """A database with mast@1 and one trace (whole-trace segment, queued) per text; returns segment ids."""
    db = store.connect(path)
    store.save_taxonomy(db, load_taxonomy("mast"))
    ids = []
    with store.write(db):
        for i, text in enumerate(texts):
            trace = store.TraceInput(external_id=f"{trace_prefix}{i}", text=text, source="test", format="text",
                                     framework="AG2", benchmark="GSM-Plus", tags={"round": "1"},
                                     segments=[store.SegmentInput("trace", 0, "trace", 0, len(text))])
            trace_id, _ = store.insert_trace(db, trace)
            ids.append(store.trace_segment_id(db, trace_id))
    return db, ids



def fast_options(server: LLMServer, **overrides):
    """Options for the local server: small timeout, quick backoff."""
    from annotator.judge import JudgeOptions

    values = {"model": MODEL, "api_base": server.base_url, "timeout": 2.0, "max_attempts": 3, "backoff_base": 0.01,
                  "backoff_cap": 0.05, "concurrency": 4}
    values.update(overrides)
    return JudgeOptions(**values)


def labels_of(db, rater: str, segment_id: int, sample: int = 0) -> dict[str, tuple[int, str | None]]:
    """code -> (value, evidence) of a rater's labels on a segment."""
    rows = db.execute(
        "SELECT m.code, l.value, l.evidence FROM labels l JOIN modes m ON m.id = l.mode_id JOIN raters r"
        " ON r.id = l.rater_id WHERE r.name = ? AND l.segment_id = ? AND l.sample = ?", [rater, segment_id, sample])
    return {code: (value, evidence) for code, value, evidence in rows}
