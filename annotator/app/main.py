"""The app's script body: sign-in, then the pages of the user's role (st.navigation).

Streamlit runs :mod:`annotator.app.launch.streamlit_app`, which calls :func:`run` on every rerun;
start it with `annotator serve` (or `annotator demo`); the database is $ANNOTATOR_DB.
"""

import logging

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from annotator import store
from annotator.app import auth, keys, state, upload_gate
from annotator.app.viewmodels.navigation import VIEWS, pages_for
from annotator.core.plaintext import md_literal
from annotator.services import logs


def run() -> None:
    """One script run: configure logging, check the session, run the chosen page."""
    logs.configure(store.default_path())  # beside the database; idempotent across reruns
    # An emoji favicon is drawn in the browser; a Material one (also a page's icon when no page_icon is
    # set here) would be fetched from a font CDN.
    st.set_page_config(page_title="annotator", page_icon="🏷️", layout="wide",
                       menu_items={"Get help": None, "Report a bug": None,
                                   "About": "annotator: label failure modes in multi-agent LLM traces."})
    upload_gate.install()  # once per server process
    _require_database()
    page = _navigation()
    try:
        page.run()
    except Exception as exc:  # stop and rerun are not Exceptions
        problem = state.database_problem(exc)
        if problem is None:  # a bug: Streamlit shows it on the page, the log keeps the traceback
            logging.getLogger("annotator.app").exception("page %r failed", page.title)
            raise
        logging.getLogger("annotator.app").warning("page %r: %s", page.title, problem)
        st.error(md_literal(str(problem)))  # its one line, not a traceback


def _require_database() -> None:
    """A server started on a missing database (`streamlit run` by hand) says so instead of creating one."""
    try:
        state.db_path()
    except store.DatabaseFileError as exc:
        st.error(md_literal(str(exc)))
        st.stop()


def _permit_uploads(user) -> None:
    """Only an admin's session may upload (the Data page's uploader); decided again on every run."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        upload_gate.permit(ctx.session_id, user is not None and user.role == "admin")


def _navigation():
    """The sign-in page, or the pages of the signed-in user's role (and her account in the sidebar)."""
    auth.token_from_link()
    user = auth.current_user()
    st.session_state[state.RUN_USER] = user
    _permit_uploads(user)
    if user is None:
        return st.navigation([st.Page(auth.sign_in_page, title="Sign in", icon=":material/login:")])
    page = st.navigation([st.Page(VIEWS / spec.file, title=spec.title, icon=spec.icon, default=i == 0)
                          for i, spec in enumerate(pages_for(user.role))])
    auth.show_account(user)
    with st.sidebar:
        keys.install()
    return page
