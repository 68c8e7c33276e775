"""Localisation labels: the store's answers, the service's checks and roles, promotion to gold."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import db_fingerprint, run_cli

from annotator import store
from annotator.core.errors import NotFoundError
from annotator.ingest import import_file
from annotator.services import localise
from annotator.store.users import User

WHO = Path(__file__).parent / "data" / "who_and_when"


@pytest.fixture
def loaded(tmp_path):
    db = store.connect(tmp_path / "l.db")
    import_file(db, WHO / "Hand-Crafted", fmt="who-and-when", scheme="turn")
    trace = db.execute("SELECT id FROM traces WHERE external_id = '1.json'").fetchone()[0]
    return db, trace


def _user(db, name, role):
    store.add_user(db, name, role=role)
    return next(u for u in store.list_users(db) if u.name == name)


def test_answers_replace_and_no_error_is_explicit(loaded):
    db, trace = loaded
    ann = _user(db, "ann", "annotator")
    assert localise.answer_of(db, ann.rater_id, trace) is None  # not answered
    localise.save_answer(db, ann, trace, [store.Failure(3, "Orchestrator")])
    answer = localise.answer_of(db, ann.rater_id, trace)
    assert answer.status == "localised" and answer.root_cause == store.Failure(3, "Orchestrator", is_root_cause=True)
    localise.save_answer(db, ann, trace, [], note="the task was impossible")
    answer = localise.answer_of(db, ann.rater_id, trace)
    assert (answer.status, answer.failures, answer.note) == ("no_error", (), "the task was impossible")
    two = [store.Failure(1, "Orchestrator", mode="1.1"), store.Failure(3, "Orchestrator", is_root_cause=True)]
    localise.save_answer(db, ann, trace, two)
    assert [f.step for f in localise.answer_of(db, ann.rater_id, trace).failures] == [1, 3]
    localise.clear_answer(db, ann, trace)
    assert localise.answer_of(db, ann.rater_id, trace) is None


@pytest.mark.parametrize(("failures", "message"), [
    ([store.Failure(7, "Orchestrator")], "step 7 is not a turn of the trace (0 to 6)"),
    ([store.Failure(2, "Nobody")], "agent 'Nobody' never speaks in the trace"),
    ([store.Failure(1, "Orchestrator"), store.Failure(2, "WebSurfer")], "mark exactly one failure as the root cause (0"),
    ([store.Failure(1, "Orchestrator", is_root_cause=True), store.Failure(2, "WebSurfer", is_root_cause=True)],
     "(2 marked)"),
])
def test_bad_answers_are_refused_and_change_nothing(loaded, tmp_path, failures, message):
    db, trace = loaded
    ann = _user(db, "ann", "annotator")
    before = db_fingerprint(tmp_path / "l.db")
    with pytest.raises(localise.LocaliseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        localise.save_answer(db, ann, trace, failures)
    assert db_fingerprint(tmp_path / "l.db") == before


def test_roles(loaded):
    db, trace = loaded
    ann = _user(db, "ann", "annotator")
    with pytest.raises(localise.LocaliseError, match="may not set gold"):
        localise.adjudicate(db, ann, trace, [store.Failure(3, "Orchestrator")])
    gone = User(ann.id, ann.name, ann.role, ann.rater_id, active=False)
    with pytest.raises(localise.LocaliseError, match="may not label"):
        localise.save_answer(db, gone, trace, [])
    with pytest.raises(NotFoundError):
        localise.save_answer(db, ann, 999, [])


def test_promote_reference_to_gold_keeps_adjudicated(loaded):
    db, trace = loaded
    rita = _user(db, "rita", "reviewer")
    localise.adjudicate(db, rita, trace, [store.Failure(2, "WebSurfer")])
    result = localise.promote_to_gold(db, "who-and-when")
    assert (result.written, result.kept_adjudicated) == (1, 1)
    gold = {a.trace_id: a for a in store.load_answers(db, raters=["gold"])}
    assert gold[trace].provenance == "adjudicated" and gold[trace].root_cause.step == 2
    other = next(t for t in gold if t != trace)
    assert (gold[other].provenance, gold[other].source) == ("imported", "who-and-when")
    assert localise.promote_to_gold(db, "who-and-when").written == 0  # idempotent


def test_cli_gold_promote(tmp_path):
    db_path = tmp_path / "p.db"
    run_cli("import", str(WHO), "--format", "who-and-when", db=db_path)
    result = run_cli("gold", "promote", "--from", "who-and-when", db=db_path)
    assert result.exit_code == 0 and "3 localisations promoted to gold" in result.output
    unknown = run_cli("gold", "promote", "--from", "nobody", db=db_path)
    assert unknown.exit_code == 1 and "no rater named 'nobody'" in unknown.output
