import json

import pytest

from annotator.core.taxonomy import (
    TaxonomyError,
    load_mast_draft_mappings,
    load_taxonomy,
    parse_ref,
    taxonomy_from_dict,
)


def test_mast_has_14_modes_in_3_categories():
    mast = load_taxonomy("mast")
    assert mast.ref == "mast@1"
    assert len(mast.modes) == 14
    assert [c for c, _ in mast.categories()] == [
        "Specification Issues", "Inter-Agent Misalignment", "Task Verification"]
    assert [len(m) for _, m in mast.categories()] == [5, 6, 3]
    assert all(m.definition and m.name for m in mast.modes)


def test_aliases_resolve_to_one_code_each():
    mast = load_taxonomy("mast")
    owners: dict[str, set[str]] = {}
    for m in mast.modes:
        for name in (m.name, *m.aliases):
            owners.setdefault(name.lower(), set()).add(m.code)
    assert all(len(codes) == 1 for codes in owners.values()), "a name or alias must not name two modes"
    assert mast.resolve("Lack of critical verification").code == "3.2"
    assert mast.resolve("lack of result verification").code == "3.3"
    assert mast.resolve("Inconsistency between reasoning and action").code == "2.6"
    assert mast.resolve("2.6").name == "Reasoning-Action Mismatch"


def test_fingerprint_is_content_not_file(tmp_path):
    mast = load_taxonomy("mast")
    doc = {"name": "mast", "version": "1", "modes": [m.to_dict() for m in mast.modes]}
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(doc))
    assert load_taxonomy(path).fingerprint == mast.fingerprint
    doc["modes"][0]["definition"] += " Edited."
    path.write_text(json.dumps(doc))
    assert load_taxonomy(path).fingerprint != mast.fingerprint


@pytest.mark.parametrize("doc, message", [
    ([], "expected a mapping"),
    ({"name": "x", "version": "1", "modes": []}, "'modes' must be a non-empty list"),
    ({"name": "x", "modes": [{"code": "a"}]}, "missing field 'version'"),
    ({"name": "x", "version": "1", "modes": [{"code": "a", "name": "A", "category": "C"}]},
     "modes[0]: missing field 'definition'"),
    ({"name": "x", "version": "1", "modes": [
        {"code": "a", "name": "A", "category": "C", "definition": "d"},
        {"code": "a", "name": "B", "category": "C", "definition": "d"}]}, "modes[1]: duplicate code 'a'"),
])
def test_bad_taxonomy_documents_name_the_field(doc, message):
    with pytest.raises(TaxonomyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        taxonomy_from_dict(doc, where="t.yaml")


def test_unreadable_taxonomy_file_is_one_line(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(TaxonomyError) as err:
        load_taxonomy(bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(TaxonomyError, match="no such taxonomy file"):
        load_taxonomy(tmp_path / "missing.yaml")


def test_draft_mappings_cover_every_final_code_once():
    final = set(load_taxonomy("mast").codes)
    for draft, mapping in load_mast_draft_mappings().items():
        targets = [t for t in mapping.codes.values() if t is not None]
        assert set(targets) == final, draft
        assert len(targets) == len(set(targets)), f"{draft}: two draft modes map to one final mode"
    assert load_mast_draft_mappings()["round-1"].codes["4.3"] == "3.2"


def test_mapping_takes_the_or_of_merged_codes():
    mapping = load_mast_draft_mappings()["round-1"]
    assert mapping.map_labels({"1.2": 1, "1.3": 1, "4.2": 0}) == {"2.6": 1, "3.3": 0}


def test_parse_ref():
    assert parse_ref("mast@draft-round-1") == ("mast", "draft-round-1")
    assert parse_ref("mast") == ("mast", None)
    with pytest.raises(TaxonomyError):
        parse_ref("@1")
