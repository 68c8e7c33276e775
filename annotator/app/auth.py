"""Signing in with an access token (form field or ?token= link), signing out, role checks.

The session keeps the user's id and the hash of the token she signed in with; every run re-checks
both against the database, so a reset token or a disabled account ends the session.
"""

from __future__ import annotations

import streamlit as st

from annotator import store
from annotator.app import state
from annotator.app.viewmodels.navigation import allowed
from annotator.app.viewmodels.text import md_literal
from annotator.store.users import User

# Takes the token out of the address by replacing this tab's history entry, so Back never returns to the
# sign-in link, then tells the server, which drops the token from its copy of the query parameters.
# (Dropping it on the server first makes Streamlit push a new history entry, and Back signed in again.)
# It receives no data: it only reads and rewrites the address.
_FORGET_LINK_JS = r"""
export default function (component) {
  const url = new URL(window.location.href);
  if (url.searchParams.has('token')) {
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
  }
  component.setTriggerValue('forgotten', true);
}
"""
_forget_link = st.components.v2.component("annotator_forget_link", js=_FORGET_LINK_JS)


def _drop_token_param() -> None:
    """The address no longer shows the token: drop it here too (the browser's URL already matches, so
    Streamlit changes no history entry)."""
    st.query_params.pop("token", None)


BAD_TOKEN = ("This access token is not valid: it may be mistyped, replaced by a newer one, or its account "
             "disabled. Ask your lead for a new sign-in link.")


def current_user() -> User | None:
    """The signed-in user, re-checked against the database; None if not signed in (any more)."""
    session = st.session_state.get(state.USER)
    if not session:
        return None
    with state.open_db() as db:
        user = store.session_user(db, session["id"], session["token_hash"])
    if user is None:
        sign_out(message="Your session ended (the token was replaced or the account disabled). Sign in again.")
    return user


def try_sign_in(token: str) -> User | None:
    with state.open_db() as db:
        user = store.user_for_token(db, token)
    if user is not None:
        reset_session()
        st.session_state[state.USER] = {"id": user.id, "token_hash": store.hash_token(token.strip())}
    return user


def reset_session(message: str | None = None) -> None:
    """Forget everything this browser session held (labels drafts included)."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if message:
        st.session_state["auth_message"] = message


def sign_out(message: str | None = None) -> None:
    reset_session(message)
    # A sign-in link the browser has not yet taken out of the address must not sign her in again.
    _drop_token_param()


def token_from_link() -> None:
    """Sign in from a `?token=` link, and have the browser take the token out of the address (either way).

    Until the browser has done so, later runs still see the token: a session already signed in with it
    is left alone (signing in again would drop her drafts)."""
    token = st.query_params.get("token")
    if token is None:
        return
    _forget_link(key="annotator_forget_link", height=0, on_forgotten_change=_drop_token_param)
    session = st.session_state.get(state.USER)
    if session and session["token_hash"] == store.hash_token(token.strip()):
        return
    if try_sign_in(token) is None:
        st.session_state["auth_message"] = BAD_TOKEN


def sign_in_page() -> None:
    st.title("annotator")
    st.caption("Label failure modes in multi-agent LLM traces.")
    message = st.session_state.pop("auth_message", None)
    if message:
        st.error(message)
    with st.form("sign_in", border=True, width=480):
        token = st.text_input("Access token", type="password", key="sign_in_token", autocomplete="current-password",
                              help="The token your lead gave you (printed by `annotator users add`). "
                                   "Your browser may offer to remember it, for the next sign-in.")
        if st.form_submit_button("Sign in", type="primary"):
            if try_sign_in(token or ""):
                st.rerun()
            st.error(BAD_TOKEN)


def require(min_role: str) -> User:
    """The signed-in user if her role may open this page; otherwise stop the page.

    main.py checks the session once per run and leaves the user in RUN_USER for the page.
    """
    user = st.session_state.get(state.RUN_USER) or current_user()
    if user is None or not allowed(user.role, min_role):
        st.error("You do not have access to this page.")
        st.stop()
    return user


def show_account(user: User) -> None:
    """Who is signed in, and the sign-out button (sidebar)."""
    st.sidebar.caption(f"Signed in as {md_literal(user.name)} · {user.role}")
    if st.sidebar.button("Sign out", key="sign_out", icon=":material/logout:"):
        sign_out(message="Signed out.")
        st.rerun()
