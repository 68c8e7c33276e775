"""Phoenix span exports: the span dataframe (`px.Client().get_spans_dataframe()`) saved as JSON records
(`df.to_json(path, orient="records")`, with or without `lines=True`) or as Parquet (`df.to_parquet(path)`).

Columns read: `context.span_id`, `context.trace_id`, `parent_id`, `name`, `span_kind`, `start_time`,
`end_time`, every `attributes.<name>` (read as OpenInference attributes, openinference.py), and span
annotations `annotations.<i>.annotation.{name,label,score,annotator_kind}` (or a list under
`annotations`): an annotation whose name is a mode of the taxonomy (its code, e.g. "1.3", or its name,
e.g. "Step repetition") becomes that mode's label for the rater `phoenix:<annotator kind>`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotator.core.jsonlimits import JsonTooDeepError, loads_bounded
from annotator.ingest.jsonstream import iter_json_array
from annotator.ingest.otlp import OtlpSpan, flatten, indexed
from annotator.ingest.records import IngestError, RecordLabels, fail, kind_of
from annotator.ingest.spans import ns_from_iso

PARQUET_EXTRA = "pip install 'mast-annotator[parquet]'"
NOT_A_MODE = "span annotations whose name is not a mode of the taxonomy, ignored"
_PRESENT = {"1", "true", "yes", "present", "fail", "failed", "failure", "incorrect"}
_ABSENT = {"0", "false", "no", "absent", "pass", "passed", "ok", "correct"}


def is_phoenix(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(65536)
    return head.startswith(b"PAR1") or b'"context.span_id"' in head


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _time(value: Any, field: str) -> int | None:
    """ISO text, a pandas Timestamp, or epoch numbers (pandas writes milliseconds) as nanoseconds."""
    if _missing(value):
        return None
    if hasattr(value, "value") and hasattr(value, "isoformat"):  # pandas.Timestamp: .value is nanoseconds
        return int(value.value)
    if isinstance(value, str):
        try:
            return ns_from_iso(value)
        except ValueError:
            raise ValueError(f"{field} {value[:40]!r} is not a time") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        magnitude = abs(value)
        scale = 1 if magnitude > 1e17 else 1_000 if magnitude > 1e14 else 1_000_000 if magnitude > 1e11 else 10**9
        return int(value * scale)
    raise ValueError(f"{field} must be a time, not {kind_of(value)}")


def _modes(taxonomy: str) -> dict[str, str]:
    from annotator.core.taxonomy import load_taxonomy

    loaded = load_taxonomy(taxonomy)
    names = {mode.code.lower(): mode.code for mode in loaded.modes}
    names.update({mode.name.lower(): mode.code for mode in loaded.modes})
    return names


def _labels(row: dict[str, Any], modes: dict[str, str], taxonomy: str, notes: list[str]) -> list[RecordLabels]:
    flat = flatten({"annotations": row.get("annotations")}, "", {}) if "annotations" in row else row
    by_rater: dict[str, RecordLabels] = {}
    for item in indexed(flat, "annotations"):
        fields = {k.removeprefix("annotation."): v for k, v in item.items()}
        code = modes.get(str(fields.get("name") or "").strip().lower())
        if code is None:
            notes.append(NOT_A_MODE)
            continue
        label = str(fields.get("label") or "").strip().lower()
        score = fields.get("score")
        if label in _PRESENT or label in _ABSENT:
            present = int(label in _PRESENT)
        elif isinstance(score, int | float) and not isinstance(score, bool) and not math.isnan(score):
            present = int(score >= 0.5)
        else:
            notes.append(NOT_A_MODE)
            continue
        kind = str(fields.get("annotator_kind") or "HUMAN").strip().lower()
        rater = f"phoenix:{kind}" if kind == "human" else f"judge:phoenix-{kind}"
        labels = by_rater.setdefault(rater, RecordLabels(rater, "human" if kind == "human" else "judge",
                                                         taxonomy, {}))
        labels.values[code] = max(labels.values.get(code, 0), present)
    return list(by_rater.values())


def _row_span(row: Any, locator: str, modes: dict[str, str], taxonomy: str) -> OtlpSpan:
    if not isinstance(row, dict):
        raise ValueError(f"a span row must be an object, not {kind_of(row)}")
    flat = flatten({k: v for k, v in row.items() if k != "annotations"}, "", {})
    trace_id, span_id = flat.get("context.trace_id"), flat.get("context.span_id")
    if _missing(trace_id) or _missing(span_id):
        raise ValueError("a span row needs context.trace_id and context.span_id")
    parent = flat.get("parent_id")
    attributes = {k.removeprefix("attributes."): v for k, v in flat.items()
                  if k.startswith("attributes.") and not _missing(v)}
    notes: list[str] = []
    return OtlpSpan(str(trace_id), str(span_id), None if _missing(parent) else str(parent),
                    str(flat.get("name") or ""), _time(flat.get("start_time"), "start_time"),
                    _time(flat.get("end_time"), "end_time"), attributes, [], {}, None, locator,
                    extra={"span_kind": flat.get("span_kind"), "labels": _labels(row, modes, taxonomy, notes),
                           "notes": notes})


def _records(path: Path) -> Iterator[tuple[str, Any]]:
    with open(path, "rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        for index, item in iter_json_array(path):
            yield f"record {index}", item
        return
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield f"line {number}", loads_bounded(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
            except (json.JSONDecodeError, JsonTooDeepError, UnicodeDecodeError) as exc:
                raise fail(path, f"malformed JSON ({str(exc).splitlines()[0][:80]})", record=f"line {number}") \
                    from None


def _parquet(path: Path) -> Iterator[tuple[str, Any]]:
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except ImportError:
        raise IngestError(f"{path}: reading Parquet needs pyarrow: {PARQUET_EXTRA}") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow's errors are many; any of them means an unreadable file
        raise fail(path, f"not a readable Parquet file ({str(exc).splitlines()[0][:120]})") from None
    for index, row in enumerate(frame.to_dict("records")):
        yield f"row {index}", {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in row.items()}


def read_rows(path: Path, *, taxonomy: str = "mast") -> Iterator[OtlpSpan]:
    """The rows of a Phoenix span export as OTLP-shaped spans (attributes without their `attributes.`)."""
    with open(path, "rb") as handle:
        parquet = handle.read(4) == b"PAR1"
    modes = _modes(taxonomy)
    for locator, row in (_parquet(path) if parquet else _records(path)):
        try:
            yield _row_span(row, locator, modes, taxonomy)
        except ValueError as exc:
            raise fail(path, str(exc), record=locator) from None
