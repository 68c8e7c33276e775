"""The command line: in-process through click's runner, except where a fresh interpreter is the point
(the console script starts without heavy imports; stdout piped to a reader that goes away)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import labels_with, run_cli, write_jsonl

from annotator import store
from annotator.ingest import import_file


def test_init_import_stats_as_in_the_readme(tmp_path, mast_human_path):
    db = tmp_path / "m.db"
    assert run_cli("init", db=db).exit_code == 0
    done = run_cli("import", str(mast_human_path), db=db)
    assert done.exit_code == 0, done.output
    assert "19 new of 19 traces" in done.stdout
    stats = json.loads(run_cli("stats", "--json", db=db).stdout)
    assert stats["traces"] == 19
    assert [(r["name"], r["labelled_segments"]) for r in stats["raters"]] == [
        ("annotator_1", 19), ("annotator_2", 19), ("annotator_3", 19)]
    assert {"name": "mast", "version": "1", "modes": 14} in [
        {k: t[k] for k in ("name", "version", "modes")} for t in stats["taxonomies"]]
    assert sum(t["draft"] for t in stats["taxonomies"]) == 3


def test_db_from_environment(tmp_path, monkeypatch):
    db = tmp_path / "env.db"
    monkeypatch.chdir(tmp_path)
    assert run_cli("init", env={"ANNOTATOR_DB": str(db)}).exit_code == 0
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
        done = run_cli(*args, db=db)  # an exception that is not a user error would fail the test here
        assert done.exit_code != 0, args
        assert message in done.stderr, (args, done.stderr)
        assert done.stdout == "" and "Traceback" not in done.stderr
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
    again = run_cli("users", "add", "alice", db=db)
    assert again.exit_code != 0 and "exists already" in again.stderr


def test_demo_builds_a_fresh_database_beside_the_users_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANNOTATOR_DB")  # the user named no database: ./annotator.db is her own
    own = tmp_path / "annotator.db"
    own.write_bytes(b"precious")
    first = run_cli("demo", "--no-serve")
    assert first.exit_code == 0, first.output
    assert own.read_bytes() == b"precious"
    links = [line for line in first.stdout.splitlines() if "link: http://127.0.0.1:8501/?token=" in line]
    assert len(links) == 3
    again = run_cli("demo", "--no-serve")
    assert again.exit_code == 0, again.output  # rebuilt from scratch, not "user exists already"
    stats = json.loads(run_cli("stats", "--json", db=tmp_path / "annotator-demo.db").stdout)
    assert stats["traces"] >= 12
    humans = [r for r in stats["raters"] if r["labelled_segments"] == stats["traces"]]
    assert len(humans) >= 3


# --------------------------------------------------------------------------------------------------
# A fresh interpreter is the point of these two.

def _console_script() -> str:
    """The `annotator` script installed beside this interpreter (what pip, pipx and uv put on PATH)."""
    script = Path(sys.executable).parent / "annotator"
    found = str(script) if script.exists() else shutil.which("annotator")
    assert found, f"no `annotator` console script beside {sys.executable} or on PATH: is the package installed?"
    return found


def test_console_script_starts_without_heavy_imports(tmp_path):
    code = ("import sys, annotator.cli.main; heavy = [m for m in ('litellm', 'sklearn', 'streamlit', 'pandas')"
            " if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          check=False)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
    started = subprocess.run([_console_script(), "--help"], capture_output=True, text=True, timeout=60,
                             cwd=tmp_path, check=False)
    assert started.returncode == 0 and "Usage: annotator" in started.stdout, started.stderr


def test_stdout_piped_to_a_reader_that_stops_early(tmp_path):
    """`annotator export ... | head -1`: the reader goes away after one line; no traceback, no noise."""
    db_path = tmp_path / "many.db"
    records = [{"id": f"t{i}", "text": f"trace {i} " + "words " * 40} for i in range(1500)]  # ~400 kB of export
    import_file(store.connect(db_path), write_jsonl(tmp_path / "many.jsonl", records))
    proc = subprocess.Popen([sys.executable, "-m", "annotator", "--db", str(db_path), "export", "segments",
                             "--format", "jsonl"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does once it has its line
    stderr = proc.communicate(timeout=60)[1].decode()
    assert json.loads(first)["id"] == "t0"
    assert stderr == "" and proc.returncode in (0, 1), (proc.returncode, stderr)
