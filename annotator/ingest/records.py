"""What every reader yields: parsed traces with their labels, before anything touches the database."""

from __future__ import annotations

from dataclasses import dataclass, field

from annotator.core.errors import UserError
from annotator.core.segments import Turn


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


@dataclass
class RecordLabels:
    """One rater's labels for a whole trace under one taxonomy version (code -> 0/1)."""

    rater: str
    kind: str  # human | judge
    taxonomy: str  # NAME@VERSION
    values: dict[str, int]


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

    @property
    def where(self) -> str:
        return self.locator or f"record {self.index}"
