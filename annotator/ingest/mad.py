"""Reader for MAD_full_dataset.json: traces labelled by the MAST authors' LLM judge.

Record: {mas_name, llm_name, benchmark_name, trace_id, trace: {key, index, trajectory},
mast_annotation: {"1.1": 0|1|null, ...}}. The labels become a judge rater named for the file.
`null` means the judge gave no answer for that mode: it is left missing, never counted as absent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from annotator.ingest.jsonstream import iter_json_array
from annotator.ingest.records import RecordLabels, TraceRecord, fail, id_part, text_fields

TAXONOMY = "mast@1"


def rater_name(path: Path) -> str:
    return f"judge:{path.stem}"


def _trajectory_text(trajectory: object) -> str | None:
    if isinstance(trajectory, str):
        return trajectory
    if isinstance(trajectory, (list, dict)):
        return json.dumps(trajectory, ensure_ascii=False, indent=1)
    return None


def _labels(path: Path, index: int, record_id: str, raw: object) -> dict[str, int]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail(path, "field 'mast_annotation' must be an object", record=index, record_id=record_id)
    values = {}
    for code, value in raw.items():
        if value is None:
            continue
        if value not in (0, 1) or isinstance(value, float) and not value.is_integer():
            raise fail(path, f"mast_annotation[{code!r}] must be 0, 1 or null, not {value!r}",
                       record=index, record_id=record_id)
        values[str(code)] = int(value)
    return values


def read(path: Path) -> Iterator[TraceRecord]:
    """Yield one TraceRecord per record; the key (mas, llm, trace id, trace key) is the external id."""
    rater = rater_name(path)
    for index, record in iter_json_array(path):
        if not isinstance(record, dict):
            raise fail(path, "expected an object", record=index)
        trace = record.get("trace") if isinstance(record.get("trace"), dict) else {}
        parts = [id_part(path, record.get(k), k, record=index) for k in ("mas_name", "llm_name", "trace_id")]
        record_id = "/".join(parts)
        record_id += "/" + id_part(path, trace.get("key"), "trace.key", record=index)
        text = _trajectory_text(trace.get("trajectory"))
        if text is None or not text.strip():
            raise fail(path, "missing its trace text (field 'trace.trajectory')", record=index, record_id=record_id)
        labels = _labels(path, index, record_id, record.get("mast_annotation"))
        yield TraceRecord(
            index=index,
            external_id=record_id,
            text=text,
            **text_fields(path, index, record_id, record, framework="mas_name", benchmark="benchmark_name",
                           llm="llm_name"),
            labels=[RecordLabels(rater, "judge", TAXONOMY, labels)] if labels else [],
        )
