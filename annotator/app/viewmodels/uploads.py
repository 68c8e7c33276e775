"""Importing uploaded files from the Data page: same importers and errors as `annotator import`.

No Streamlit here. An upload is written to a temporary file first (the importers read paths), and
error messages name the uploaded file, not the temporary path.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import sqlite_utils

from annotator import store
from annotator.core.errors import OptionError, UserError

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def parse_tags(text: str) -> dict[str, str]:
    """`round=2, batch=a` (commas or new lines) -> {"round": "2", "batch": "a"}."""
    tags: dict[str, str] = {}
    for item in re.split(r"[,\n]", text or ""):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise OptionError(f"tag {item.strip()!r} is not KEY=VALUE")
        tags[key.strip()] = value.strip()
    return tags


def import_upload(db: sqlite_utils.Database, name: str, data: bytes, *, fmt: str = "auto", scheme: str | None = None,
                  tags: dict[str, str] | None = None, actor: store.User):
    """Import one uploaded file, all or nothing; return its ImportResult. Raises IngestError naming `name`.
    `scheme` None is the format's default, as on the command line. Only an admin may import (RefusedError
    otherwise)."""
    from annotator.ingest import IngestError, import_file  # the importers load only when a file comes

    store.require(actor, "admin", "import files")

    safe = _SAFE_NAME.sub("_", Path(name).name).strip("._") or "upload"
    with tempfile.TemporaryDirectory(prefix="annotator-upload-") as tmp:
        path = Path(tmp) / safe
        path.write_bytes(data)
        try:
            result = import_file(db, path, fmt=fmt, scheme=scheme, tags=tags)
        except UserError as exc:  # a bug keeps its traceback
            raise IngestError(str(exc).replace(str(path), name)) from None
    result.path = name
    return result
