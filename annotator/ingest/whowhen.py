"""Reader for Who&When (Zhang et al., ICML 2025): one JSON file per failed trace.

    {"history": [{"content", "role": "Orchestrator (-> WebSurfer)" | "WebSurfer" | ..., "name"?}, ...],
     "question", "ground_truth", "is_corrected" | "is_correct", "question_ID", "level"?,
     "mistake_agent", "mistake_step": "12" (0-based index into history), "mistake_reason"}

One turn per history entry. The trace id is the file name; the folder the file sits in
(Hand-Crafted, Algorithm-Generated) is the tag ``subset``. The dataset's labels become the
localisation of the reference rater ``who-and-when``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from annotator.ingest.records import RecordLocalisation, TraceRecord, fail, kind_of
from annotator.ingest.steps import Warnings, check_agent, messages_to_turns, read_json, step_index
from annotator.store.localisations import Failure

RATER = "who-and-when"
_TAGS = {"question_ID": "question_id", "level": "level"}  # short values only: tags are filters


def _tags(record: dict, subset: str) -> dict[str, str]:
    tags = {"subset": subset, "dataset": RATER}
    for key, tag in _TAGS.items():
        value = record.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
            tags[tag] = str(value)
    return tags


def _text_field(path: Path, record: dict, key: str) -> str | None:
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise fail(path, f"field {key!r} must be text, not {kind_of(value)}")


def read_file(path: Path, index: int, subset: str, warnings: Warnings) -> TraceRecord:
    """One Who&When file as a TraceRecord with the dataset's localisation."""
    record = read_json(path)
    if not isinstance(record, dict):
        raise fail(path, f"expected a JSON object with 'history', not {kind_of(record)}")
    text, turns, speakers = messages_to_turns(path, record.get("history"), "history",
                                              task=_text_field(path, record, "question"),
                                              answer=_text_field(path, record, "ground_truth"))
    agent = record.get("mistake_agent")
    if not isinstance(agent, str) or not agent.strip():
        raise fail(path, f"field 'mistake_agent' must be an agent's name, not {kind_of(agent)}")
    step = step_index(path, record.get("mistake_step"), "mistake_step", len(turns), base=0, record=None)
    agent = check_agent(agent, step, speakers, warnings, path.name)
    reason = record.get("mistake_reason")
    failure = Failure(step, agent, None, reason if isinstance(reason, str) else None, True)
    return TraceRecord(index=index, external_id=path.name, text=text, turns=turns, tags=_tags(record, subset),
                       locator=path.name, localisations=[RecordLocalisation(RATER, [failure])], whole_turns=True)


def json_files(root: Path) -> list[Path]:
    """The JSON files under a folder (sub-folders too), in a stable order; a file is itself."""
    if root.is_file():
        return [root]
    files = sorted(p for p in root.rglob("*.json") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise fail(root, "no .json files in this folder")
    return files


def read(root: Path, warnings: Warnings) -> Iterator[TraceRecord]:
    """Every trace under ``root`` (a folder or one file); the subset is each file's folder name."""
    for index, path in enumerate(json_files(root)):
        yield read_file(path, index, path.parent.name, warnings)
