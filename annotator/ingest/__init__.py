"""Importers: MAST human file (`mad-human`), MAST LLM-labelled file (`mad`), JSON Lines, plain text."""

from annotator.ingest.loader import FORMATS, ImportResult, detect_format, import_file
from annotator.ingest.records import IngestError

__all__ = ["FORMATS", "ImportResult", "IngestError", "detect_format", "import_file"]
