"""Bad input through the real command line: one line naming the file or field, exit 1, database untouched.

Each case writes its input into a temporary folder, runs `annotator` in-process against a database that
already holds a taxonomy, a trace and labels, and checks the whole answer: exit code 1, exactly one line
on stderr containing the expected words, no traceback, nothing written. The deep-nesting cases also run
in a subprocess under an address-space limit, and their peak memory is measured.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotator.cli.main import cli
from tests.helpers import ALL_CODES, db_fingerprint, labels_with, write_jsonl

DEEP = 200_000


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], list[str]]  # writes the input into the folder, returns the arguments after --db
    expect: str  # words the one line must contain (the file, field or option at fault)


def _file(name: str, content: str | bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
        return path
    return write


def _import(name: str, content: str | bytes, *options: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["import", str(_file(name, content)(folder)), *options]


def _init(name: str, content: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["init", "--taxonomy", str(_file(name, content)(folder))]


def _jsonl(record: str) -> str:
    return record + "\n"


def _line(name: str, record: str, expect: str) -> Case:
    """A case of one JSONL record, imported from t.jsonl."""
    return Case(name, _import("t.jsonl", _jsonl(record)), expect)


NESTED = "[" * DEEP + "]" * DEEP
TAXONOMY = ('name: t\nversion: "1"\nmodes:\n  - code: {code}\n    name: A\n    category: C\n'
            '    definition: Something went wrong.\n')
BOMB = ('name: bomb\nversion: "1"\n'
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
        + "".join(f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))
        + 'modes:\n  - code: "1"\n    name: A\n    category: C\n    definition: *i\n')

# Inputs that exhausted memory: nesting in every reader, a YAML alias bomb, counts typed 10**20. Run in a subprocess under a
# memory limit only: in-process, a regression would take the test runner to many gigabytes.
HEAVY_CASES = [
    Case("deep mad", _import("deep.json", NESTED, "--format", "mad"), "deep.json: record 0: JSON nested deeper"),
    Case("deep auto", _import("deep.json", NESTED), "deep.json: record 0: JSON nested deeper"),
    Case("deep mad-human", _import("deep.json", NESTED, "--format", "mad-human"), "deep.json: JSON nested deeper"),
    Case("deep jsonl", _import("deep.jsonl", _jsonl('{"id": "a", "text": "x", "metadata": {"k": ' + NESTED + "}}")),
         "deep.jsonl: line 1: JSON nested deeper"),
    Case("deep taxonomy json", _init("t.json", NESTED), "t.json: JSON nested deeper"),
    Case("deep taxonomy yaml", _init("t.yaml", NESTED), "t.yaml: line 1: nested deeper"),
    Case("alias bomb", _init("bomb.yaml", BOMB), "bomb.yaml: line 8: YAML aliases expand the document"),
    Case("bootstrap 10^20", lambda folder: ["report", "--bootstrap", str(10**20)], "--bootstrap"),
    Case("judge samples 10^20", lambda folder: ["judge", "run", "--model", "openai/x", "--samples", str(10**20),
                                                "--dry-run"], "--samples"),
]

CASES = [
    # taxonomy YAML
    Case("unquoted code", _init("t.yaml", TAXONOMY.format(code="2.10")), 'write it in quotes: code: "2.10"'),
    Case("unquoted version", _init("t.yaml", TAXONOMY.format(code='"1"').replace('"1"\nmodes', '1.10\nmodes')),
         't.yaml: line 2: version 1.10 is written without quotes'),
    Case("code with =", _init("t.yaml", TAXONOMY.format(code='"a=b"')), "code 'a=b' must not contain '='"),
    Case("name with @", _init("t.yaml", TAXONOMY.format(code='"1"').replace("name: t", "name: t@x")),
         "name 't@x' must not contain '@'"),
    # JSONL records accepted although wrong
    _line("id object", '{"id": {"a": 1}, "text": "x"}', "t.jsonl: line 1: 'id' must be"),
    _line("id 1e999", '{"id": 1e999, "text": "x"}', "t.jsonl: line 1: 'id' must be"),
    _line("tag list", '{"id": "a", "text": "x", "metadata": {"round": [1]}}',
         "t.jsonl: line 1 (id a): field 'metadata.round' (a tag) must be text or a number, not a list"),
    _line("framework object", '{"id": "a", "text": "x", "metadata": {"framework": {}}}',
         "t.jsonl: line 1 (id a): field 'metadata.framework' must be text, not an object"),
    _line("message name object",
        '{"id": "a", "messages": [{"name": {"x": 1}, "role": "user", "content": "hi"}]}',
        "field 'messages[0].name' must be text"),
    _line("message role object",
        '{"id": "a", "messages": [{"name": "x", "role": [], "content": "hi"}]}',
        "field 'messages[0].role' must be text"),
    _line("empty rater", '{"id": "a", "text": "x", "labels": {" ": {"1.1": 1}}}',
         "t.jsonl: line 1 (id a): 'labels' has a rater with an empty name"),
    _line("taxonomy ref @",
        '{"id": "a", "text": "x", "taxonomy": "@", "labels": {"ana": {"1.1": 1}}}',
        "t.jsonl: line 1 (id a): field 'taxonomy': taxonomy reference '@'"),
    Case("refinement retires every mode", lambda folder: ["taxonomy", "refine", "mast", str(_file(
        "retire.yaml", "changes:\n" + "".join(f'  - retire: "{c}"\n' for c in ALL_CODES))(folder))],
        "the changes retire every mode of mast@1"),
    # options
    Case("max-trace-mb inf", _import("ok.jsonl", _jsonl('{"id": "a", "text": "x"}'), "--max-trace-mb", "inf"),
         "--max-trace-mb"),
    Case("max-trace-mb nan", _import("ok.jsonl", _jsonl('{"id": "a", "text": "x"}'), "--max-trace-mb", "nan"),
         "--max-trace-mb"),
    Case("max-trace-mb -1", _import("ok.jsonl", _jsonl('{"id": "a", "text": "x"}'), "--max-trace-mb", "-1"),
         "--max-trace-mb"),
    Case("segment id 2^70", lambda folder: ["gold", "adjudicate", str(2**70), "--set", "1.1=1", "--by", "lee"],
         "SEGMENT_ID"),
    Case("adjudicator empty", lambda folder: ["gold", "adjudicate", "1", "--set", "1.1=1", "--by", " "], "--by"),
    Case("api-base not a url", lambda folder: ["judge", "run", "--model", "openai/x", "--api-base", "not-a-url",
                                               "--dry-run"], "--api-base"),
    Case("judge limit 2^70", lambda folder: ["judge", "run", "--model", "openai/x", "--limit", str(2**70),
                                             "--dry-run"], "--limit"),
    Case("user named as an imported rater", lambda folder: ["users", "add", "ana"],
         "'ana' is the name of an imported rater"),
    _line("lone surrogate in a trace", '{"id": "a", "text": "x \\ud800 y"}',
         "t.jsonl: line 1 (id a): text with a lone surrogate (\\ud800)"),
    Case("lone surrogate in a taxonomy", _init("t.json", '{"name": "t", "version": "1", "modes": [{"code": "1", '
                                                         '"name": "A\\ud800", "category": "C", "definition": "D"}]}'),
         "t.json: text with a lone surrogate"),
    Case("mad trace_id object", _import("t.json", '[{"mas_name": "M", "llm_name": "L", "trace_id": {"x": 1}, '
                                                  '"trace": {"key": "k", "trajectory": "abc"}}]', "--format", "mad"),
         "t.json: record 0: field 'trace_id' must be text or a whole number, not an object"),
    Case("mad-human round object", _import("t.json", '[{"trace_id": "t", "trace": "abc", "round": {"r": 1}, '
                                                     '"annotations": [{"failure mode": "1.1 X", "annotator_1": true}]}]'),
         "t.json: record 0 (id t): field 'round' must be text, not an object"),
    _line("judge rater without a name",
        '{"id": "a", "text": "x", "labels": {"judge:": {"1.1": 1}}}', "'labels' has a rater with an empty name"),
    _line("tag with an empty name", '{"id": "a", "text": "x", "metadata": {"": "v"}}',
         "t.jsonl: line 1 (id a): field 'metadata' has a tag with an empty name"),
    Case("report seed -1", lambda folder: ["report", "--seed", "-1"], "--seed"),
    Case("gold split seed 10^23", lambda folder: ["gold", "split", "--seed", str(10**23)], "--seed"),
    Case("raters twice", lambda folder: ["report", "--raters", "ana,ana"], "--raters"),
    Case("gold value without a code", lambda folder: ["gold", "adjudicate", "1", "--set", "=1", "--by", "lee"],
         "--set"),
    Case("judge timeout inf", lambda folder: ["judge", "run", "--model", "openai/x", "--timeout", "inf",
                                              "--dry-run"], "--timeout"),
    Case("judge temperature nan", lambda folder: ["judge", "run", "--model", "openai/x", "--temperature", "nan",
                                                  "--dry-run"], "--temperature"),
    Case("db folder missing", lambda folder: ["--db", str(folder / "nodir" / "x.db"), "stats"], "nodir/x.db"),
]


def _base_db(folder: Path) -> Path:
    """A database with a taxonomy, a trace and one rater's labels: something a bad input could damage."""
    db = folder / "base.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "init"]).exit_code == 0
    data = write_jsonl(folder / "good.jsonl", [{"id": "t1", "text": "hello", "labels": {"ana": labels_with("1.1")}}])
    done = runner.invoke(cli, ["--db", str(db), "import", str(data)])
    assert done.exit_code == 0, done.output
    return db


@pytest.fixture(scope="module")
def base_db(tmp_path_factory) -> Path:
    return _base_db(tmp_path_factory.mktemp("base"))


def _copy(db: Path, folder: Path) -> Path:
    import sqlite3

    target = folder / "work.db"
    with sqlite3.connect(db) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target


def _check_one_line(exit_code: int, stderr: str, expect: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert exit_code == 1, stderr
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert expect in lines[0], lines[0]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(case: Case, base_db: Path, tmp_path: Path):
    db = _copy(base_db, tmp_path)
    before = db_fingerprint(db)
    args = case.make(tmp_path)
    argv = args if args[0] == "--db" else ["--db", str(db), *args]
    result = CliRunner().invoke(cli, argv)
    _check_one_line(result.exit_code, result.stderr, case.expect)
    assert db_fingerprint(db) == before


# Peak memory allowed: the interpreter and the tool's imports take about 120 MB; before the bounds,
# `--format mad` grew to 23 GB on the nested brackets.
MAX_RSS_MB = 400
ADDRESS_SPACE_LIMIT = 2 << 30  # a safety net so that a regression fails instead of taking the machine down


# Runs the command line and, at exit, prints its own peak resident memory on stdout (the command prints
# nothing there when it fails). VmHWM, not getrusage's ru_maxrss: that one survives exec, so it would count
# the test runner's own size, forked before the exec.
_MEASURED = """
import atexit, sys
def peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print("peak_rss_kb", kb)
atexit.register(peak)
sys.argv[0] = "annotator"
from annotator.cli.main import main
main()
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


@pytest.mark.parametrize("case", HEAVY_CASES, ids=[c.name for c in HEAVY_CASES])
def test_memory_bombs_are_refused_in_bounded_memory_and_time(case: Case, base_db: Path, tmp_path: Path):
    db = _copy(base_db, tmp_path)
    before = db_fingerprint(db)
    args = case.make(tmp_path)
    # timeout: generous for a loaded machine (a few seconds alone); before the bound it ran for minutes
    done = subprocess.run([sys.executable, "-c", _MEASURED, "--db", str(db), *args], capture_output=True,
                          text=True, timeout=120, preexec_fn=_limit_memory)  # the installed package, as users run it
    _check_one_line(done.returncode, done.stderr, case.expect)
    peak_kb = int(done.stdout.split("peak_rss_kb")[-1])
    assert peak_kb < MAX_RSS_MB * 1024, f"peak RSS {peak_kb / 1024:.0f} MB"
    assert db_fingerprint(db) == before


def test_a_jsonl_file_with_a_byte_order_mark_is_read(tmp_path):
    db = _base_db(tmp_path)
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"id": "b1", "text": "hello again"}\n')
    result = CliRunner().invoke(cli, ["--db", str(db), "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 new of 1 traces" in result.output


def test_a_user_may_take_over_an_imported_rater_when_asked_to(tmp_path):
    db = _base_db(tmp_path)
    result = CliRunner().invoke(cli, ["--db", str(db), "users", "add", "ana", "--as-rater"])
    assert result.exit_code == 0, result.output
    assert "token: " in result.output


def _file_bytes(path: Path) -> bytes:
    return path.read_bytes()


@pytest.mark.parametrize("command", [["init"], ["stats"], ["import", "good.jsonl"], ["users", "add", "zoe"]])
def test_another_applications_database_is_refused_untouched(tmp_path, command):
    import sqlite3

    foreign = tmp_path / "shop.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("CREATE TABLE traces (id INTEGER PRIMARY KEY)")  # a name that collides with ours
        conn.execute("INSERT INTO customers (name) VALUES ('Ada')")
    conn.close()
    write_jsonl(tmp_path / "good.jsonl", [{"id": "t1", "text": "hello"}])
    before = _file_bytes(foreign)
    args = [str(tmp_path / a) if a.endswith(".jsonl") else a for a in command]
    result = CliRunner().invoke(cli, ["--db", str(foreign), *args])
    _check_one_line(result.exit_code, result.stderr, f"{foreign}: not an annotator database")
    assert _file_bytes(foreign) == before
    assert not Path(f"{foreign}-wal").exists()


def test_a_database_from_a_newer_schema_is_refused_and_names_the_version(tmp_path):
    import sqlite3

    from annotator.store.schema import known_migrations

    db = _base_db(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('annotator', 'm999_from_the_future', '2030-01-01')")
    conn.close()
    before = db_fingerprint(db)
    result = CliRunner().invoke(cli, ["--db", str(db), "import", str(tmp_path / "good.jsonl")])
    newer = len(known_migrations()) + 1
    _check_one_line(result.exit_code, result.stderr, f"made by a newer annotator (schema version {newer}")
    assert "m999_from_the_future" in result.stderr
    assert db_fingerprint(db) == before


def test_a_refinement_cannot_recode_a_mode_to_a_code_with_an_equals_sign(tmp_path):
    db = _base_db(tmp_path)
    changes = tmp_path / "recode.yaml"
    changes.write_text('changes:\n  - recode: {"1.1": "1=1"}\n')
    before = db_fingerprint(db)
    result = CliRunner().invoke(cli, ["--db", str(db), "taxonomy", "refine", "mast", str(changes)])
    _check_one_line(result.exit_code, result.stderr, "code '1=1' must not contain '='")
    assert db_fingerprint(db) == before


# Every command that works on a database, with arguments that would otherwise succeed on one init made.
NEEDS_A_DATABASE = [["stats"], ["import", "good.jsonl"], ["users", "add", "zoe"], ["users", "list"], ["report"],
                    ["serve", "--port", "1"], ["collect", "--port", "0"], ["judge", "list"],
                    ["judge", "run", "--model", "openai/x", "--dry-run"], ["taxonomy", "show", "mast"],
                    ["export", "labels"], ["gold", "build"], ["plan", "--from-db"]]


def _args(command: list[str], folder: Path) -> list[str]:
    return [str(folder / a) if a.endswith(".jsonl") else a for a in command]


@pytest.mark.parametrize("command", NEEDS_A_DATABASE, ids=[" ".join(c) for c in NEEDS_A_DATABASE])
def test_a_missing_database_is_refused_and_not_created(tmp_path, command):
    write_jsonl(tmp_path / "good.jsonl", [{"id": "t1", "text": "hello"}])
    missing = tmp_path / "new.db"
    result = CliRunner().invoke(cli, ["--db", str(missing), *_args(command, tmp_path)])
    _check_one_line(result.exit_code, result.stderr,
                    f"no annotator database at {missing}; run `annotator init --db {missing}` first")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.jsonl"]  # no database, -wal, -shm or log folder


@pytest.mark.parametrize("command", NEEDS_A_DATABASE[:4], ids=[" ".join(c) for c in NEEDS_A_DATABASE[:4]])
@pytest.mark.parametrize("empty", ["zero bytes", "sqlite without tables"])
def test_an_empty_database_is_refused_untouched(tmp_path, command, empty):
    import sqlite3

    write_jsonl(tmp_path / "good.jsonl", [{"id": "t1", "text": "hello"}])
    db = tmp_path / "empty.db"
    if empty == "zero bytes":
        db.touch()
    else:
        sqlite3.connect(db).execute("PRAGMA user_version = 7").connection.close()  # a header, no table
    before = _file_bytes(db)
    result = CliRunner().invoke(cli, ["--db", str(db), *_args(command, tmp_path)])
    _check_one_line(result.exit_code, result.stderr, f"no annotator database at {db}; run `annotator init")
    assert _file_bytes(db) == before
    assert not Path(f"{db}-wal").exists()


def test_init_sets_up_an_empty_file_and_then_commands_work(tmp_path):
    db = tmp_path / "empty.db"
    db.touch()
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "init"]).exit_code == 0
    result = runner.invoke(cli, ["--db", str(db), "stats", "--json"])
    assert result.exit_code == 0, result.output
    assert '"traces": 0' in result.output


def test_a_database_of_an_older_version_is_migrated(tmp_path):
    """A database made before a migration (by this tool) is brought up to date, its labels kept."""
    import sqlite3

    db = _base_db(tmp_path)
    with sqlite3.connect(db) as conn:  # undo m009, as a version before it would have left the file
        conn.execute("DROP TABLE audit_log")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm009_hardening'")
    conn.close()
    result = CliRunner().invoke(cli, ["--db", str(db), "stats", "--json"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")}
        labels = conn.execute("SELECT COUNT(*) FROM labels").fetchone()[0]
        conn.execute("SELECT * FROM audit_log").fetchall()  # the table is back
    conn.close()
    assert "m009_hardening" in names
    assert labels > 0
