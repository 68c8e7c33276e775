"""A team's own judge prompts: `annotator judge prompt-copy` writes an editable copy of the shipped prompt
into ./prompts/, and the Judge lab offers the shipped prompts plus ./prompts/*.md of the server's working
directory, refusing any other file."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import make_app_db, signed_in
from click.testing import CliRunner

from annotator.app.viewmodels import judge_forms
from annotator.cli.main import cli
from annotator.judge.prompt import DEFAULT_PROMPT, PROMPTS_DIR, load_prompt

FORM = dict(model="openai/x", api_base="", segments="all", limit=0, concurrency=1, samples=1, taxonomy="mast")


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty working directory, as a user's project folder would be."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def copy_prompt(*args: str):
    return CliRunner().invoke(cli, ["judge", "prompt-copy", *args])


def test_prompt_copy_writes_the_shipped_prompt_into_prompts(workdir):
    result = copy_prompt()
    assert result.exit_code == 0, result.output
    copy = workdir / "prompts" / "mast_judge.md"
    assert copy.read_bytes() == DEFAULT_PROMPT.read_bytes()
    assert load_prompt(copy).version == load_prompt(DEFAULT_PROMPT).version  # same bytes, same version
    assert "--prompt prompts/mast_judge.md" in result.output


def test_prompt_copy_never_overwrites_without_force(workdir):
    mine = workdir / "prompts" / "mast_judge.md"
    mine.parent.mkdir()
    mine.write_text("---\nname: tuned\n---\nmy edits\n", encoding="utf-8")
    result = copy_prompt()
    assert result.exit_code == 1
    assert "already exists" in result.output and "--force" in result.output
    assert mine.read_text(encoding="utf-8") == "---\nname: tuned\n---\nmy edits\n"
    assert copy_prompt("--force").exit_code == 0
    assert mine.read_bytes() == DEFAULT_PROMPT.read_bytes()


def test_prompt_copy_into_a_folder_or_to_a_file_name(workdir):
    (workdir / "elsewhere").mkdir()
    assert copy_prompt("elsewhere").exit_code == 0
    assert (workdir / "elsewhere" / "mast_judge.md").read_bytes() == DEFAULT_PROMPT.read_bytes()
    assert copy_prompt("prompts/v2.md").exit_code == 0
    assert (workdir / "prompts" / "v2.md").is_file()


def test_judge_lab_offers_shipped_and_own_prompts_only(workdir):
    shipped = sorted(PROMPTS_DIR.glob("*.md"))
    assert shipped and DEFAULT_PROMPT in shipped
    assert judge_forms.prompt_files() == shipped  # no prompts/ folder yet
    (workdir / "prompts").mkdir()
    for name in ("b.md", "a.md", "notes.txt"):
        (workdir / "prompts" / name).write_text("---\nname: x\n---\nhello\n", encoding="utf-8")
    (workdir / "prompts" / "folder.md").mkdir()  # a folder named like a prompt is not one
    own = [Path("prompts/a.md"), Path("prompts/b.md")]
    assert judge_forms.prompt_files() == shipped + own
    assert [judge_forms.prompt_label(p) for p in (DEFAULT_PROMPT, *own)] == [
        "mast_judge.md (shipped)", "prompts/a.md", "prompts/b.md"]
    assert judge_forms.run_options(prompt=Path("prompts/a.md"), **FORM).prompt_path == Path("prompts/a.md")
    assert judge_forms.run_options(prompt=workdir / "prompts" / "b.md", **FORM)  # the same file, by full path
    assert judge_forms.run_options(prompt=DEFAULT_PROMPT, **FORM)


@pytest.mark.parametrize("name", ["prompts/notes.txt", "prompts/missing.md", "outside.md", "prompts/../outside.md",
                                  "prompts/folder.md"])
def test_judge_lab_refuses_any_other_file(workdir, name):
    (workdir / "prompts" / "folder.md").mkdir(parents=True)
    (workdir / "prompts" / "notes.txt").write_text("x", encoding="utf-8")
    (workdir / "outside.md").write_text("---\nname: x\n---\nhello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="choose a prompt from prompts/"):
        judge_forms.run_options(prompt=Path(name), **FORM)


def test_judge_lab_page_lists_own_prompts(workdir, monkeypatch):
    path = workdir / "app.db"
    monkeypatch.setenv("ANNOTATOR_DB", str(path))
    tokens = make_app_db(path, traces=1, turns=2, k=1)
    assert copy_prompt("prompts/tuned.md").exit_code == 0
    at = signed_in(tokens["lead"], "views/judge_lab.py")
    choice = at.selectbox(key="jl_prompt")
    assert choice.options == ["mast_judge.md (shipped)", "prompts/tuned.md"]  # as the page shows them
    assert Path(choice.value) == DEFAULT_PROMPT  # the shipped prompt stays the default
