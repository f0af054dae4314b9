"""Which workspace the signed-in person is working in: named in the URL (`?ws=`), so a copied link
opens the same workspace, and chosen in the sidebar."""

from __future__ import annotations

import streamlit as st

from core import workspaces
from core.auth import Account
from core.errors import AskVideoError
from core.workspaces import WorkspaceSummary
from ui.session import database
from ui.widgets import md

PARAM = "ws"
_KEY = "workspace_id"


def _wanted() -> int | None:
    raw = st.query_params.get(PARAM) or st.session_state.get(_KEY)
    return int(raw) if isinstance(raw, (int, str)) and str(raw).isdigit() else None


def mine(account: Account) -> list[WorkspaceSummary]:
    """The account's workspaces, read once per run (not kept: a member removed from a workspace is
    back in their own at once)."""
    with database().session() as session:
        return workspaces.list_workspaces(session, account.id)


def current(mine: list[WorkspaceSummary]) -> WorkspaceSummary:
    """The workspace this run works in, of `mine`: the URL's if the account is a member of it, else
    the one chosen earlier in this browser tab, else the personal one."""
    wanted = _wanted()
    chosen = next((w for w in mine if w.id == wanted), mine[0])
    choose(chosen.id)
    return chosen


def choose(workspace_id: int) -> None:
    st.session_state[_KEY] = workspace_id
    if st.query_params.get(PARAM) != str(workspace_id):
        st.query_params[PARAM] = str(workspace_id)


def switcher(mine: list[WorkspaceSummary], now: WorkspaceSummary) -> None:
    """The sidebar's workspace picker over `mine`; choosing one reloads the page in it."""
    if len(mine) < 2:
        return
    picked = st.selectbox("Workspace", mine, index=next(i for i, w in enumerate(mine) if w.id == now.id),
                          format_func=label, key="workspace_switcher")
    if picked.id != now.id:
        choose(picked.id)
        st.rerun()


def label(workspace: WorkspaceSummary) -> str:
    return "Personal workspace" if workspace.personal else f"{workspace.name} · {workspace.role}"


def join_from_link(account: Account) -> None:
    """Accept the invitation a `?join=` link carries (after signing in or up, if it took that)."""
    token = st.query_params.pop("join", None)
    if not token:
        return
    try:
        with database().session() as session:
            workspace_id = workspaces.accept(session, account.id, token)
            name = next(w.name for w in workspaces.list_workspaces(session, account.id) if w.id == workspace_id)
    except AskVideoError as error:
        st.session_state["join_problem"] = str(error)
        return
    choose(workspace_id)
    st.toast(f"You are in {md(name)}.")
