"""The Taxonomy page through AppTest: versions, modes, ambiguous modes, and refining through the editor."""

from __future__ import annotations

import pytest
from app_helpers import add_other_labels, button, shown, signed_in, texts

from annotator import store
from annotator.app.viewmodels import taxonomy_page as page_model
from annotator.core.taxonomy import load_taxonomy


def _labels(db) -> None:
    """Two people who trade 3.2 for 3.3 (a co-confusion pair) and agree on 1.1."""
    for seg in (2, 3, 4, 6, 7, 8):
        add_other_labels(db, seg, "annotator_1", {"1.1", "3.2"} if seg % 2 else {"3.2"})
        add_other_labels(db, seg, "annotator_2", {"1.1", "3.3"} if seg % 2 else {"3.3"})


def _versions(db) -> list[str]:
    return [f"{t.name}@{t.version}" for t in store.list_taxonomies(db)]


def test_a_reviewer_sees_the_taxonomy_but_not_the_editor(app_tokens, app_db):
    _labels(app_db)
    at = signed_in(app_tokens["rita"], "views/taxonomy.py")
    assert not at.exception and [t.value for t in at.title] == ["Taxonomy"]
    assert list(at.dataframe[0].value["version"]) == ["mast@1"]
    assert "Only an admin can refine" in shown(at.info[0].value)
    assert not [b for b in at.button if b.label in ("Add change", "Create version")]
    page = texts(at)
    assert "Loss of Conversation History" in page and "Premature Termination" in page  # the modes tab


def test_ambiguous_modes_with_their_co_confusion_partners(app_tokens, app_db):
    _labels(app_db)
    at = signed_in(app_tokens["rita"], "views/taxonomy.py")
    table = next(d.value for d in at.dataframe if "human kappa" in d.value.columns)
    top = table.iloc[0]
    assert top["mode"].split()[0] in ("3.2", "3.3") and top["human kappa"] != "n/a"
    assert "(6x)" in top["confused with"]
    at.selectbox(key="tx_amb_mode").set_value("3.2").run()
    assert any(e.label.startswith("segment ") for e in at.expander)


def test_merge_two_modes_through_the_editor(app_tokens, app_db):
    _labels(app_db)
    at = signed_in(app_tokens["lead"], "views/taxonomy.py")
    at.segmented_control(key="tx_kind").set_value("merge").run()
    at.multiselect(key="tx_merge_codes").set_value(["3.2", "3.3"])
    at.text_input(key="tx_merge_name").input("Verification failure")
    at.text_area(key="tx_merge_def").input("Verification is missing, incomplete or wrong.")
    button(at, "Add change").click().run()
    assert not at.error, at.error
    assert any("merge 3.2, 3.3 into 3.2 Verification failure" in t.value for t in at.text)
    preview = next(d.value for d in at.dataframe if "change" in d.value.columns and "from" in d.value.columns)
    assert preview.set_index("code").loc["3.2", "from"] == "3.2, 3.3" and "3.3" not in list(preview["code"])
    button(at, "Create version").click().run()
    assert not at.exception and not at.error, at.error
    assert _versions(app_db) == ["mast@1", "mast@2"]
    assert "mast@2 made from mast@1" in shown(at.success[0].value)
    versions = at.dataframe[0].value.set_index("version")
    assert versions.loc["mast@2", "parent"] == "mast@1" and versions.loc["mast@2", "modes"] == 13
    compare = next(d.value for d in at.dataframe if "kappa after" in d.value.columns).set_index("change")
    assert compare.loc["merge", "from"] == "3.2, 3.3" and compare.loc["merge", "kappa after"] == "n/a"
    assert at.selectbox(key="tx_base").value == "mast@2" and not at.warning  # further changes build on it
    merged = store.get_taxonomy(app_db, "mast@2").taxonomy.resolve("3.2")
    assert merged.name == "Verification failure" and merged.category == "Task Verification"


def test_edit_rename_retire_add_and_split_through_the_form(app_tokens, app_db):
    at = signed_in(app_tokens["lead"], "views/taxonomy.py")
    steps = [("edit", lambda: at.text_area(key="tx_edit_def_1.3").input("Repeats a step twice or more.")),
             ("rename", lambda: at.text_input(key="tx_rename_name_1.1").input("Task specification violated")),
             ("retire", lambda: at.selectbox(key="tx_retire_code").set_value("2.1")),
             ("add", lambda: [at.text_input(key="tx_add_code").input("4.1"), at.text_input(key="tx_add_name").input(
                 "Tool misuse"), at.text_input(key="tx_add_cat").input("Tools"),
                 at.text_area(key="tx_add_def").input("A tool is called wrongly.")]),
             ("split", lambda: [at.selectbox(key="tx_split_code").set_value("2.5"),
                                *[(at.text_area if f == "def" else at.text_input)(key=f"tx_split_{i}_{f}").input(v)
                                  for i, (c, n) in enumerate([("2.5a", "Ignored correction"),
                                                              ("2.5b", "Ignored suggestion")])
                                  for f, v in (("code", c), ("name", n), ("def", f"{n}."))]])]
    for kind, fill in steps:
        at.segmented_control(key="tx_kind").set_value(kind).run()
        if kind in ("edit", "rename"):
            at.selectbox(key=f"tx_{kind}_code").set_value("1.3" if kind == "edit" else "1.1").run()
        fill()
        button(at, "Add change").click().run()
        assert not at.error, (kind, at.error)
    button(at, "Create version").click().run()
    assert not at.error, at.error
    new = store.get_taxonomy(app_db, "mast@2").taxonomy
    assert new.resolve("1.3").definition == "Repeats a step twice or more."
    assert new.resolve("1.1").name == "Task specification violated" and "2.1" not in new.codes
    assert new.resolve("4.1").category == "Tools" and {"2.5a", "2.5b"} <= set(new.codes) and "2.5" not in new.codes


@pytest.mark.parametrize("pasted, message", [
    ('- merge: ["3.2", "9.9"]\n  into: {code: "3.2", name: V, category: C, definition: D}', "has no mode '9.9'"),
    ('- split: "2.5"\n  into:\n    - {code: "2.5a", name: A, category: C, definition: D}', "at least two new modes"),
    ("- frobnicate: 1.1", "expected exactly one of"),
    ("changes: [", "not valid YAML"),
])
def test_bad_changes_are_refused_and_change_nothing(app_tokens, app_db, pasted, message):
    at = signed_in(app_tokens["lead"], "views/taxonomy.py")
    at.text_area(key="tx_yaml").input(pasted)
    button(at, "Add these changes").click().run()
    assert message in shown(at.error[0].value) and "Changes not added" in shown(at.error[0].value)
    assert not at.session_state["tx_changes"] and _versions(app_db) == ["mast@1"]


def test_merging_a_single_mode_is_refused(app_tokens, app_db):
    at = signed_in(app_tokens["lead"], "views/taxonomy.py")
    at.multiselect(key="tx_merge_codes").set_value(["3.2"])
    at.text_input(key="tx_merge_name").input("V")
    at.text_area(key="tx_merge_def").input("D")
    button(at, "Add change").click().run()
    assert "needs at least two different codes" in shown(at.error[0].value)


def test_a_taken_version_name_changes_nothing(app_tokens, app_db):
    at = signed_in(app_tokens["lead"], "views/taxonomy.py")
    at.text_area(key="tx_yaml").input('version: "1"\nchanges:\n  - retire: "2.1"')
    button(at, "Add these changes").click().run()
    assert at.text_input(key="tx_version").value == "1"
    button(at, "Create version").click().run()
    assert "Nothing changed: mast@1 exists already" in shown(at.error[0].value)
    assert _versions(app_db) == ["mast@1"] and at.session_state["tx_changes"]  # the list is kept to fix


def test_editor_helpers():
    base = load_taxonomy("mast")
    raw = page_model.change_dict("split", {"code": "2.5", "parts": [
        {"code": "a", "name": "A", "category": "C", "definition": "d"},
        {"code": "b", "name": "B", "category": "C", "definition": "d"}]})
    assert page_model.describe(raw) == "split 2.5 into a, b"
    rows = page_model.preview_rows(page_model.preview(base, [raw, {"retire": "1.1"}], version="2"))
    assert {r["code"]: r["change"] for r in rows}["a"] == "split" and rows[-1] == {
        "code": "1.1", "name": "", "category": "", "change": "retire", "from": "1.1"}
    assert page_model.parse_yaml("- retire: '2.1'") == ([{"retire": "2.1"}], None)
