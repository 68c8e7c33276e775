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
from annotator.core.errors import RefusedError
from annotator.store.users import User

# Takes the token out of the address by replacing this tab's history entry, so Back never returns to the
# sign-in link. (Dropping it from st.query_params while the address still shows it makes Streamlit push a
# new history entry, and Back then signed in again.) It receives no data: it only rewrites the address.
_FORGET_LINK_JS = r"""
export default function () {
  const url = new URL(window.location.href);
  if (!url.searchParams.has('token')) return;
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
}
"""
_forget_link = st.components.v2.component("annotator_forget_link", js=_FORGET_LINK_JS)
LINK_SEEN = "auth_link_seen"  # hash of the ?token= this session has already used

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
    st.query_params.pop("token", None)  # the browser has taken it out of the address by now


def token_from_link() -> None:
    """Sign in from a `?token=` link, and have the browser take the token out of the address (either way).

    Streamlit keeps its own copy of the query parameters: a later run, which comes after the browser has
    rewritten the address, drops the token from it too (the address already matches, so no history entry
    is added), instead of signing in again (which would drop her drafts)."""
    token = st.query_params.get("token")
    if token is None:
        return
    digest = store.hash_token(token.strip())
    if st.session_state.get(LINK_SEEN) == digest:
        st.query_params.pop("token", None)
        return
    _forget_link(key="annotator_forget_link", height=0)
    if try_sign_in(token) is None:
        st.session_state["auth_message"] = BAD_TOKEN
    st.session_state[LINK_SEEN] = digest


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


def acting_user() -> User:
    """The signed-in user for a service call made by a callback (RefusedError once signed out)."""
    user = current_user()
    if user is None:
        raise RefusedError("Your session ended: sign in again; nothing was changed.")
    return user


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
