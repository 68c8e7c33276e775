"""Shared fixtures. Every test gets its own database path and never touches the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

REPO = Path(__file__).resolve().parent.parent
MAST_HUMAN = REPO.parent / "shared" / "datasets" / "mast" / "MAD_human_labelled_dataset.json"


@pytest.fixture(autouse=True)
def _isolated_db(tmp_path, monkeypatch):
    """Point the default database at a temporary file so no test writes ./annotator.db."""
    monkeypatch.setenv("ANNOTATOR_DB", str(tmp_path / "annotator.db"))
    yield


@pytest.fixture
def mast_human_path() -> Path:
    """The real MAST human-labelled file from ../shared (skips with a reason where it is absent)."""
    if not MAST_HUMAN.is_file():
        pytest.skip(f"real data not found at {MAST_HUMAN} (CI has ../shared beside the checkout)")
    return MAST_HUMAN
