"""Exports of labels, gold and segments as CSV or JSON Lines, so a paper's numbers can be recomputed elsewhere.

JSON Lines of `segments` and `labels` use the import shape (one record per segment, labels per rater),
so an export can be imported into another database; `labels` adds per-label details (rationale,
evidence, time) under "details" and each rater's submission status (done | unsure, null when the labels
came without a submission) under "status". CSV is one row per label / gold label / segment.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import TextIO

import sqlite_utils

from annotator import store
from annotator.core.csvsafe import csv_cell
from annotator.core.errors import OptionError

KINDS = ("labels", "gold", "segments")
GOLD_JSONL_FIELDS = ("trace_id", "segment_id", "taxonomy", "mode", "value", "provenance", "adjudicator", "note",
                     "created_at")


def record_id(trace_id: str, scheme: str, index: int) -> str:
    """The id a segment gets in JSON Lines: the trace id for a whole trace, else trace/scheme/index."""
    return trace_id if scheme == "trace" else f"{trace_id}/{scheme}/{index}"


def _segment_record(row: dict, tags: dict[str, str]) -> dict:
    metadata = {k: row[k] for k in ("framework", "benchmark", "llm") if row.get(k)}
    metadata.update(tags)
    if row["scheme"] != "trace":
        metadata.update(source_trace=row["trace_id"], segment_scheme=row["scheme"], segment_index=row["index"],
                        speaker=row["speaker"] or "")
        if row.get("recipient"):
            metadata["recipient"] = row["recipient"]
    return {"id": record_id(row["trace_id"], row["scheme"], row["index"]), "text": row["text"], "metadata": metadata}


def segment_records(db: sqlite_utils.Database) -> Iterator[dict]:
    tags = store.trace_tags_by_external_id(db)
    for row in store.iter_segment_rows(db):
        yield _segment_record(row, tags.get(row["trace_id"], {}))


def label_records(db: sqlite_utils.Database, taxonomy_id: int | None = None) -> Iterator[dict]:
    """One record per (segment, taxonomy) in the import shape, labels of sample 0 per rater."""
    tags = store.trace_tags_by_external_id(db)
    current, record = None, None
    for row in store.iter_label_rows(db, taxonomy_id):
        if row["sample"] != 0:
            continue  # extra judge samples are in the CSV export
        key = (row["segment_id"], row["taxonomy"])
        if key != current:
            if record is not None:
                yield record
            current, record = key, _label_record_head(db, row, tags)
        record["labels"].setdefault(row["rater"], {})[row["mode"]] = row["value"]
        record["status"][row["rater"]] = row["status"]
        detail = {k: row[k] for k in ("rationale", "evidence") if row[k]}
        detail.update(updated_at=row["updated_at"], rater_kind=row["rater_kind"], stale=bool(row["stale"]))
        record["details"].setdefault(row["rater"], {})[row["mode"]] = detail
    if record is not None:
        yield record


def _label_record_head(db: sqlite_utils.Database, row: dict, tags: dict) -> dict:
    segment = store.get_segment(db, row["segment_id"])
    trace = store.get_trace(db, segment.trace_id)
    head = _segment_record({"trace_id": row["trace_id"], "scheme": segment.scheme, "index": segment.idx,
                            "speaker": segment.speaker, "recipient": segment.recipient,
                            "text": segment.text, "framework": trace.framework,
                            "benchmark": trace.benchmark, "llm": trace.llm}, tags.get(row["trace_id"], {}))
    return {**head, "taxonomy": row["taxonomy"], "labels": {}, "status": {}, "details": {}}


def gold_records(db: sqlite_utils.Database, taxonomy_id: int | None = None) -> Iterator[dict]:
    for row in store.iter_gold_rows(db, taxonomy_id):
        yield {k: row[k] for k in GOLD_JSONL_FIELDS}


def _rows(db: sqlite_utils.Database, kind: str, taxonomy_id: int | None) -> tuple[tuple[str, ...], Iterable[dict]]:
    if kind == "labels":
        return store.LABEL_COLUMNS, store.iter_label_rows(db, taxonomy_id)
    if kind == "gold":
        return store.GOLD_COLUMNS, store.iter_gold_rows(db, taxonomy_id)
    return store.SEGMENT_COLUMNS, store.iter_segment_rows(db)


def _records(db: sqlite_utils.Database, kind: str, taxonomy_id: int | None) -> Iterable[dict]:
    if kind == "labels":
        return label_records(db, taxonomy_id)
    if kind == "gold":
        return gold_records(db, taxonomy_id)
    return segment_records(db)


def write_export(db: sqlite_utils.Database, kind: str, fmt: str, out: TextIO, *, taxonomy: str | None = None) -> int:
    """Write `kind` (labels | gold | segments) as `fmt` (csv | jsonl) to `out`; return the number of rows."""
    if kind not in KINDS:
        raise OptionError(f"export: unknown kind {kind!r} (choose from {', '.join(KINDS)})")
    taxonomy_id = store.get_taxonomy(db, taxonomy).id if taxonomy else None
    count = 0
    if fmt == "csv":
        columns, rows = _rows(db, kind, taxonomy_id)
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row[c]) for c in columns])
            count += 1
    elif fmt == "jsonl":
        for record in _records(db, kind, taxonomy_id):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    else:
        raise OptionError(f"export: unknown format {fmt!r} (choose csv or jsonl)")
    return count
