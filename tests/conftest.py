"""Every fixture shared by more than one test module, and the isolation every test gets.

Plain helper functions live in the modules beside this file (helpers, app_helpers, judge_helpers,
agreement_support, llm_server); pyproject puts this folder on sys.path, so tests import them by module
name. The package under test is the installed `annotator`, never the checkout's folder by path.
"""

from __future__ import annotations

import os

import pytest
from app_helpers import make_app_db
from helpers import MAST_HUMAN
from judge_helpers import MAST_CODES, make_judge_db
from llm_server import LLMServer
from queue_scenario import add_judge_and_people

from annotator import store

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm never fetches its price list


def pytest_report_header() -> str:
    """Say which annotator is under test: the installed package, or the checkout it is installed from."""
    import annotator

    return f"annotator under test: {os.path.dirname(annotator.__file__)}"


@pytest.fixture(autouse=True)
def _isolated_db(tmp_path, monkeypatch):
    """Point the default database at a temporary file so no test writes ./annotator.db."""
    monkeypatch.setenv("ANNOTATOR_DB", str(tmp_path / "annotator.db"))


@pytest.fixture
def mast_human_path():
    """The real MAST human-labelled file from ../shared (skips with a reason where it is absent)."""
    if not MAST_HUMAN.is_file():
        pytest.skip(f"real data not found at {MAST_HUMAN} (CI has ../shared beside the checkout)")
    return MAST_HUMAN


# --------------------------------------------------------------------------------------------------
# The judge: a local OpenAI-compatible server, and small databases to judge

@pytest.fixture
def llm_server():
    """A scripted chat server on 127.0.0.1 (free port) that counts every request."""
    server = LLMServer(MAST_CODES, hang_s=3.0).start()
    yield server
    server.stop()


@pytest.fixture
def judge_db(tmp_path):
    """Factory: judge_db(texts) -> (db, segment ids), one queued whole-trace segment per text."""
    def build(texts: list[str], name: str = "judge.db"):
        return make_judge_db(tmp_path / name, texts)
    return build


# --------------------------------------------------------------------------------------------------
# The web app: a small database with four users, as $ANNOTATOR_DB

@pytest.fixture
def app_tokens(request, tmp_path, monkeypatch):
    """A small app database as $ANNOTATOR_DB; returns the users' tokens (alice and bob annotators, rita
    reviewer, lead admin). 2 traces x 3 turns, k=2, unless the module or test says otherwise with
    `@pytest.mark.app_db(traces=..., turns=..., k=...)`."""
    marker = request.node.get_closest_marker("app_db")
    shape = {"traces": 2, "turns": 3, "k": 2, **(marker.kwargs if marker else {})}
    path = tmp_path / "app.db"
    monkeypatch.setenv("ANNOTATOR_DB", str(path))
    return make_app_db(path, **shape)


@pytest.fixture
def judged(app_db):
    """The app database with the judge-uncertain scenario of queue_scenario (a judge's samples, three people)."""
    add_judge_and_people(app_db)
    return app_db


@pytest.fixture
def app_db(app_tokens):
    """An open connection to the app database of `app_tokens`."""
    conn = store.connect(store.default_path())
    yield conn
    conn.conn.close()
