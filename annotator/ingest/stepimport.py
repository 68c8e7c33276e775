"""Read a step-level dataset (Who&When, AgentRx) whole: every file read and checked before anything is written.

A folder is one import (the loader writes it in one transaction): nothing is written unless every file
and every ground-truth record is good.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from annotator.ingest import agentrx, whowhen
from annotator.ingest.records import TraceRecord, fail
from annotator.ingest.steps import Warnings


@dataclass
class Dataset:
    records: list[TraceRecord]
    files: list[Path]  # every file read, for the import's checksum
    warnings: Warnings
    categories: agentrx.Categories

    def digest(self, file_sha256: Callable[[Path], str]) -> str:
        """One checksum for a folder import: the files' names and contents, in order."""
        digest = hashlib.sha256()
        for file in self.files:
            digest.update(f"{file.name}\0{file_sha256(file)}\n".encode())
        return digest.hexdigest()


def read_dataset(path: Path, fmt: str, ground_truth: Path | None) -> Dataset:
    """All records of the dataset at ``path`` (a folder, or one Who&When file)."""
    if not path.exists():
        raise fail(path, "no such file or folder")
    warnings, categories = Warnings(), agentrx.Categories()
    if fmt == "agentrx":
        if not path.is_dir():
            raise fail(path, "--format agentrx takes the folder of trajectory files")
        assert ground_truth is not None
        records = list(agentrx.read(path, ground_truth, warnings, categories))
        files = whowhen.json_files(path) + [ground_truth]
    else:
        records = list(whowhen.read(path, warnings))
        files = whowhen.json_files(path)
    return Dataset(records, files, warnings, categories)
