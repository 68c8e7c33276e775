"""The localisation section end to end: imported references and people's answers -> JSON, Markdown, HTML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli, write_jsonl
from typeguard import CollectionCheckStrategy, check_type

from annotator import store
from annotator.core.report.model import Localisation, Report
from annotator.ingest import import_file
from annotator.services import localise
from annotator.services.report import report_for

WHO = Path(__file__).parent / "data" / "who_and_when"


def _trace(db, name, subset):
    return db.execute("SELECT t.id FROM traces t JOIN trace_tags g ON g.trace_id = t.id AND g.key = 'subset'"
                      " WHERE t.external_id = ? AND g.value = ?", [name, subset]).fetchone()[0]


@pytest.fixture
def localised(tmp_path):
    """Who&When fixture imported; ann localises all three traces, two of them as the dataset does."""
    path = tmp_path / "r.db"
    db = store.connect(path)
    import_file(db, WHO, fmt="who-and-when", scheme="turn")
    store.add_user(db, "ann", role="annotator")
    ann = next(u for u in store.list_users(db) if u.name == "ann")
    localise.save_answer(db, ann, _trace(db, "1.json", "Hand-Crafted"), [store.Failure(3, "Orchestrator")])
    localise.save_answer(db, ann, _trace(db, "2.json", "Hand-Crafted"), [store.Failure(1, "FileSurfer")])
    localise.save_answer(db, ann, _trace(db, "1.json", "Algorithm-Generated"),
                         [store.Failure(2, "DataVerification_Expert")])
    return path, db


def test_localise_report_json_against_the_reference(localised):
    path, _ = localised
    result = run_cli("localise", "report", "--format", "json", "--bootstrap", "200", db=path)
    assert result.exit_code == 0, result.output
    section = json.loads(result.output)
    check_type(section, Localisation, collection_check_strategy=CollectionCheckStrategy.ALL_ITEMS)
    [pair] = section["pairs"]
    assert (pair["a"], pair["b"], pair["n"]) == ("who-and-when", "ann", 3)
    # The dataset: (3, Orchestrator), (2, Orchestrator), (2, DataVerification_Expert); ann: 3, 1, 2 and
    # FileSurfer on the second: agents agree on 2 of 3, steps on 2 of 3, all within 1.
    assert pair["agent_accuracy"]["value"] == pytest.approx(2 / 3)
    assert pair["step_exact"]["value"] == pytest.approx(2 / 3)
    assert pair["step_within_1"]["value"] == pytest.approx(1.0)
    assert pair["offsets"] == {"-1": 1, "0": 2}
    [against] = section["against_reference"]
    assert (against["reference"], against["rater"], against["n"]) == ("who-and-when", "ann", 3)
    assert against["agent_accuracy"]["value"] == pytest.approx(2 / 3)
    assert against["step_accuracy"]["value"] == pytest.approx(2 / 3)


def test_localise_report_markdown_html_and_filters(localised):
    path, _ = localised
    md = run_cli("localise", "report", "--bootstrap", "0", db=path)
    assert "## Localisation against a reference (Who&When's accuracies)" in md.output
    assert r"| who\-and\-when | ann | 3 | 0 | 0 | 0.67 | 0.67 |" in md.output  # names escaped: they come from data
    html = run_cli("localise", "report", "--format", "html", "--bootstrap", "0", db=path)
    assert "<h2>Localisation: rater pairs</h2>" in html.output and "<script" not in html.output
    one = json.loads(run_cli("localise", "report", "--format", "json", "--tag", "subset=Hand-Crafted",
                             "--bootstrap", "0", db=path).output)
    assert one["pairs"][0]["n"] == 2
    none = run_cli("localise", "report", "--tag", "subset=nothing", db=path)
    assert none.exit_code == 1 and "no localisations for this selection" in none.output


def test_full_report_carries_the_section(localised, tmp_path):
    path, db = localised
    labels = tmp_path / "l.jsonl"
    write_jsonl(labels, [{"id": f"x{i}", "text": f"trace {i}", "labels": {"ann": {"1.1": i % 2}, "bob": {"1.1": 1}}}
                         for i in range(6)])
    import_file(db, labels)
    report = report_for(db, bootstrap=50)
    check_type(report, Report, collection_check_strategy=CollectionCheckStrategy.ALL_ITEMS)
    assert report["localisation"]["pairs"][0]["n"] == 3
    md = run_cli("report", "--bootstrap", "0", "--localisation-k", "5", db=path).output
    assert "step ±5" in md and "## Localisation: rater pairs" in md
    html = run_cli("report", "--format", "html", "--bootstrap", "0", db=path).output
    assert "Localisation against a reference" in html
