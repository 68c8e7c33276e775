"""Roles below the UI: services that change state check the acting user's role themselves; an audit log of
gold, taxonomy, settings and user changes, readable on the Data page and exported by `export audit`."""

from __future__ import annotations

import csv
import io
import json

import pytest
from app_helpers import add_other_labels
from helpers import run_cli
from judge_helpers import MODEL

from annotator import store
from annotator.core.errors import RefusedError
from annotator.core.refinement import Change
from annotator.services import admin, gold
from annotator.services.refine import refine_taxonomy

pytestmark = pytest.mark.app_db(traces=2, turns=2, k=2)


def user(db, name):
    return next(u for u in store.list_users(db) if u.name == name)


def _dump(db) -> list:
    tables = ("gold", "gold_splits", "settings", "users", "taxonomies", "judge_runs", "traces", "audit_log")
    return [db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables]


def _contested(db) -> int:
    seg = db.execute("SELECT id FROM segments WHERE scheme = 'turn' ORDER BY id LIMIT 1").fetchone()[0]
    add_other_labels(db, seg, "ann_a", {"1.1"})
    add_other_labels(db, seg, "ann_b", {"1.1", "2.2"})
    return seg


def _refused_calls(db, db_path, seg):
    from annotator.app.viewmodels.uploads import import_upload
    from annotator.judge import JudgeOptions, run_judge, start_run_thread

    options = JudgeOptions(model=MODEL, api_base="http://127.0.0.1:9/v1")
    rename = [Change("rename", code="1.1", name="Renamed")]
    return {
        "build gold": lambda actor: gold.build_gold(db, actor=actor),
        "adjudicate": lambda actor: gold.adjudicate(db, seg, {"1.1": 1}, adjudicator=actor.name, actor=actor),
        "split gold": lambda actor: gold.split_gold(db, actor=actor),
        "settings": lambda actor: admin.change_settings(db, actor, k=3),
        "hand out": lambda actor: admin.hand_out(db, actor, 5),
        "add user": lambda actor: admin.add_user(db, actor, "mallory", "admin"),
        "reset token": lambda actor: admin.reset_token(db, actor, "lead"),
        "taxonomy": lambda actor: refine_taxonomy(db, "mast", rename, actor=actor),
        "judge run": lambda actor: run_judge(db, options, actor=actor),
        "judge thread": lambda actor: start_run_thread(db_path, options, actor=actor),
        "upload": lambda actor: import_upload(db, "x.txt", b"hello", fmt="text", actor=actor),
    }


REVIEWER_MAY = {"build gold", "adjudicate", "split gold"}


@pytest.mark.parametrize("who", ["alice", "rita"])
def test_services_refuse_a_role_that_is_too_low_and_change_nothing(app_db, tmp_path, who):
    seg = _contested(app_db)
    actor = user(app_db, who)
    db_path = app_db.execute("PRAGMA database_list").fetchone()[2]
    for name, call in _refused_calls(app_db, db_path, seg).items():
        if who == "rita" and name in REVIEWER_MAY:
            continue
        before = _dump(app_db)
        with pytest.raises(RefusedError, match="may not"):
            call(actor)
        assert _dump(app_db) == before, name


def test_a_disabled_admin_is_refused(app_db):
    lead = user(app_db, "lead")
    with pytest.raises(RefusedError):
        admin.change_settings(app_db, store.User(lead.id, lead.name, "admin", lead.rater_id, active=False), k=3)


def test_changes_are_audited_with_who_what_when(app_db):
    seg = _contested(app_db)
    lead, rita = user(app_db, "lead"), user(app_db, "rita")
    admin.change_settings(app_db, lead, k=3, reveal=True)
    gold.build_gold(app_db, actor=rita)
    gold.adjudicate(app_db, seg, {"2.2": 1}, adjudicator="rita", note="turn 1", actor=rita)
    token = admin.add_user(app_db, lead, "carol", "annotator")
    new_token = admin.reset_token(app_db, lead, "carol")
    rows = list(store.iter_audit(app_db))
    assert [(r["actor"], r["role"], r["action"]) for r in rows] == [
        ("lead", "admin", "settings.change"), ("rita", "reviewer", "gold.build"),
        ("rita", "reviewer", "gold.adjudicate"), ("lead", "admin", "user.add"), ("lead", "admin", "user.reset_token")]
    assert json.loads(rows[0]["detail"]) == {"k": 3, "reveal": True}
    assert rows[2]["target"] == f"segment {seg}" and json.loads(rows[2]["detail"])["values"] == {"2.2": 1}
    assert all(r["at"] for r in rows)
    everything = json.dumps(rows)
    assert token not in everything and new_token not in everything  # tokens never reach the log


def test_the_cli_acts_as_local_admin_and_export_audit(app_tokens, tmp_path):
    import os

    db_path = os.environ["ANNOTATOR_DB"]
    assert run_cli("users", "add", "dave", "--role", "reviewer").exit_code == 0
    assert run_cli("users", "reset", "dave").exit_code == 0
    out = run_cli("export", "audit", "--format", "csv")
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["actor"], r["action"], r["target"]) for r in rows] == [
        ("local admin (CLI)", "user.add", "dave"), ("local admin (CLI)", "user.reset_token", "dave")]
    lines = run_cli("export", "audit", "--format", "jsonl").stdout.splitlines()
    assert json.loads(lines[0])["detail"] == {"as_rater": False, "role": "reviewer"}
    assert db_path


def test_data_page_shows_the_audit_log_to_admins(app_tokens, app_db):
    from app_helpers import signed_in

    admin.change_settings(app_db, user(app_db, "lead"), k=3)
    at = signed_in(app_tokens["lead"], "views/data.py")
    (table,) = [d.value for d in at.dataframe if "action" in d.value.columns]
    assert table["action"].tolist() == ["settings.change"] and table["actor"].tolist() == ["lead"]
    at.button(key="data_hand_out").click().run()
    assert [r["action"] for r in store.iter_audit(app_db)] == ["settings.change", "queue.hand_out"]
    assert [r["actor"] for r in store.iter_audit(app_db)][-1] == "lead"  # the page passed the signed-in admin
