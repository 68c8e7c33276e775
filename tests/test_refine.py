import json

import pytest
from helpers import db_fingerprint, labels_with, run_cli, write_jsonl
from hypothesis import given
from hypothesis import strategies as st

from annotator import store
from annotator.core.refinement import Change, carry, change_from_dict, plan
from annotator.core.taxonomy import Mode, Taxonomy, TaxonomyError, load_mast_draft_mappings
from annotator.ingest import import_file
from annotator.services.gold import build_gold
from annotator.services.refine import refine_taxonomy

BASE = Taxonomy("t", "1", tuple(Mode(c, c.upper(), "cat", f"def {c}") for c in ("a", "b", "c", "d")))
NEW = Mode("ab", "AB", "cat", "a or b")
PARTS = (Mode("c1", "C1", "cat", "part 1"), Mode("c2", "C2", "cat", "part 2"))
CHANGES = [Change("merge", codes=("a", "b"), modes=(NEW,)), Change("split", code="c", modes=PARTS),
           Change("edit", code="d", definition="new words")]


@given(st.dictionaries(st.sampled_from("abcd"), st.sampled_from([0, 1])))
def test_carry_rules(old):
    new, relabel = carry(old, plan(BASE, CHANGES, version="2"))
    given_ab = [old[c] for c in "ab" if c in old]
    if any(given_ab):
        assert new["ab"] == (1, False)  # a merge takes the OR
    elif len(given_ab) == 2:
        assert new["ab"] == (0, False)
    else:
        assert "ab" not in new  # one source absent, the other unknown: undetermined
    if old.get("c") == 0:
        assert new["c1"] == new["c2"] == (0, False)
    else:
        assert "c1" not in new and "c2" not in new
    assert relabel == (old.get("c") == 1)
    assert new.get("d") == ((old["d"], True) if "d" in old else None)  # edited: kept but stale


def test_plan_keeps_order_and_records_sources():
    p = plan(BASE, CHANGES, version="2")
    assert p.taxonomy.codes == ["ab", "c1", "c2", "d"] and p.taxonomy.parent == "t@1"
    assert ("a", "ab", "merge") in p.mapping_rows() and ("c", "c2", "split") in p.mapping_rows()


@pytest.mark.parametrize("changes, message", [
    ([], "no changes"),
    ([Change("merge", codes=("a", "zz"), modes=(NEW,))], "has no mode 'zz'"),
    ([Change("merge", codes=("a",), modes=(NEW,))], "at least two"),
    ([Change("split", code="c", modes=())], "at least two new modes"),
    ([Change("split", code="c", modes=(PARTS[0], Mode("a", "A", "cat", "x")))], "already taken"),
    ([Change("retire", code="q")], "has no mode 'q'"),
    ([Change("edit", code="a")], "needs a new 'definition'"),
    ([Change("recode", recode=(("a", "b"),))], "share a code"),
    ([Change("retire", code="a"), Change("edit", code="a", definition="x")], "at this point"),
])
def test_bad_changes_are_one_line_errors(changes, message):
    with pytest.raises(TaxonomyError, match=message):
        plan(BASE, changes, version="2")


def test_change_file_parsing_errors():
    with pytest.raises(TaxonomyError, match=r"changes\[0\]: expected exactly one of"):
        change_from_dict({"merge": ["a", "b"], "split": "c"}, 0)
    with pytest.raises(TaxonomyError, match=r"changes\[2\].into: missing field"):
        change_from_dict({"merge": ["a", "b"], "into": {"code": "x"}}, 2)


def test_replaying_the_mast_draft_history_reproduces_the_imported_mapping(tmp_path, mast_human_path):
    """Round 1's draft, refined by retiring the dropped modes and renumbering the rest, must carry
    exactly the labels the importer mapped onto mast@1 for the Round 1 traces."""
    db = store.connect(tmp_path / "m.db")
    import_file(db, mast_human_path)
    mapping = load_mast_draft_mappings()["round-1"].codes
    changes = [Change("retire", code=c) for c, to in mapping.items() if to is None]
    changes.append(Change("recode", recode=tuple((c, to) for c, to in mapping.items() if to is not None)))
    done = refine_taxonomy(db, "mast@draft-round-1", changes, version="replayed-round-1")

    def cells(ref):
        rows = store.iter_label_rows(db, store.get_taxonomy(db, ref).id)
        return {(r["trace_id"], r["rater"], r["mode"], r["value"]) for r in rows}

    round_1 = {t for t, in db.execute("SELECT t.external_id FROM traces t JOIN trace_tags g ON g.trace_id = t.id"
                                      " WHERE g.key = 'round' AND g.value = 'Round 1'")}
    imported = {c for c in cells("mast@1") if c[0] in round_1}
    assert cells("mast@replayed-round-1") == imported and len(imported) == 5 * 3 * 14
    assert done.relabel_segments == set() and done.labels_stale == 0


@pytest.fixture
def labelled(tmp_path):
    db = store.connect(tmp_path / "r.db")
    import_file(db, write_jsonl(tmp_path / "r.jsonl", [
        {"id": "x", "text": "one", "labels": {"ana": labels_with("2.5", "3.2"), "ben": labels_with("3.3")}},
        {"id": "y", "text": "two", "labels": {"ana": labels_with(), "ben": labels_with("1.1")}},
    ]))
    build_gold(db)
    return db


def test_split_requeues_only_segments_where_the_old_mode_was_present(labelled):
    changes = [change_from_dict({"split": "2.5", "into": [
        {"code": "2.5a", "name": "A", "category": "c", "definition": "d"},
        {"code": "2.5b", "name": "B", "category": "c", "definition": "d"}]}, 0),
        change_from_dict({"merge": ["3.2", "3.3"], "into": {"code": "3.2", "name": "V", "category": "c",
                                                             "definition": "d"}}, 1)]
    done = refine_taxonomy(labelled, "mast@1", changes)
    assert done.taxonomy == "mast@2"
    x = store.trace_segment_id(labelled, 1)
    assert done.relabel_segments == {x}
    assert labelled.execute("SELECT queued FROM segments WHERE id = ?", [x]).fetchone() == (1,)
    new = store.get_taxonomy(labelled, "mast@2")
    done_by = {r for r, in labelled.execute(
        "SELECT r.name FROM submissions s JOIN raters r ON r.id = s.rater_id WHERE s.taxonomy_id = ? AND"
        " s.segment_id = ? AND s.status = 'done'", [new.id, x])}
    assert done_by == {"ben"}  # ana marked 2.5 there: her labels of the parts are unknown
    merged = {r["rater"]: r["value"] for r in store.iter_label_rows(labelled, new.id)
              if r["mode"] == "3.2" and r["trace_id"] == "x"}
    assert merged == {"ana": 1, "ben": 1}
    # gold on x: 3.2 and 3.3 were 1-1 ties (no gold), so the merged mode stays undetermined;
    # on y both were unanimous 0, so the merged gold is 0 with the provenance carried over
    assert "3.2" not in store.gold_of_segment(labelled, x, new.id)
    y_gold = store.gold_of_segment(labelled, store.trace_segment_id(labelled, 2), new.id)["3.2"]
    assert (y_gold["value"], y_gold["provenance"]) == (0, "unanimous")


def test_failed_refinement_changes_nothing(labelled, tmp_path):
    before = db_fingerprint(tmp_path / "r.db")
    with pytest.raises(TaxonomyError):
        refine_taxonomy(labelled, "mast@1", [Change("merge", codes=("3.2", "9.9"), modes=(NEW,))])
    with pytest.raises(store.StoreError):
        refine_taxonomy(labelled, "other@1", [Change("retire", code="1.1")])
    assert db_fingerprint(tmp_path / "r.db") == before


def test_cli_refine_compare_ambiguous(tmp_path):
    db_path = tmp_path / "c.db"
    src = write_jsonl(tmp_path / "c.jsonl", [
        {"id": f"t{i}", "text": f"trace {i}", "labels": {
            "ana": labels_with("3.2" if i % 2 else "3.3"), "ben": labels_with("3.3" if i % 3 else "3.2")}}
        for i in range(12)])
    run_cli("import", str(src), db=db_path)
    ambiguous = json.loads(run_cli("taxonomy", "ambiguous", "--json", "--bootstrap", "0", db=db_path).stdout)
    top = next(r for r in ambiguous if r["code"] in ("3.2", "3.3"))
    assert top["confused_with"] and top["confused_with"][0]["mode"] in ("3.2", "3.3")
    changes = tmp_path / "changes.yaml"
    changes.write_text("changes:\n  - merge: ['3.2', '3.3']\n    into: {code: '3.2', name: Verification,"
                       " category: Task Verification, definition: checks missing or wrong}\n")
    done = run_cli("taxonomy", "refine", "mast@1", str(changes), db=db_path)
    assert done.exit_code == 0 and "mast@2 made from mast@1" in done.output, done.output
    rows = json.loads(run_cli("taxonomy", "compare", "mast@1", "mast@2", "--json", "--bootstrap", "0",
                              db=db_path).stdout)
    merged = next(r for r in rows if r["code"] == "3.2")
    assert merged["change"] == "merge" and merged["from"] == ["3.2", "3.3"] and merged["kappa_after"] is None
