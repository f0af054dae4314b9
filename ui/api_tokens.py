"""The Settings page's personal access tokens: make one (shown once, for all workspaces or one), see when
each was last used, revoke."""

from __future__ import annotations

import streamlit as st

from core import access_tokens, workspaces
from core.access_tokens import EXPIRY_DAYS
from core.errors import AskVideoError
from core.states import TokenScope
from ui.session import database
from ui.widgets import app_url, apply, confirmed, md, show_error

SCOPES = {TokenScope.READ: "Read: list, read transcripts, search",
          TokenScope.ASK: "Read and ask: also ask questions, rate answers, add videos by link"}
NEVER = "Never"
EVERY_WORKSPACE = "All my workspaces"
_MADE = "api-token-made"  # the secret just made, shown until the page is left


def panel(user_id: int) -> None:
    st.subheader("API tokens")
    st.caption("For scripts, chat tools and AI assistants: the REST API at `/api/v1` and the MCP server at `/mcp` "
               "act as you with a token, never beyond what you can do in each workspace. Limit a token to one "
               "workspace and the others look empty to it. A token is shown once and stored only as a hash.")
    if made := st.session_state.pop(_MADE, None):
        st.success(f"Token **{md(made['name'])}** made. Copy it now: it is not shown again.")
        st.code(made["secret"], language=None)
        st.caption("Try it:")
        st.code(f"curl -H 'Authorization: Bearer {made['secret']}' {app_url()}/api/v1/groups", language="bash")

    with database().session() as session:
        tokens = access_tokens.list_tokens(session, user_id)
        names = {w.id: w.name for w in workspaces.list_workspaces(session, user_id)}
    with st.form("api-token", clear_on_submit=True):
        name = st.text_input("Name", max_chars=access_tokens.MAX_NAME, placeholder="e.g. Slack bot, nightly report")
        scope = st.radio("Scope", list(SCOPES), format_func=SCOPES.get, key="api-token-scope")
        workspace_id = st.selectbox("Workspace", [None, *names], key="api-token-workspace",
                                    format_func=lambda w: EVERY_WORKSPACE if w is None else names[w],
                                    help="A token for one workspace finds nothing in the others.")
        days = st.selectbox("Expires after", [*EXPIRY_DAYS, None], index=2, key="api-token-days",
                            format_func=lambda d: NEVER if d is None else f"{d} days")
        make = st.form_submit_button("Make token", icon=":material/key:")
    if make:
        try:
            with database().session() as session:
                summary, secret = access_tokens.create(session, user_id, name, scope, days=days,
                                                       workspace_id=workspace_id)
        except AskVideoError as error:
            show_error(error)
        else:
            st.session_state[_MADE] = {"name": summary.name, "secret": secret}
            st.rerun()

    if not tokens:
        st.caption("No tokens yet.")
    for token in tokens:
        what, when, revoke = st.columns([3, 4, 1], vertical_alignment="center")
        where = "All workspaces" if token.workspace_id is None else md(token.workspace_name)
        what.markdown(f"**{md(token.name)}** · {token.scope} · {where}")
        state = ("revoked " + f"{token.revoked_at:%Y-%m-%d}" if token.revoked_at
                 else "expired" if not token.active
                 else f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "never expires")
        used = f"last used {token.last_used_at:%Y-%m-%d %H:%M} UTC" if token.last_used_at else "never used"
        when.caption(f"made {token.created_at:%Y-%m-%d} · {used} · {state}")
        if token.revoked_at is None and confirmed(revoke, "Revoke", "Whatever uses this token is refused from now on.",
                                                  key=f"revoke-token-{token.id}"):
            apply(access_tokens.revoke, user_id, token.id, success="Token revoked.")
