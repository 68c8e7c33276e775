"""Import a file into the store: detect its format, read it, write it all in one transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from annotator import store
from annotator.core.errors import OptionError, file_error
from annotator.core.segments import parse_scheme, segment_trace
from annotator.core.taxonomy import BUILTIN_TAXONOMIES, Taxonomy, load_taxonomy, parse_ref
from annotator.ingest import (
    ag2log,
    exports,
    genai,
    jsonl,
    langfuse,
    langsmith,
    mad,
    mad_human,
    openai_agents,
    openinference,
    otlp,
    phoenix,
    stepimport,
    text,
)
from annotator.ingest.jsonstream import first_item
from annotator.ingest.records import ImportNote, IngestError, RecordLabels, RecordLocalisation, TraceRecord, fail

FORMATS = ("auto", "mad-human", "mad", "jsonl", "text", "otel", "openinference", "ag2-log", "langfuse",
           "langsmith", "openai-agents", "who-and-when", "agentrx")
STEP_FORMATS = ("who-and-when", "agentrx")  # step-level datasets: a folder, localisations, a reference rater
READERS = {"mad-human": mad_human.read, "mad": mad.read, "jsonl": jsonl.read, "text": text.read, "otel": genai.read,
           "openinference": openinference.read, "ag2-log": ag2log.read, "langfuse": langfuse.read,
           "langsmith": langsmith.read, "openai-agents": openai_agents.read}
# Span formats: read with read(path, group=...), segmented per turn unless --segment says otherwise.
SPAN_FORMATS: frozenset[str] = frozenset({"otel", "openinference", "langfuse", "langsmith", "openai-agents"})
# JSON exports of observability tools, told apart by their first record (for --format auto).
EXPORT_FORMATS = (("langfuse", langfuse.looks_like), ("langsmith", langsmith.looks_like),
                  ("openai-agents", openai_agents.looks_like))
# Formats that name each message's author: segmented per turn by default too.
TURN_FORMATS: frozenset[str] = SPAN_FORMATS | {"ag2-log", *STEP_FORMATS}
DEFAULT_MAX_TRACE_MB = 20.0


@dataclass
class ImportResult:
    """What one file added. `duplicates` pairs record ids whose trace bodies are identical."""

    path: str
    format: str
    scheme: str
    traces_seen: int = 0
    traces_added: int = 0
    labels_added: int = 0
    taxonomies_added: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    localisations_added: int = 0
    warnings: dict[str, int] = field(default_factory=dict)  # counted inconsistencies of the dataset
    warning_examples: dict[str, list[str]] = field(default_factory=dict)
    mapped_spellings: list[tuple[str, str, int]] = field(default_factory=list)  # (spelling, canonical, count)
    notes: dict[str, int] = field(default_factory=dict)  # repairs and unread parts, counted (ImportNote)


def _sniff(path: Path) -> bytes:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")


def _mentions(path: Path, marker: bytes, limit: int = 1 << 20) -> bool:
    with open(path, "rb") as handle:
        return marker in handle.read(limit)


def _span_format(path: Path, head: bytes) -> str | None:
    """An OTLP export (JSON or protobuf; OpenInference if its spans say so) or a Phoenix span export."""
    if phoenix.is_phoenix(path):
        return "openinference"
    is_json = head.startswith(b"{") and (b'"resourceSpans"' in head or b'"resourceLogs"' in head)
    if is_json or not head.startswith((b"{", b"[")) and otlp.looks_like_protobuf(path, head):
        return "openinference" if _mentions(path, b"openinference.span.kind") else "otel"
    return None


def _export_format(path: Path, head: bytes) -> str | None:
    """A Langfuse, LangSmith or OpenAI Agents export, known by the shape of its first record."""
    if not head.startswith((b"[", b"{")):
        return None
    try:
        _, first = next(exports.records(path))
    except (IngestError, StopIteration):
        return None  # not a JSON export this way: the other formats say what is wrong
    return next((name for name, looks_like in EXPORT_FORMATS if looks_like(first)), None)


def detect_format(path: Path) -> str:
    """Guess the format from the content: a JSON array of MAST records, JSON Lines, an OTLP export, or text."""
    head = _sniff(path)
    if not head and path.stat().st_size <= 4096:
        raise fail(path, "the file is empty (only white space)")
    if head.startswith(ag2log.SQLITE_MAGIC):
        if ag2log.is_ag2_log(path):
            return "ag2-log"
        raise fail(path, "an SQLite database, but not an AG2 runtime log (use --format to say which)")
    span_format = _span_format(path, head) or _export_format(path, head)
    if span_format:
        return span_format
    if head.startswith(b"["):
        item = first_item(path)
        if isinstance(item, dict) and "annotations" in item and "trace" in item:
            return "mad-human"
        if isinstance(item, dict) and ("mast_annotation" in item or isinstance(item.get("trace"), dict)):
            return "mad"
        raise fail(path, "a JSON array, but not of a known record shape (use --format to say which)")
    if head.startswith(b"{"):
        pretty = head.split(b"\n", 1)[0].strip() == b"{"  # one JSON object over many lines, not JSON Lines
        return "who-and-when" if pretty and b'"history"' in head else "jsonl"
    return "text"


def _check_file(path: Path) -> None:
    if not path.exists():
        raise fail(path, "no such file")
    if path.is_dir():
        raise fail(path, "is a directory, not a file (give the files inside it, or a dataset folder with "
                   "--format who-and-when or agentrx)")
    if path.stat().st_size == 0:
        raise fail(path, "the file is empty")


def build_segments(record: TraceRecord, scheme: str) -> list[store.SegmentInput]:
    """The whole-trace segment (where trace-level labels live) plus the scheme's segments."""
    whole = store.SegmentInput("trace", 0, "trace", 0, len(record.text), queued=(scheme == "trace"))
    out = [whole]
    if scheme != "trace":
        out += _scheme_segments(record, scheme, queued=True)
    if record.whole_turns and scheme != "turn":  # localisation steps index the turns: keep them, unqueued
        out += _scheme_segments(record, "turn", queued=False)
    return out


def _scheme_segments(record: TraceRecord, scheme: str, *, queued: bool) -> list[store.SegmentInput]:
    # Step-level datasets number their messages: one segment per message, however long, so that
    # segment idx under 'turn' is the dataset's step.
    limit = max(len(record.text), 1) if record.whole_turns else 20_000
    parts = segment_trace(record.text, scheme, turns=record.turns, max_chars=limit)
    return [store.SegmentInput(scheme, s.index, s.kind, s.start, s.end, s.speaker, queued=queued,
                               recipient=s.recipient, meta=s.meta) for s in parts]


class _Importer:
    """State for one file's import: taxonomy cache, seen bodies, counters."""

    def __init__(self, db: sqlite_utils.Database, path: Path, result: ImportResult, tags: dict, max_chars: int):
        self.db, self.path, self.result, self.tags, self.max_chars = db, path, result, tags, max_chars
        self.taxonomies: dict[str, store.StoredTaxonomy] = {}
        self.bodies: dict[str, str] = {}

    def taxonomy(self, ref: str, record: TraceRecord) -> store.StoredTaxonomy:
        if ref not in self.taxonomies:
            self.taxonomies[ref] = self._find_or_install(ref, record)
        return self.taxonomies[ref]

    def _find_or_install(self, ref: str, record: TraceRecord) -> store.StoredTaxonomy:
        """A stored taxonomy; a built-in one (mast) is installed on first use rather than refused."""
        try:
            return store.get_taxonomy(self.db, ref)
        except store.StoreError:
            pass
        name, version = parse_ref(ref)
        builtin = load_taxonomy(name) if name in BUILTIN_TAXONOMIES else None
        if builtin is None or version not in (None, builtin.version):
            raise fail(self.path, f"labels refer to unknown taxonomy {ref!r} (add it with 'annotator init "
                       "--taxonomy PATH')", record=record.where, record_id=record.external_id)
        store.save_taxonomy(self.db, builtin)
        return store.get_taxonomy(self.db, ref)

    def add_taxonomy(self, taxonomy: Taxonomy) -> None:
        if not store.taxonomy_exists(self.db, taxonomy.ref):
            self.result.taxonomies_added.append(taxonomy.ref)
        store.save_taxonomy(self.db, taxonomy)
        if taxonomy.name == "mast" and taxonomy.is_draft:
            self.taxonomy(mad_human.FINAL, TraceRecord(-1, "", ""))
            store.save_mapping(self.db, _draft_mapping(taxonomy))

    def add_record(self, record: TraceRecord, scheme: str) -> None:
        if len(record.text) > self.max_chars:
            raise fail(self.path, f"trace is {len(record.text) / 1e6:.1f}M characters, over the limit of "
                       f"{self.max_chars / 1e6:.1f}M (raise --max-trace-mb or split the trace)",
                       record=record.where, record_id=record.external_id)
        digest = store.content_hash(record.text)
        pair = (self.bodies.get(digest, record.external_id), record.external_id)
        if pair[0] != pair[1] and pair not in self.result.duplicates:  # one trace's records repeat its body
            self.result.duplicates.append(pair)
        self.bodies.setdefault(digest, record.external_id)
        trace = store.TraceInput(
            external_id=record.external_id, text=record.text, source=str(self.path), format=self.result.format,
            framework=record.framework, benchmark=record.benchmark, llm=record.llm,
            tags={**record.tags, **self.tags}, segments=build_segments(record, scheme),
        )
        trace_id, added = store.insert_trace(self.db, trace)
        self.result.traces_seen += 1
        self.result.traces_added += int(added)
        segment_id = store.trace_segment_id(self.db, trace_id)
        for localisation in record.localisations:
            self.result.localisations_added += write_localisation(self.db, trace_id, localisation)
        for labels in record.labels:
            self.result.labels_added += self.write_labels(record, segment_id, labels)

    def write_labels(self, record: TraceRecord, segment_id: int, labels: RecordLabels) -> int:
        stored = self.taxonomy(labels.taxonomy, record)
        unknown = sorted(set(labels.values) - set(stored.mode_ids))
        if unknown:
            raise fail(self.path, f"labels of {labels.rater} for unknown mode(s) {', '.join(unknown)} "
                       f"(not in {stored.taxonomy.ref})", record=record.where, record_id=record.external_id)
        rater_id = store.ensure_rater(self.db, labels.rater, labels.kind)
        values = {stored.mode_ids[code]: value for code, value in labels.values.items()}
        ids = stored.mode_ids
        return store.write_labels(self.db, store.LabelWrite(
            segment_id, rater_id, stored.id, values,
            rationales={ids[c]: t for c, t in labels.rationales.items() if c in ids} or None,
            evidence={ids[c]: t for c, t in labels.evidence.items() if c in ids} or None))


def write_localisation(db: sqlite_utils.Database, trace_id: int, localisation: RecordLocalisation) -> int:
    """A dataset's localisation, as its reference rater's answer; 1 if it was new or changed."""
    rater_id = store.ensure_rater(db, localisation.rater, "reference")
    return int(store.write_answer(db, trace_id, rater_id, localisation.failures, note=localisation.note))


def _draft_mapping(taxonomy: Taxonomy):
    draft = taxonomy.version.removeprefix("draft-")
    return mad_human.load_mast_draft_mappings()[draft]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_scheme(fmt: str) -> str:
    """How a format is segmented when --segment is not given: span formats per turn, the others whole."""
    return "turn" if fmt in TURN_FORMATS else "trace"


def import_file(db: sqlite_utils.Database, path: str | Path, *, fmt: str = "auto", scheme: str | None = None,
                tags: dict[str, str] | None = None, max_trace_mb: float = DEFAULT_MAX_TRACE_MB,
                group: str = "trace", ground_truth: str | Path | None = None) -> ImportResult:
    """Import one file, all or nothing. Importing the same content again adds nothing.

    `scheme` None is the format's default (see default_scheme); `group` ("trace" or "session") is how
    span formats gather spans into traces.

    Raises IngestError (one line: file, record, reason), or FileAccessError when the file cannot be read,
    and leaves the database as it was.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise IngestError(f"{path}: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if scheme is not None:
        try:
            parse_scheme(scheme)
        except OptionError as exc:
            raise IngestError(f"--segment {scheme!r}: {exc}") from None
    try:
        if fmt == "auto":  # detected here: a step-level dataset takes its own path
            _check_file(path)
            fmt = detect_format(path)
        if (ground_truth is not None) != (fmt == "agentrx"):
            raise IngestError("--ground-truth FILE goes with --format agentrx (and only with it)")
        if fmt in STEP_FORMATS:
            truth = Path(ground_truth) if ground_truth is not None else None
            return _import_steps(db, path, fmt, scheme or default_scheme(fmt), dict(tags or {}),
                                 int(max_trace_mb * 1_000_000), truth)
        return _import(db, path, fmt, scheme, dict(tags or {}), int(max_trace_mb * 1_000_000), group)
    except OSError as exc:  # unreadable, vanished, a special file...: the file is at fault, not the code
        raise file_error(path, exc) from exc


def _add_record(importer: _Importer, record: TraceRecord, scheme: str) -> None:
    try:
        importer.add_record(record, scheme)
    except UnicodeEncodeError as exc:  # JSON's "\ud800" escape decodes to a lone surrogate SQLite cannot store
        bad = exc.object[exc.start:exc.end].encode("utf-8", "backslashreplace").decode()
        shown_id = record.external_id.encode("utf-8", "backslashreplace").decode()
        raise fail(importer.path, f"text with a lone surrogate ({bad}), which is not valid Unicode",
                   record=record.where, record_id=shown_id) from None


def _import_steps(db: sqlite_utils.Database, path: Path, fmt: str, scheme: str, tags: dict[str, str],
                  max_chars: int, ground_truth: Path | None) -> ImportResult:
    """A step-level dataset: read and checked whole, then written in one transaction."""
    dataset = stepimport.read_dataset(path, fmt, ground_truth)
    result = ImportResult(path=str(path), format=fmt, scheme=scheme)
    importer = _Importer(db, path, result, tags, max_chars)
    with store.write(db):
        for record in dataset.records:
            _add_record(importer, record, scheme)
        store.record_import(db, path=str(path), sha256=dataset.digest(_sha256), fmt=fmt, scheme=scheme,
                            traces_added=result.traces_added, labels_added=result.localisations_added)
    result.warnings = dict(dataset.warnings.counts)
    result.warning_examples = dict(dataset.warnings.examples)
    result.mapped_spellings = [(s, c, n) for (s, c), n in sorted(dataset.categories.mapped.items())]
    return result


def _import(db: sqlite_utils.Database, path: Path, fmt: str, scheme: str | None, tags: dict[str, str],
            max_chars: int, group: str) -> ImportResult:
    _check_file(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    scheme = scheme or default_scheme(fmt)
    result = ImportResult(path=str(path), format=fmt, scheme=scheme)
    importer = _Importer(db, path, result, tags, max_chars)
    items = READERS[fmt](path, group=group) if fmt in SPAN_FORMATS else READERS[fmt](path)
    with store.write(db):
        _write_items(importer, items, scheme)
        store.record_import(db, path=str(path), sha256=_sha256(path), fmt=fmt, scheme=scheme,
                            traces_added=result.traces_added, labels_added=result.labels_added)
    return result


def _write_items(importer: _Importer, items, scheme: str) -> None:
    result = importer.result
    for item in items:
        if isinstance(item, Taxonomy):
            importer.add_taxonomy(item)
        elif isinstance(item, ImportNote):
            result.notes[item.text] = result.notes.get(item.text, 0) + item.count
        else:
            _add_record(importer, item, scheme)


def store_records(db: sqlite_utils.Database, records: list[TraceRecord | ImportNote], *, source: str, fmt: str,
                  scheme: str | None = None, max_trace_mb: float = DEFAULT_MAX_TRACE_MB) -> ImportResult:
    """Write records that come from no file (live collection) as import_file writes a file's: all or nothing,
    in the caller's transaction if there is one. Raises IngestError naming `source` and the record."""
    scheme = scheme or default_scheme(fmt)
    result = ImportResult(path=source, format=fmt, scheme=scheme)
    importer = _Importer(db, Path(source), result, {}, int(max_trace_mb * 1_000_000))
    with store.write(db):
        _write_items(importer, records, scheme)
    return result
