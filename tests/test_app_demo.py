"""`annotator demo` sets up accounts and hands alice segments; `serve` runs Streamlit safely."""

from __future__ import annotations

import pytest

from annotator import store
from annotator.cli.serve import server_env, streamlit_command


@pytest.fixture
def demo():
    from annotator.services import demo

    return demo


def test_demo_gives_alice_segments_to_label(tmp_path, demo):
    accounts = demo.build_demo(tmp_path / "demo.db", base_url="http://127.0.0.1:9999/")
    assert [(a.name, a.role) for a in accounts] == list(demo.DEMO_ACCOUNTS)
    assert all(a.link == f"http://127.0.0.1:9999/?token={a.token}" for a in accounts)
    db = store.connect(tmp_path / "demo.db")
    alice = store.user_for_token(db, accounts[0].token)
    progress = store.rater_progress(db, alice.rater_id)
    assert progress.assigned == demo.DEMO_HANDED_OUT and progress.done == 0
    assert store.get_settings(db).k == demo.DEMO_K and store.get_settings(db).reveal
    judges = [r for r in store.list_raters(db) if r.kind == "judge"]
    assert len(judges) == 1 and judges[0].name.startswith("judge:demo/recorded-judge@")
    evidence = db.execute("SELECT COUNT(*) FROM labels WHERE rater_id = ? AND evidence != ''", [judges[0].id])
    assert evidence.fetchone()[0] > 0  # the recorded run kept the quotes the judge gave
    assert store.gold_counts(db, store.get_taxonomy(db, "mast").id)["segments"] == 15


def test_serve_is_local_headless_and_sends_no_statistics(tmp_path):
    command = " ".join(streamlit_command("127.0.0.1", 8765))
    for flag in ("--server.address 127.0.0.1", "--server.headless true", "--browser.gatherUsageStats false",
                 "--server.port 8765"):
        assert flag in command
    env = server_env(tmp_path / "x.db")
    assert env["ANNOTATOR_DB"] == str((tmp_path / "x.db").resolve())
