"""Importing the step-level datasets (Who&When, AgentRx): turns, speakers, reference localisations, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import db_fingerprint, run_cli

from annotator import store
from annotator.ingest import IngestError, detect_format, import_file

DATA = Path(__file__).parent / "data"
WHO = DATA / "who_and_when"
RX = DATA / "agentrx"


@pytest.fixture
def db(tmp_path):
    return store.connect(tmp_path / "a.db")


def _turns(db, external_id, subset=None):
    sql = ("SELECT s.idx, s.speaker, s.recipient, substr(t.text, s.start + 1, s.\"end\" - s.start) FROM segments s"
           " JOIN traces t ON t.id = s.trace_id WHERE t.external_id = ? AND s.scheme = 'turn'")
    args = [external_id]
    if subset:
        sql += " AND t.id IN (SELECT trace_id FROM trace_tags WHERE key = 'subset' AND value = ?)"
        args.append(subset)
    return db.execute(sql + " ORDER BY s.idx", args).fetchall()


def _trace_id(db, external_id, subset):
    return db.execute("SELECT t.id FROM traces t JOIN trace_tags g ON g.trace_id = t.id AND g.key = 'subset'"
                      " WHERE t.external_id = ? AND g.value = ?", [external_id, subset]).fetchone()[0]


def test_who_and_when_one_turn_per_history_entry_with_speakers(db):
    result = import_file(db, WHO, fmt="who-and-when", scheme="turn")
    assert (result.traces_added, result.localisations_added) == (3, 3)
    raw = json.loads((WHO / "Hand-Crafted" / "1.json").read_text())
    turns = _turns(db, "1.json", "Hand-Crafted")
    assert len(turns) == len(raw["history"])
    # Written out by hand from the file: speaker = the role's agent part, recipient after "->".
    assert [(t[1], t[2]) for t in turns] == [
        ("Orchestrator", None), ("Orchestrator", "WebSurfer"), ("WebSurfer", None), ("Orchestrator", None),
        ("Orchestrator", "WebSurfer"), ("WebSurfer", None), ("Orchestrator", None)]
    for (_, _, _, text), entry in zip(turns, raw["history"]):
        assert entry["content"] in text
    named = _turns(db, "1.json", "Algorithm-Generated")
    assert [t[1] for t in named] == ["Excel_Expert", "Computer_terminal", "DataVerification_Expert",
                                     "DataVerification_Expert"]


def test_who_and_when_reference_rater_and_tags(db):
    import_file(db, WHO, fmt="who-and-when", scheme="turn")
    assert store.get_rater(db, "who-and-when").kind == "reference"
    answers = {(a.trace_id): a for a in store.load_answers(db, raters=["who-and-when"])}
    hand = answers[_trace_id(db, "1.json", "Hand-Crafted")]
    assert hand.status == "localised"
    assert [(f.step, f.agent, f.is_root_cause) for f in hand.failures] == [(3, "Orchestrator", True)]
    assert hand.failures[0].note.startswith("Counted every album")
    algo = answers[_trace_id(db, "1.json", "Algorithm-Generated")]
    assert [(f.step, f.agent) for f in algo.failures] == [(2, "DataVerification_Expert")]
    tags = dict(db.execute("SELECT key, value FROM trace_tags WHERE trace_id = ?",
                           [_trace_id(db, "2.json", "Hand-Crafted")]).fetchall())
    assert tags["subset"] == "Hand-Crafted" and tags["question_id"] == "q-hc-2" and tags["level"] == "1"
    meta = db.execute("SELECT meta FROM segments WHERE trace_id = ? AND scheme = 'turn' AND idx = 0",
                      [_trace_id(db, "2.json", "Hand-Crafted")]).fetchone()[0]
    assert json.loads(meta)["question"] == "What is the file's checksum?"
    # The dataset's labels are not gold and not mode labels.
    assert db.execute("SELECT COUNT(*) FROM gold").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 0


def test_who_and_when_single_file_default_trace_scheme_keeps_turns(db):
    import_file(db, WHO / "Hand-Crafted" / "2.json", fmt="who-and-when", scheme="trace")
    assert len(_turns(db, "2.json")) == 4
    queued = db.execute("SELECT scheme, queued FROM segments GROUP BY scheme").fetchall()
    assert dict(queued) == {"trace": 1, "turn": 0}
    assert detect_format(WHO / "Hand-Crafted" / "2.json") == "who-and-when"


def test_reimport_adds_nothing(db):
    import_file(db, WHO, fmt="who-and-when", scheme="turn")
    again = import_file(db, WHO, fmt="who-and-when", scheme="turn")
    assert (again.traces_added, again.localisations_added) == (0, 0)


def test_agentrx_failures_root_cause_and_category_spellings(db):
    result = import_file(db, RX / "trajectories", fmt="agentrx", scheme="turn", ground_truth=RX / "ground_truth.json")
    assert result.traces_added == 3  # every trajectory file is a trace, with or without ground truth
    assert result.localisations_added == 2
    assert result.mapped_spellings == [("Instruction Adherence Failure", "Instruction/Plan Adherence Failure", 1)]
    answers = {db.execute("SELECT external_id FROM traces WHERE id = ?", [a.trace_id]).fetchone()[0]: a
               for a in store.load_answers(db, raters=["agentrx"])}
    assert set(answers) == {"tau-001", "flash-007"}
    tau = answers["tau-001"]
    # step_number is 1-based: 5 and 6 are turns 4 and 5.
    assert [(f.step, f.agent, f.mode, f.is_root_cause) for f in tau.failures] == [
        (4, "Orchestrator", "Misinterpretation of Tool Output", True),
        (5, "Orchestrator", "Instruction/Plan Adherence Failure", False)]
    assert tau.root_cause.step == 4
    assert answers["flash-007"].root_cause.step == 3
    assert [t[1] for t in _turns(db, "tau-001")] == ["user", "Orchestrator", "Orchestrator", "Coder",
                                                     "Orchestrator", "Orchestrator"]
    assert store.get_rater(db, "agentrx").kind == "reference"


def _copy_rx(tmp_path) -> tuple[Path, Path]:
    folder = tmp_path / "rx"
    shutil.copytree(RX, folder)
    return folder / "trajectories", folder / "ground_truth.json"


def _edit_truth(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _who_copy(tmp_path, change) -> Path:
    folder = tmp_path / "who"
    shutil.copytree(WHO, folder)
    target = folder / "Hand-Crafted" / "2.json"
    data = json.loads(target.read_text())
    change(data)
    target.write_text(json.dumps(data))
    return folder


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(mistake_step="two"), "2.json: mistake_step must be a whole number, not 'two'"),
    (lambda d: d.update(mistake_step="4"), "2.json: mistake_step 4 is out of range (the trace has 4 steps"),
    (lambda d: d.update(mistake_step="-1"), "mistake_step -1 is out of range"),
    (lambda d: d.pop("mistake_agent"), "2.json: field 'mistake_agent' must be an agent's name, not null"),
    (lambda d: d.update(history=[]), "2.json: field 'history' must be a non-empty list"),
    (lambda d: d["history"][1].update(role=7), "2.json: history[1].role must be text, not a number"),
])
def test_who_and_when_bad_input_is_one_line_and_changes_nothing(tmp_path, change, message):
    path = tmp_path / "a.db"
    store.connect(path).close()
    before = db_fingerprint(path)
    folder = _who_copy(tmp_path, change)
    with pytest.raises(IngestError) as err:
        import_file(store.connect(path), folder, fmt="who-and-when")
    assert message in str(err.value) and "\n" not in str(err.value)
    assert db_fingerprint(path) == before


def test_agent_that_never_speaks_is_a_counted_warning(db, tmp_path):
    folder = _who_copy(tmp_path, lambda d: d.update(mistake_agent="Nobody"))
    result = import_file(db, folder, fmt="who-and-when")
    assert result.warnings == {"agent never speaks in the trace": 1}
    assert result.warning_examples["agent never speaks in the trace"] == ["2.json"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d[0]["failures"][0].update(failure_category="Cosmic Rays"),
     "ground_truth.json: record 0 (id tau-001): failures[0].failure_category 'Cosmic Rays' is not in"),
    (lambda d: d[0]["failures"][0].update(step_number=0), "failures[0].step_number 0 is out of range"),
    (lambda d: d[1]["failures"][0].update(step_number="3.5"), "failures[0].step_number must be a whole number"),
    (lambda d: d.append({"trajectory_id": "gone-9", "failures": []}),
     "ground_truth.json: record 2 (id gone-9): no trajectory file gone-9.json"),
    (lambda d: d[0]["root_cause"].update(failure_id="F9"), "root_cause.failure_id 'F9' is none of"),
])
def test_agentrx_bad_input_is_one_line_and_changes_nothing(tmp_path, change, message):
    path = tmp_path / "a.db"
    store.connect(path).close()
    before = db_fingerprint(path)
    folder, truth = _copy_rx(tmp_path)
    _edit_truth(truth, change)
    with pytest.raises(IngestError) as err:
        import_file(store.connect(path), folder, fmt="agentrx", ground_truth=truth)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert db_fingerprint(path) == before


def test_cli_import_summary(tmp_path):
    db_path = tmp_path / "c.db"
    folder, truth = _copy_rx(tmp_path)
    result = run_cli("import", str(folder), "--format", "agentrx", "--ground-truth", str(truth), db=db_path)
    assert result.exit_code == 0, result.output
    assert "3 new of 3 traces" in result.output
    assert ("category spelling mapped: 'Instruction Adherence Failure' -> 'Instruction/Plan Adherence Failure' (1)"
            in result.output)
    missing = run_cli("import", str(folder), "--format", "agentrx", db=db_path)
    assert missing.exit_code == 1 and "--ground-truth FILE goes with --format agentrx" in missing.output
    folder_auto = run_cli("import", str(WHO), db=db_path)
    assert folder_auto.exit_code == 1 and "--format who-and-when or agentrx" in folder_auto.output


def test_migration_m007_keeps_raters_and_their_labels(tmp_path):
    """From the m006 schema: raters rebuilt for kind 'reference', every row and reference kept."""
    import sqlite3

    import sqlite_utils

    from annotator.store.schema import migrations

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys=ON")
    old = sqlite_utils.Database(conn)
    migrations.apply(old, stop_before="m007_localisations")
    with pytest.raises(sqlite3.IntegrityError):  # the old CHECK refuses the new kind
        conn.execute("INSERT INTO raters (name, kind, created_at) VALUES ('x', 'reference', 'now')")
    conn.rollback()
    rater_id = store.ensure_rater(old, "ann", "human")
    user_token = store.add_user(old, "ann2", role="annotator")
    conn.close()
    db = store.connect(path)
    assert store.get_rater(db, "ann").id == rater_id
    assert store.user_for_token(db, user_token) is not None
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert store.ensure_rater(db, "who-and-when", "reference") > rater_id
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO raters (name, kind, created_at) VALUES ('y', 'robot', 'now')")
