"""The taxonomy editor (admin): build a list of changes to a version, preview the new version, and
create it with annotator.services.refine.refine_taxonomy (all or nothing).

Changes are kept in the refinement-file shape (`tx_changes`), so pasted YAML and the form's changes
are one list. Each change is checked against the ones before it as it is added; the whole list is
checked again, by the service, when the version is created.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotator import store
from annotator.app import auth, state
from annotator.app.components.taxonomy_panels import CREATED, show_before_after
from annotator.app.viewmodels import taxonomy_page as page_model
from annotator.app.viewmodels.text import md_literal, plain
from annotator.core.errors import UserError
from annotator.core.taxonomy import Taxonomy
from annotator.services.refine import next_version, refine_taxonomy

CHANGES = "tx_changes"
BASE = "tx_base"
MAX_PARTS = 6
CHANGED_STYLE = "background-color: #fff1e0"


def _codes_now(base: Taxonomy) -> Taxonomy:
    """The taxonomy as the changes so far leave it (what the next change applies to)."""
    changes = st.session_state.get(CHANGES) or []
    if not changes:
        return base
    try:
        return page_model.preview(base, changes, version=base.version + "-preview").taxonomy
    except ValueError:
        return base


def _fields(kind: str, current: Taxonomy) -> dict:
    """The editor's fields for one kind of change, read from session state (in a callback)."""
    ss = st.session_state
    if kind in ("edit", "rename", "retire"):
        code = ss[f"tx_{kind}_code"]
        return {"code": code, "definition": ss.get(f"tx_edit_def_{code}", ""),
                "name": ss.get(f"tx_rename_name_{code}", "")}
    if kind == "add":
        return {"new_code": ss["tx_add_code"], "name": ss["tx_add_name"], "category": ss["tx_add_cat"],
                "definition": ss["tx_add_def"]}
    if kind == "merge":
        codes = list(ss["tx_merge_codes"])
        first = current.resolve(codes[0]) if codes else None
        return {"codes": codes, "new_code": ss["tx_merge_code"] or (first.code if first else ""),
                "name": ss["tx_merge_name"], "category": ss["tx_merge_cat"] or (first.category if first else ""),
                "definition": ss["tx_merge_def"]}
    code = ss["tx_split_code"]
    category = current.resolve(code).category
    return {"code": code, "parts": [{"code": ss.get(f"tx_split_{i}_code", ""), "name": ss.get(f"tx_split_{i}_name", ""),
                                     "category": category, "definition": ss.get(f"tx_split_{i}_def", "")}
                                    for i in range(int(ss["tx_split_n"]))]}


def _base_taxonomy(base_ref: str) -> Taxonomy:
    with state.open_db() as db:
        return store.get_taxonomy(db, base_ref).taxonomy


def _add(kind: str, base_ref: str) -> None:
    base = _base_taxonomy(base_ref)
    changes = list(st.session_state.get(CHANGES) or [])
    try:
        raw = page_model.change_dict(kind, _fields(kind, _codes_now(base)))
        page_model.preview(base, [*changes, raw], version=base.version + "-preview")
    except (ValueError, KeyError) as exc:
        st.session_state["tx_error"] = f"Change not added: {exc}"
        return
    st.session_state[CHANGES] = [*changes, raw]


def _add_yaml(base_ref: str) -> None:
    base = _base_taxonomy(base_ref)
    changes = list(st.session_state.get(CHANGES) or [])
    try:
        pasted, version = page_model.parse_yaml(st.session_state.get("tx_yaml") or "")
        page_model.preview(base, [*changes, *pasted], version=base.version + "-preview")
    except ValueError as exc:
        st.session_state["tx_error"] = f"Changes not added: {exc}"
        return
    st.session_state[CHANGES] = [*changes, *pasted]
    if version and not st.session_state.get("tx_version"):
        st.session_state["tx_version"] = version


def _remove(index: int) -> None:
    changes = list(st.session_state.get(CHANGES) or [])
    del changes[index]
    st.session_state[CHANGES] = changes


def _create(base_ref: str) -> None:
    """Make the new version (one transaction in the service); on any error nothing is stored."""
    user = auth.current_user()
    if user is None or user.role != "admin":
        st.session_state["tx_error"] = "Only an admin can create a taxonomy version."
        return
    version = (st.session_state.get("tx_version") or "").strip() or None
    try:
        with state.open_db() as db:
            done = refine_taxonomy(db, base_ref, page_model.parse_changes(st.session_state.get(CHANGES) or []),
                                   version=version, actor=user)
    except UserError as exc:  # TaxonomyError, StoreError
        st.session_state["tx_error"] = f"Nothing changed: {exc}"
        return
    st.session_state[CREATED] = done.taxonomy
    st.session_state["tx_done"] = page_model.refinement_lines(done)
    st.session_state[BASE] = done.taxonomy  # further changes build on the new version
    _forget_changes()


def _forget_changes() -> None:
    """A new base: drop the changes and the drafts prefilled from the old base's modes."""
    st.session_state[CHANGES] = []
    st.session_state["tx_version"] = ""
    for key in [k for k in st.session_state if str(k).startswith(("tx_edit_def_", "tx_rename_name_"))]:
        del st.session_state[key]


def _code_select(kind: str, current: Taxonomy) -> str:
    names = {m.code: plain(f"{m.code} {m.name}") for m in current.modes}
    return st.selectbox("Mode", list(names), key=f"tx_{kind}_code", format_func=names.get)


def _show_fields(kind: str, current: Taxonomy) -> None:
    """The inputs of one kind of change; prefilled from the mode chosen (keys carry its code)."""
    if kind in ("edit", "rename", "retire"):
        mode = current.resolve(_code_select(kind, current))
        if kind == "edit":
            st.text_area("New definition", value=mode.definition, key=f"tx_edit_def_{mode.code}", height=110)
        elif kind == "rename":
            st.text_input("New name", value=mode.name, key=f"tx_rename_name_{mode.code}")
        return
    if kind == "split":
        mode = current.resolve(_code_select(kind, current))
        n = st.number_input("Into how many modes", min_value=2, max_value=MAX_PARTS, value=2, key="tx_split_n")
        for i in range(int(n)):
            c1, c2 = st.columns([1, 3])
            c1.text_input(f"Code {i + 1}", key=f"tx_split_{i}_code", placeholder=f"{mode.code}{'abcdef'[i]}")
            c2.text_input(f"Name {i + 1}", key=f"tx_split_{i}_name")
            st.text_area(f"Definition {i + 1}", key=f"tx_split_{i}_def", height=68)
        st.caption(f"The parts keep the category {md_literal(mode.category)}. Where {md_literal(mode.code)} was marked "
                   "present, the segment goes back to its annotators; where absent, every part is absent.")
        return
    prefix = "tx_merge" if kind == "merge" else "tx_add"
    if kind == "merge":
        names = {m.code: plain(f"{m.code} {m.name}") for m in current.modes}
        st.multiselect("Modes to merge", list(names), key="tx_merge_codes", format_func=names.get)
    c1, c2, c3 = st.columns([1, 2, 2])
    c1.text_input("Code", key=f"{prefix}_code", placeholder="first merged code" if kind == "merge" else "4.1")
    c2.text_input("Name", key=f"{prefix}_name")
    c3.text_input("Category", key=f"{prefix}_cat",
                  placeholder="the first merged mode's" if kind == "merge" else plain(current.modes[-1].category))
    st.text_area("Definition", key=f"{prefix}_def", height=90)


def _show_changes(base: Taxonomy, version: str) -> None:
    changes = st.session_state.get(CHANGES) or []
    st.markdown(f"**Changes to {md_literal(base.ref)}** ({len(changes)})")
    if not changes:
        st.caption("None yet: add some with the form above, or paste a refinement file.")
        return
    for i, raw in enumerate(changes):
        text_col, remove_col = st.columns([8, 1], vertical_alignment="center")
        text_col.text(plain(f"{i + 1}. {page_model.describe(raw)}"))
        remove_col.button("Remove", key=f"tx_remove_{i}", on_click=_remove, args=(i,), type="tertiary",
                          icon=":material/close:")
    try:
        new_plan = page_model.preview(base, changes, version=version)
    except ValueError as exc:
        st.error(md_literal(f"These changes do not fit {base.ref}: {exc}"))
        return
    st.caption(f"Preview of {md_literal(new_plan.taxonomy.ref)}: {len(new_plan.taxonomy.modes)} modes")
    rows = page_model.preview_rows(new_plan)
    table = pd.DataFrame(rows).style.apply(lambda row: [CHANGED_STYLE if row["change"] else ""] * len(row), axis=1)
    st.dataframe(table, hide_index=True, width="stretch", height=35 * (len(rows) + 1) + 3)


def show(db) -> None:
    """The editor: base version, a change form, pasted YAML, the list with a preview, Create version."""
    st.session_state.setdefault(CHANGES, [])
    if error := st.session_state.pop("tx_error", None):
        st.error(md_literal(error))  # it quotes codes, names and the YAML pasted
    if done := st.session_state.pop("tx_done", None):
        st.success(md_literal("\n".join(done), multiline=True))
        show_before_after(db, st.session_state[CREATED])
    options = [f"{t.name}@{t.version}" for t in store.list_taxonomies(db)]
    if st.session_state.get(BASE) not in options:
        st.session_state[BASE] = options[-1]  # before the widget exists: no default given twice
    base_ref = st.selectbox("Refine version", options, key=BASE, on_change=_forget_changes, width=320,
                            format_func=plain)
    base = store.get_taxonomy(db, base_ref).taxonomy
    current = _codes_now(base)
    with st.container(border=True):
        kind = st.segmented_control("Change", page_model.KINDS, key="tx_kind", default="merge",
                                    format_func=page_model.KIND_LABELS.get) or "merge"
        _show_fields(kind, current)
        st.button("Add change", key="tx_add_change", on_click=_add, args=(kind, base_ref), icon=":material/add:")
    with st.expander("Paste changes as YAML (the refinement file format)", icon=":material/code:"):
        st.text_area("Changes", key="tx_yaml", height=150, placeholder='- merge: ["3.2", "3.3"]\n  into: {code: "3.2", '
                     'name: "Verification failure", category: "Task Verification", definition: "..."}')
        st.button("Add these changes", key="tx_add_yaml", on_click=_add_yaml, args=(base_ref,))
    suggested = next_version(db, base.name, base.version)
    version = (st.session_state.get("tx_version") or "").strip() or suggested
    _show_changes(base, version)
    name_col, create_col = st.columns([2, 3], vertical_alignment="bottom")
    name_col.text_input("New version", key="tx_version", placeholder=suggested,
                        help=md_literal(f"Leave empty for {base.name}@{suggested}. A version name can be used once."))
    create_col.button("Create version", key="tx_create", type="primary", icon=":material/new_label:",
                      on_click=_create, args=(base_ref,), disabled=not st.session_state.get(CHANGES))
