"""Panels of the Data page: import uploads, assignment settings, database statistics."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from annotator import store
from annotator.app import auth, state
from annotator.app.viewmodels.team import annotator_rows, when
from annotator.app.viewmodels.text import md_literal, plain
from annotator.app.viewmodels.uploads import import_upload, parse_tags
from annotator.core.errors import UserError
from annotator.services import admin

RESULTS = "data_import_results"  # messages of the last import, shown after the rerun
NAMING = {"anonymous": "rater 1, rater 2, ... (anonymous)", "names": "their user names"}


def load(db) -> dict:
    """Everything the Data page shows, read in one place."""
    settings = store.get_settings(db)
    return {
        "settings": settings,
        "users": store.list_users(db),
        "taxonomies": [t for t in store.list_taxonomies(db) if not t.is_draft],
        "stats": store.database_stats(db),
        "team": store.team_progress(db),
        "queue": store.queue_summary(db, settings.k),
        "claims": store.claim_holders(db, settings.lease_minutes),
        "audit": list(store.iter_audit(db, newest_first=True, limit=200)),
    }


def _run_imports(files, fmt: str, scheme: str, tags_text: str, actor: store.User) -> list[tuple[str, str]]:
    try:
        tags = parse_tags(tags_text)
    except UserError as exc:
        return [("error", f"Tags: {exc}")]
    messages = []
    for upload in files:
        try:
            with state.open_db() as db:
                result = import_upload(db, upload.name, upload.getvalue(), fmt=fmt, scheme=scheme.strip() or None,
                                       tags=tags, actor=actor)
        except UserError as exc:  # IngestError and the store's errors: one line naming the file
            messages.append(("error", str(exc)))
            continue
        messages.append(("success", f"{result.path}: {result.format}, {result.traces_added} new of "
                                    f"{result.traces_seen} traces, {result.labels_added} labels added"
                                    f" (segments: {result.scheme})"))
    return messages


def show_import() -> None:
    try:
        from annotator.ingest import FORMATS
    except ImportError as exc:  # a broken install: keep the rest of the page usable
        st.error(f"Importing is unavailable in this installation: {exc}")
        return
    for kind, message in st.session_state.pop(RESULTS, []):
        # the messages quote the file: its name, record ids, rater names, codes
        (st.error if kind == "error" else st.success)(md_literal(message))
    with st.form("data_import"):
        files = st.file_uploader("Trace files", accept_multiple_files=True, key="data_files",
                                 help="MAST JSON (human or LLM labelled), JSON Lines, plain text, OTLP and "
                                      "OpenInference exports, Langfuse, LangSmith, OpenAI Agents, AG2 logs.")
        fmt_col, scheme_col, tags_col = st.columns(3)
        fmt = fmt_col.selectbox("Format", FORMATS, key="data_format")
        scheme = scheme_col.text_input("Segments", key="data_scheme", placeholder="the format's default",
                                       help="trace (whole trace), turn, or window:N (N turns each); empty: turn "
                                            "for traces from observability tools and AG2 logs, trace otherwise")
        tags = tags_col.text_input("Tags", key="data_tags", placeholder="round=2, batch=a")
        if st.form_submit_button("Import", type="primary", icon=":material/upload:"):
            if not files:
                st.error("Choose one or more files first.")
            else:
                st.session_state[RESULTS] = _run_imports(files, fmt, scheme, tags, auth.acting_user())
                st.rerun()


def _save_settings(**changes) -> None:
    try:
        with state.open_db() as db:
            admin.change_settings(db, auth.acting_user(), **changes)
    except UserError as exc:
        st.session_state["data_settings_error"] = str(exc)
    else:
        st.session_state["data_settings_saved"] = True


def show_settings(snapshot: dict) -> None:
    settings: store.QueueSettings = snapshot["settings"]
    if st.session_state.pop("data_settings_saved", False):
        st.success("Settings saved.")
    if error := st.session_state.pop("data_settings_error", None):
        st.error(md_literal(error))
    names = [u.name for u in snapshot["users"] if u.active]
    refs = [f"{t.name}@{t.version}" for t in snapshot["taxonomies"]]
    with st.form("data_settings"):
        k = st.number_input("Annotators per segment (k)", min_value=1, max_value=50, value=settings.k, step=1,
                            width=220)
        everyone = st.toggle("Every user with role annotator labels", value=settings.annotators is None)
        chosen = st.multiselect("Or only these users", names,
                                default=[n for n in (settings.annotators or ()) if n in names])
        reveal = st.toggle("Reveal phase: annotators see other raters' labels on segments they have submitted",
                           value=settings.reveal)
        names = st.radio("After the reveal, annotators and reviewers see the other raters as",
                         store.REVEAL_NAMES, index=store.REVEAL_NAMES.index(settings.reveal_names), horizontal=True,
                         format_func=NAMING.get, key="data_reveal_names")
        options = ["latest " + settings.taxonomy.split("@")[0], *refs]
        taxonomy = st.selectbox("Taxonomy to label with", options, width=320,
                                index=(1 + refs.index(settings.taxonomy)) if settings.taxonomy in refs else 0)
        lease = st.number_input("Claim lease (minutes): an annotator idle this long gives her claims back",
                                min_value=1, max_value=store.MAX_LEASE_MINUTES, step=30, width=220,
                                value=int(settings.lease_minutes or 240), key="data_lease")
        no_lease = st.toggle("Claims never expire", value=settings.lease_minutes is None, key="data_no_lease")
        if st.form_submit_button("Save settings", type="primary"):
            _save_settings(k=int(k), annotators=None if everyone else chosen, reveal=reveal,
                           reveal_names=names, taxonomy=taxonomy.removeprefix("latest "),
                           lease_minutes=None if no_lease else int(lease))
            st.rerun()
    _show_queue(snapshot)


def _hand_out(per_rater: int) -> None:
    with state.open_db() as db:
        given = admin.hand_out(db, auth.acting_user(), per_rater)
    st.session_state["data_handed_out"] = sum(given.values())


def _show_queue(snapshot: dict) -> None:
    queue = snapshot["queue"]
    st.subheader("Queue")
    k = snapshot["settings"].k
    a, b, c, d = st.columns(4)
    a.metric("Segments to label", f"{queue['queued']:,}", help="Segments in the queue, labelled or not.")
    b.metric(f"Given to all {k} annotators", f"{queue['full']:,}",
             help=f"Segments that already went to {k} annotators (labelled or still with them): they take no more.")
    c.metric("Still need annotators", f"{queue['queued'] - queue['full']:,}",
             help=f"Segments given to fewer than {k} annotators: the next ones handed out.")
    d.metric("Segments handed out", f"{queue['claims']:,}",
             help="One segment given to one annotator counts once, whether she has labelled it or not.")
    st.caption("Annotators claim their next segment when they finish one. You can also hand out segments "
               "in advance, so each annotator sees how many are waiting.")
    if handed := st.session_state.pop("data_handed_out", None):
        st.success(f"Handed out {handed} segments.")
    per, go = st.columns([1, 3], vertical_alignment="bottom")
    n = per.number_input("Segments per annotator", min_value=1, max_value=10_000, value=20, key="data_per_rater")
    go.button("Hand out now", on_click=_hand_out, args=(int(n),), key="data_hand_out")
    st.subheader("Annotators")
    team = annotator_rows(snapshot["team"])
    if team:
        st.dataframe(team, hide_index=True, width="stretch")
    else:
        st.text("No annotators yet: add them with the command: annotator users add NAME")
    _show_claims(snapshot)


def _release(rater_id: int, name: str) -> None:
    with state.open_db() as db:
        released = admin.release_claims(db, auth.acting_user(), rater_id, name)
    st.session_state["data_released"] = (name, released)


def _show_claims(snapshot: dict) -> None:
    """Who holds unsubmitted claims, until when, and a button to give one annotator's claims back."""
    st.subheader("Claims")
    now = datetime.now(UTC)
    lease = snapshot["settings"].lease_minutes
    st.caption("Segments claimed and not yet submitted. " + (
        f"An annotator idle for {lease:g} minutes gives her claims back to the queue." if lease is not None
        else "Claims never expire (set a lease above)."))
    if released := st.session_state.pop("data_released", None):
        st.success(md_literal(f"Released {released[1]} claims of {released[0]}."))
    if not snapshot["claims"]:
        st.text("No claims held.")
    for holder in snapshot["claims"]:
        name = holder["name"] or f"rater {holder['rater_id']}"
        text, button = st.columns([3, 1], vertical_alignment="center")
        text.text(f"{plain(name)}: {holder['claims']} segments not yet submitted, last active "
                  f"{when(holder['last_activity'], now)}"
                  + (f", given back {holder['expires_at'][:16].replace('T', ' ')} UTC" if holder["expires_at"] else ""))
        button.button("Release this annotator's claims", key=f"data_release_{holder['rater_id']}",
                      on_click=_release, args=(holder["rater_id"], name))


def show_stats(snapshot: dict) -> None:
    stats = snapshot["stats"]
    cols = st.columns(4)
    for col, (label, key) in zip(cols, [("Traces", "traces"), ("Segments", "segments"), ("Labels", "labels"),
                                        ("Gold labels", "gold_labels")]):
        col.metric(label, f"{stats[key]:,}")
    st.subheader("Raters")
    st.dataframe(stats["raters"], hide_index=True, width="stretch")
    st.subheader("Taxonomies")
    st.dataframe(stats["taxonomies"], hide_index=True, width="stretch")
    st.subheader("Segments by scheme")
    st.dataframe([{"scheme": k, "segments": v} for k, v in stats["segments_by_scheme"].items()], hide_index=True)


def show_audit(snapshot: dict) -> None:
    """The latest changes of gold, taxonomies, settings and users (admins only: the Data page)."""
    st.caption("Who changed gold, taxonomies, settings and users, and when (the latest 200; all of them with "
               "`annotator export audit`).")
    if not snapshot["audit"]:
        st.text("No changes recorded yet.")
        return
    st.dataframe([{k: row[k] for k in ("at", "actor", "role", "action", "target", "detail")}
                  for row in snapshot["audit"]], hide_index=True, width="stretch")
