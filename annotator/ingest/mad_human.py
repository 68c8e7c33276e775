"""Reader for MAD_human_labelled_dataset.json: MAST traces labelled by 3 annotators per round.

Each round used its own draft of the taxonomy; the draft is kept as its own version and every
label is also mapped onto the final 14 MAST codes (mapping shipped in annotator/resources/taxonomies/).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from annotator.core.taxonomy import Mode, Taxonomy, load_mast_draft_mappings
from annotator.ingest.jsonstream import load_json_array
from annotator.ingest.records import RecordLabels, TraceRecord, fail, id_part, optional_text, text_fields

FINAL = "mast@1"
ANNOTATORS = ("annotator_1", "annotator_2", "annotator_3")
DRAFT_ROUNDS = {"Round 1": "round-1", "Round 2": "round-2", "Round 3": "round-3"}


def parse_mode_header(text: str) -> tuple[str, str, str]:
    """Split '<code> <name>\\n\\n<definition>' into its parts (the definition keeps the file's wording)."""
    first, _, rest = text.strip().partition("\n")
    code, _, name = first.strip().partition(" ")
    return code.strip(), name.strip(), " ".join(rest.split())


def _category(code: str) -> str:
    return f"Draft category {code.split('.')[0]}"


def draft_taxonomy(draft: str, annotations: list[dict]) -> Taxonomy:
    """The draft taxonomy of one round, read from the record's own mode headers."""
    modes = []
    for ann in annotations:
        code, name, definition = parse_mode_header(ann["failure mode"])
        modes.append(Mode(code=code, name=name, category=_category(code), definition=definition or name))
    return Taxonomy(name="mast", version=f"draft-{draft}", modes=tuple(modes), is_draft=True,
                    description=f"Draft taxonomy used in MAST annotation {draft} (read from the data file).")


def _record_labels(path: Path, index: int, record: dict) -> dict[str, dict[str, int]]:
    """annotator -> {draft or final code: 0/1} from the record's annotations."""
    annotations = record.get("annotations")
    if not isinstance(annotations, list) or not annotations:
        raise fail(path, "field 'annotations' must be a non-empty list", record=index, record_id=record.get("trace_id"))
    labels: dict[str, dict[str, int]] = {a: {} for a in ANNOTATORS}
    for j, ann in enumerate(annotations):
        if not isinstance(ann, dict) or not isinstance(ann.get("failure mode"), str):
            raise fail(path, f"annotations[{j}] has no 'failure mode' text", record=index,
                       record_id=record.get("trace_id"))
        code = parse_mode_header(ann["failure mode"])[0]
        for annotator in ANNOTATORS:
            value = ann.get(annotator)
            if value is None or isinstance(value, float) and math.isnan(value):
                continue  # the file writes a missing label as NaN: missing, never "absent"
            if not isinstance(value, bool):
                raise fail(path, f"annotations[{j}] ({code}): {annotator} must be true or false, not {value!r}",
                           record=index, record_id=record.get("trace_id"))
            labels[annotator][code] = int(value)
    return labels


def read(path: Path) -> Iterator[Taxonomy | TraceRecord]:
    """Yield each round's draft taxonomy (once, before its first record) and every trace record."""
    mappings = load_mast_draft_mappings()
    drafts_seen: dict[str, str] = {}  # draft -> fingerprint
    for index, record in load_json_array(path):
        if not isinstance(record, dict):
            raise fail(path, "expected an object", record=index)
        trace_id = id_part(path, record.get("trace_id"), "trace_id", record=index) or None
        text = record.get("trace")
        if not isinstance(text, str) or not text.strip():
            raise fail(path, "missing its trace text (field 'trace')", record=index, record_id=trace_id)
        round_name = optional_text(path, record.get("round"), "round", record=index, record_id=trace_id) or ""
        labels = _record_labels(path, index, record)
        record_labels: list[RecordLabels] = []
        draft = DRAFT_ROUNDS.get(round_name)
        if draft is not None:
            taxonomy = draft_taxonomy(draft, record["annotations"])
            if draft not in drafts_seen:
                drafts_seen[draft] = taxonomy.fingerprint
                yield taxonomy
            elif drafts_seen[draft] != taxonomy.fingerprint:
                raise fail(path, f"its {round_name} modes differ from earlier {round_name} records",
                           record=index, record_id=trace_id)
            mapping = mappings[draft]
            unknown = sorted(set().union(*labels.values()) - set(mapping.codes))
            if unknown:
                raise fail(path, f"labels for unknown {round_name} mode(s) {', '.join(unknown)}",
                           record=index, record_id=trace_id)
            for annotator in ANNOTATORS:
                record_labels.append(RecordLabels(annotator, "human", taxonomy.ref, labels[annotator]))
                record_labels.append(RecordLabels(annotator, "human", FINAL, mapping.map_labels(labels[annotator])))
        else:
            for annotator in ANNOTATORS:
                record_labels.append(RecordLabels(annotator, "human", FINAL, labels[annotator]))
        yield TraceRecord(
            index=index,
            external_id=str(trace_id),
            text=text,
            **text_fields(path, index, str(trace_id), record, framework="mas_name", benchmark="benchmark_name"),
            tags={"round": round_name} if round_name else {},
            labels=record_labels,
        )
