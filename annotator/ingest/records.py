"""What every reader yields: parsed traces with their labels, before anything touches the database."""

from __future__ import annotations

from dataclasses import dataclass, field

from annotator.core.errors import UserError
from annotator.core.segments import Turn
from annotator.store.localisations import Failure


class IngestError(UserError, ValueError):
    """Bad input. The message is one line naming the file, the record and the reason."""


def fail(path: object, reason: str, *, record: int | str | None = None, record_id: object = None) -> IngestError:
    """Build an IngestError whose message names the file and, where known, the record.

    `record` is an index ("record 3") or a ready locator such as "line 7".
    """
    where = str(path)
    if record is not None:
        where += f": {record}" if isinstance(record, str) else f": record {record}"
        if record_id is not None:
            where += f" (id {record_id})"
    elif record_id is not None:
        where += f": record id {record_id}"
    return IngestError(f"{where}: {' '.join(str(reason).split())}")


def kind_of(value: object) -> str:
    """How a JSON value is named in messages: 'an object', 'a list', 'a number'..."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return "text" if isinstance(value, str) else "null" if value is None else type(value).__name__


def optional_text(path: object, value: object, field: str, *, record: int | str | None = None,
                  record_id: object = None) -> str | None:
    """A field that is text or absent (None); anything else is refused, naming the field.

    Without this an object reaches SQLite and fails there as "Error binding parameter 4".
    """
    if value is None or isinstance(value, str):
        return value
    raise fail(path, f"field {field!r} must be text, not {kind_of(value)}", record=record, record_id=record_id)


def id_part(path: object, value: object, field: str, *, record: int) -> str:
    """A field that names a record (text or a whole number; absent is ''); objects, lists, 1.5 are refused."""
    if value is None:
        return ""
    if isinstance(value, str) or isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise fail(path, f"field {field!r} must be text or a whole number, not {kind_of(value)}", record=record)


def text_fields(path: object, index: int, record_id: str, record: dict, **fields: str) -> dict[str, str | None]:
    """TraceRecord fields read from text fields of the record (named `fields`), checked to be text."""
    return {attr: optional_text(path, record.get(key), key, record=index, record_id=record_id)
            for attr, key in fields.items()}


@dataclass
class RecordLabels:
    """One rater's labels for a whole trace under one taxonomy version (code -> 0/1)."""

    rater: str
    kind: str  # human | judge
    taxonomy: str  # NAME@VERSION
    values: dict[str, int]
    rationales: dict[str, str] = field(default_factory=dict)  # code -> why (where the file says)
    evidence: dict[str, str] = field(default_factory=dict)  # code -> quoted evidence (a judge's)


@dataclass
class RecordLocalisation:
    """A reference rater's localisation of a whole trace; no failures means "no decisive error"."""

    rater: str
    failures: list[Failure]  # step: the 0-based index of the turn (history entry)
    note: str | None = None


@dataclass
class ImportNote:
    """Something a reader repaired or could not read, counted in the import summary (not an error)."""

    text: str
    count: int = 1


@dataclass
class TraceRecord:
    index: int  # position in the file, for error messages
    external_id: str
    text: str
    turns: list[Turn] | None = None  # known turn boundaries (JSON message lists)
    framework: str | None = None
    benchmark: str | None = None
    llm: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    labels: list[RecordLabels] = field(default_factory=list)
    locator: str = ""  # how error messages name this record, e.g. "line 7"; default "record <index>"
    localisations: list[RecordLocalisation] = field(default_factory=list)
    whole_turns: bool = False  # one turn segment per message, never cut (steps index them)

    @property
    def where(self) -> str:
        return self.locator or f"record {self.index}"
