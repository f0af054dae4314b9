"""The list of conversations in the sidebar, and the open one's title with rename and delete.

The open conversation is the URL's `conversation` parameter, so a reload, a bookmark or a second
tab reopens it; the Ask page and the share page both use this.
"""

from __future__ import annotations

import streamlit as st

from core import conversations
from core.conversations import ConversationNotFound, Summary
from core.errors import AskVideoError
from ui.session import database
from ui.widgets import md, show_error

PARAM = "conversation"


def opened(owner_id: int, *, group_id: int | None = None, visitor_token: str | None = None) -> Summary | None:
    """The viewer's conversation the URL opens (on the share page, one of that link's group), or
    None: an id from a URL is hostile input, and one that is not theirs is said so and dropped."""
    wanted = st.query_params.get(PARAM)
    if not wanted:
        return None
    try:
        with database().session() as session:
            summary = conversations.summary(session, owner_id, wanted, visitor_token=visitor_token)
        if group_id is not None and summary.group_id != group_id:
            raise ConversationNotFound()
    except AskVideoError as error:
        show_error(error)
        open_conversation(None)
        return None
    return summary


def open_conversation(conversation_id: int | None) -> None:
    if conversation_id is None:
        st.query_params.pop(PARAM, None)
    else:
        st.query_params[PARAM] = str(conversation_id)


def _switch(conversation_id: int | None) -> None:
    """Open another conversation (None: a new one): the player showed the one left."""
    for key in [k for k in st.session_state if str(k).startswith("player-")]:
        del st.session_state[key]
    open_conversation(conversation_id)
    st.rerun()


def sidebar(owner_id: int, open_now: int | None, *, group_id: int | None = None,
            visitor_token: str | None = None, workspace_id: int | None = None) -> None:
    """New conversation, a search box and the viewer's conversations, newest first."""
    with st.sidebar:
        st.subheader("Conversations")
        if st.button("New conversation", icon=":material/add_comment:", key="conversation-new", width="stretch"):
            _switch(None)
        words = st.text_input("Search conversations", key="conversation-search", max_chars=200,
                              placeholder="Words in questions or answers", label_visibility="collapsed")
        with database().session() as session:
            found = conversations.list_conversations(session, owner_id, words=words, group_id=group_id,
                                                     visitor_token=visitor_token, workspace_id=workspace_id)
        if not found:
            st.caption("No conversation matches those words." if words.strip() else "Your questions will be kept here.")
        for summary in found:
            # What it asks beside its title: two conversations may open with the same question.
            label = md(summary.title) if group_id is not None else f"{md(summary.title)} · {md(summary.target)}"
            if st.button(label, key=f"conversation-{summary.id}", width="stretch",
                         type="primary" if summary.id == open_now else "secondary",
                         help=f"{summary.target} · {summary.turns} question{'s' if summary.turns != 1 else ''} · "
                              f"{summary.updated_at:%d %b %Y, %H:%M}"):
                _switch(summary.id)


def header(owner_id: int, conversation_id: int, title: str, *, visitor_token: str | None = None) -> None:
    """The open conversation's title, with Rename and Delete (after a confirmation)."""
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.markdown(f"**{md(title)}**")
    with row.popover("Rename", icon=":material/edit:"):
        with st.form(f"rename-{conversation_id}", border=False):
            new_title = st.text_input("Title", value=title, max_chars=conversations.TITLE_CHARS)
            if st.form_submit_button("Save"):
                _change(lambda s: conversations.rename(s, owner_id, conversation_id, new_title,
                                                       visitor_token=visitor_token))
    with row.popover("Delete", icon=":material/delete:"):
        st.write("Delete this conversation and its answers? Their ratings go with them.")
        if st.button("Delete conversation", type="primary", key=f"delete-{conversation_id}"):
            if _change(lambda s: conversations.delete_conversation(s, owner_id, conversation_id,
                                                                   visitor_token=visitor_token), rerun=False):
                open_conversation(None)
                st.rerun()


def _change(action, *, rerun: bool = True) -> bool:
    try:
        with database().session() as session:
            action(session)
    except AskVideoError as error:
        show_error(error)
        return False
    if rerun:
        st.rerun()
    return True

