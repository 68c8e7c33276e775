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
from annotator.ingest import jsonl, mad, mad_human, text
from annotator.ingest.jsonstream import first_item
from annotator.ingest.records import IngestError, RecordLabels, TraceRecord, fail

FORMATS = ("auto", "mad-human", "mad", "jsonl", "text")
READERS = {"mad-human": mad_human.read, "mad": mad.read, "jsonl": jsonl.read, "text": text.read}
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


def _sniff(path: Path) -> bytes:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")


def detect_format(path: Path) -> str:
    """Guess the format from the content: a JSON array of MAST records, JSON Lines, or plain text."""
    head = _sniff(path)
    if not head and path.stat().st_size <= 4096:
        raise fail(path, "the file is empty (only white space)")
    if head.startswith(b"["):
        item = first_item(path)
        if isinstance(item, dict) and "annotations" in item and "trace" in item:
            return "mad-human"
        if isinstance(item, dict) and ("mast_annotation" in item or isinstance(item.get("trace"), dict)):
            return "mad"
        raise fail(path, "a JSON array, but not of a known record shape (use --format to say which)")
    if head.startswith(b"{"):
        return "jsonl"
    return "text"


def _check_file(path: Path) -> None:
    if not path.exists():
        raise fail(path, "no such file")
    if path.is_dir():
        raise fail(path, "is a directory, not a file (give the files inside it)")
    if path.stat().st_size == 0:
        raise fail(path, "the file is empty")


def build_segments(record: TraceRecord, scheme: str) -> list[store.SegmentInput]:
    """The whole-trace segment (where trace-level labels live) plus the scheme's segments."""
    whole = store.SegmentInput("trace", 0, "trace", 0, len(record.text), queued=(scheme == "trace"))
    if scheme == "trace":
        return [whole]
    parts = segment_trace(record.text, scheme, turns=record.turns)
    return [whole] + [store.SegmentInput(scheme, s.index, s.kind, s.start, s.end, s.speaker,
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
        if digest in self.bodies:
            self.result.duplicates.append((self.bodies[digest], record.external_id))
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
        return store.write_labels(self.db, store.LabelWrite(segment_id, rater_id, stored.id, values))


def _draft_mapping(taxonomy: Taxonomy):
    draft = taxonomy.version.removeprefix("draft-")
    return mad_human.load_mast_draft_mappings()[draft]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_file(db: sqlite_utils.Database, path: str | Path, *, fmt: str = "auto", scheme: str = "trace",
                tags: dict[str, str] | None = None, max_trace_mb: float = DEFAULT_MAX_TRACE_MB) -> ImportResult:
    """Import one file, all or nothing. Importing the same content again adds nothing.

    Raises IngestError (one line: file, record, reason), or FileAccessError when the file cannot be read,
    and leaves the database as it was.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise IngestError(f"{path}: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    try:
        parse_scheme(scheme)
    except OptionError as exc:
        raise IngestError(f"--segment {scheme!r}: {exc}") from None
    try:
        return _import(db, path, fmt, scheme, dict(tags or {}), int(max_trace_mb * 1_000_000))
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


def _import(db: sqlite_utils.Database, path: Path, fmt: str, scheme: str, tags: dict[str, str],
            max_chars: int) -> ImportResult:
    _check_file(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    result = ImportResult(path=str(path), format=fmt, scheme=scheme)
    importer = _Importer(db, path, result, tags, max_chars)
    with store.write(db):
        for item in READERS[fmt](path):
            if isinstance(item, Taxonomy):
                importer.add_taxonomy(item)
            else:
                _add_record(importer, item, scheme)
        store.record_import(db, path=str(path), sha256=_sha256(path), fmt=fmt, scheme=scheme,
                            traces_added=result.traces_added, labels_added=result.labels_added)
    return result
