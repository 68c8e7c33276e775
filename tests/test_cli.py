import json
import os
import subprocess
import sys

from tests.conftest import REPO
from tests.helpers import labels_with, run_cli, write_jsonl


def annotator(*args, env=None, cwd=None):
    """The real command line, in a subprocess, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "annotator", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def test_init_import_stats_as_in_the_readme(tmp_path, mast_human_path):
    db = tmp_path / "m.db"
    assert annotator("--db", str(db), "init").returncode == 0
    done = annotator("--db", str(db), "import", str(mast_human_path))
    assert done.returncode == 0, done.stderr
    assert "19 new of 19 traces" in done.stdout
    stats = json.loads(annotator("--db", str(db), "stats", "--json").stdout)
    assert stats["traces"] == 19
    assert [(r["name"], r["labelled_segments"]) for r in stats["raters"]] == [
        ("annotator_1", 19), ("annotator_2", 19), ("annotator_3", 19)]
    assert {"name": "mast", "version": "1", "modes": 14} in [
        {k: t[k] for k in ("name", "version", "modes")} for t in stats["taxonomies"]]
    assert sum(t["draft"] for t in stats["taxonomies"]) == 3


def test_db_from_environment(tmp_path):
    db = tmp_path / "env.db"
    assert annotator("init", env={"ANNOTATOR_DB": str(db)}, cwd=tmp_path).returncode == 0
    assert db.exists() and not (tmp_path / "annotator.db").exists()


def test_taxonomy_show_groups_modes_with_definitions(tmp_path):
    db = tmp_path / "a.db"
    run_cli("init", db=db)
    out = run_cli("taxonomy", "show", "mast", db=db).output
    for category in ("Specification Issues", "Inter-Agent Misalignment", "Task Verification"):
        assert category in out
    assert out.index("Specification Issues") < out.index("1.5  Unaware of Termination Conditions") < out.index(
        "Inter-Agent Misalignment")
    assert "also called: Lack of critical verification" in out
    shown = json.loads(run_cli("taxonomy", "show", "mast@1", "--json", db=db).output)
    assert len(shown["modes"]) == 14 and shown["modes"][0]["definition"]
    assert "mast@1" in run_cli("taxonomy", "list", db=db).output


def test_errors_are_one_line_on_stderr_with_nonzero_exit(tmp_path):
    db = tmp_path / "a.db"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "t", "labels": {"ana": {"7.7": 1}}}\n')
    cases = [
        (["import", str(bad)], "bad.jsonl: line 1"),
        (["import", str(tmp_path)], "is a directory"),
        (["taxonomy", "show", "nothere"], "no taxonomy 'nothere'"),
        (["init", "--taxonomy", str(tmp_path / "x.yaml")], "no such taxonomy file"),
        (["import", "--segment", "window:0", str(bad)], "--segment"),
        (["import", "--tag", "novalue", str(bad)], "--tag"),
    ]
    for args, message in cases:
        done = annotator("--db", str(db), *args)
        assert done.returncode != 0, args
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert len([line for line in done.stderr.splitlines() if line.strip()]) <= 3, done.stderr


def test_import_with_tags_and_segments(tmp_path):
    db = tmp_path / "a.db"
    path = write_jsonl(tmp_path / "t.jsonl", [
        {"id": "a", "text": "Alice (to Bob):\nhi\n\nBob (to Alice):\nhello\n", "labels": {"ana": labels_with("1.3")}}])
    done = run_cli("import", str(path), "--segment", "turn", "--tag", "round=pilot", db=db)
    assert done.exit_code == 0, done.output
    stats = json.loads(run_cli("stats", "--json", db=db).output)
    assert stats["segments_by_scheme"]["turn"] >= 2 and stats["segments_by_scheme"]["trace"] == 1


def test_users_add_prints_token_and_link(tmp_path):
    db = tmp_path / "a.db"
    out = run_cli("users", "add", "alice", "--role", "reviewer", db=db).output
    lines = dict(line.split(": ", 1) for line in out.splitlines() if line.startswith(("token: ", "link: ")))
    assert lines["link"].endswith(f"?token={lines['token']}") and len(lines["token"]) >= 24
    assert lines["token"].encode() not in db.read_bytes()  # only a hash is stored
    again = annotator("--db", str(db), "users", "add", "alice")
    assert again.returncode != 0 and "exists already" in again.stderr


def test_help_does_not_import_heavy_libraries():
    code = ("import sys, annotator.cli.main; heavy = [m for m in ('litellm', 'sklearn', 'streamlit', 'pandas')"
            " if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
    assert annotator("--help").returncode == 0


def test_demo_builds_a_fresh_database_beside_the_users_own(tmp_path):
    own = tmp_path / "annotator.db"
    own.write_bytes(b"precious")
    first = annotator("demo", "--no-serve", cwd=tmp_path, env={"ANNOTATOR_DB": ""})
    assert first.returncode == 0, first.stderr
    assert own.read_bytes() == b"precious"
    links = [line for line in first.stdout.splitlines() if "link: http://127.0.0.1:8501/?token=" in line]
    assert len(links) == 3
    again = annotator("demo", "--no-serve", cwd=tmp_path, env={"ANNOTATOR_DB": ""})
    assert again.returncode == 0, again.stderr  # rebuilt from scratch, not "user exists already"
    stats = json.loads(annotator("--db", str(tmp_path / "annotator-demo.db"), "stats", "--json").stdout)
    assert stats["traces"] >= 12
    humans = [r for r in stats["raters"] if r["labelled_segments"] == stats["traces"]]
    assert len(humans) >= 3
