"""Ask Video: the Streamlit entry point. Decides who is signed in and which pages they see."""

from __future__ import annotations

import logging

import streamlit as st

from core import sharing
from core.config import PROJECT_ROOT
from core.database import UNREACHABLE_MESSAGE, DatabaseUnreachable
from core.media_links import session_grant
from core.states import Role
from ui import workspace as workspace_ui
from ui.media import watch_as
from ui.session import (
    account_from_company_sign_in,
    confirm_cookie_writes,
    current_account,
    sign_out,
    write_pending_cookie,
)

log = logging.getLogger("askvideo.app")
ICON = PROJECT_ROOT / "ui" / "assets" / "icon.png"
MEMBER_PAGES = ("library", "upload", "groups", "chat", "analytics", "team", "templates", "settings")  # pages/<name>.py


def main() -> None:
    st.session_state["company_sign_in_problem"] = account_from_company_sign_in()
    account = current_account()
    st.session_state["account"] = account
    # Stored media plays under this browser's sign-in (the share page sets its link's right instead).
    watch_as(session_grant(account.session_id) if account is not None else None)
    write_pending_cookie()
    if account is not None and "next" in st.query_params:
        # Signed in from a share page's link: back to that page; `next` is a share token or nothing.
        if back := sharing.return_token(st.query_params.pop("next")):
            st.query_params["share"] = back

    workspace, theirs = None, []
    if account is not None and not st.query_params.get("share"):
        workspace_ui.join_from_link(account)  # an invitation link, once signed in or up
        theirs = workspace_ui.mine(account)
        workspace = workspace_ui.current(theirs)
    st.session_state["workspace"] = workspace
    if problem := st.session_state.pop("join_problem", None):
        st.error(problem)  # an invitation link that could not be used (plain text: st.error does not render HTML)

    if st.query_params.get("share"):
        # A share link opens its group for anyone, signed in or not, and nothing else; a signed-out
        # visitor may go and sign in (to comment), and comes back here.
        pages = [st.Page("pages/shared.py", title="Shared group", icon=":material/group:", default=True)]
        if account is None:
            pages.append(st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:"))
    elif account is None:
        pages = [st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:", default=True)]
        # A bookmark into the app (a group's chat, a video) asks for sign-in where it stands, and is
        # the page it names once signed in: the URL, query and all, stays as it was.
        pages += [st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:", url_path=name)
                  for name in MEMBER_PAGES]
    else:
        edits = workspace.can(Role.EDITOR)  # a viewer's menu leaves out what they cannot do (core refuses it anyway)
        pages = [
            st.Page("pages/library.py", title="Library", icon=":material/video_library:", default=True),
            *([st.Page("pages/upload.py", title="Add videos", icon=":material/upload:")] if edits else []),
            st.Page("pages/groups.py", title="Groups", icon=":material/folder:"),
            st.Page("pages/chat.py", title="Ask", icon=":material/chat:"),
            *([st.Page("pages/analytics.py", title="Analytics", icon=":material/monitoring:")]
              if edits or account.is_staff else []),
            st.Page("pages/team.py", title="Workspace", icon=":material/groups:"),
            st.Page("pages/templates.py", title="Post templates", icon=":material/article:"),
            st.Page("pages/settings.py", title="Settings", icon=":material/settings:"),
        ]
    if account is not None and not st.query_params.get("share"):
        with st.sidebar:
            workspace_ui.switcher(theirs, workspace)
            st.caption(f"Signed in as **{account.username}**" + (" · staff" if account.is_staff else ""))
            if st.button("Sign out", key="sign_out"):
                sign_out()

    menu = account is not None and not st.query_params.get("share")
    st.navigation(pages, position="sidebar" if menu else "hidden").run()
    confirm_cookie_writes()  # reached only when the page ran to its end (not cut short by a rerun)


# The icon is our own file: a ":material/…" page icon makes the browser fetch it from Google's servers.
st.set_page_config(page_title="Ask Video", page_icon=str(ICON), layout="wide")
try:
    main()
except DatabaseUnreachable as error:  # a restart or a network cut: say so instead of a crash page
    log.warning("database unreachable: %s", str(error).splitlines()[0])
    st.error(UNREACHABLE_MESSAGE)
