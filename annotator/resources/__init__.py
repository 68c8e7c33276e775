"""The data files the tool ships: taxonomies, judge prompts and the demo data set.

They are read through :mod:`importlib.resources`, so an installed wheel finds them exactly as a
checkout does. Nothing here is imported for its code; this module only names the files.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """A shipped file or folder as a path on disk.

    pip, pipx and uv install packages as plain files, so the path is the file itself; callers hand it
    to code that wants a real path (the importers, the prompt loader). A zipped install has no such
    path and is refused in one line rather than half-working.
    """
    item = files(__name__).joinpath(*parts)
    if not isinstance(item, Path):
        raise RuntimeError(f"annotator resources are inside an archive ({item}); install the package as files")
    return item


TAXONOMY_DIR = resource_path("taxonomies")
PROMPTS_DIR = resource_path("prompts")
DEMO_DIR = resource_path("demo")
LOCALISATION_DIR = resource_path("localisation")
