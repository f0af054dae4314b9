"""Ask a group of videos: answers cite the moments, one click plays them. Conversations are kept:
the sidebar lists them, and the open one is in the URL."""

import streamlit as st

from core import conversations, groups, reindex
from core.errors import AskVideoError
from ui import conversations as conversation_ui
from ui.chat import render_chat
from ui.session import database, settings
from ui.widgets import md, plural, show_error

account = st.session_state["account"]
st.title("Ask")

with database().session() as session:
    mine = groups.list_groups(session, account.id)
if not mine:
    st.info("Make a group of videos first, then ask it anything.")
    st.page_link("pages/groups.py", label="Go to Groups", icon=":material/folder:")
    st.stop()

# The open conversation (from the URL: hostile until found) decides the group.
conversation = None
if wanted_conversation := conversation_ui.open_id():
    try:
        with database().session() as session:
            found = conversations.find(session, account.id, wanted_conversation)
            conversation = (found.id, found.title, found.group_id)
    except AskVideoError as error:
        show_error(error)
        conversation_ui.open_conversation(None)
conversation_ui.sidebar(account.id, conversation[0] if conversation else None)


def group_changed() -> None:
    """Another group chosen: a new conversation there."""
    conversation_ui.open_conversation(None)
    st.query_params["group"] = str(st.session_state["ask-group"])


names = {g.id: f"{g.name} ({plural(g.video_count, 'video')})" for g in mine}
wanted = str(conversation[2]) if conversation else st.query_params.get("group", "")
if wanted.isdigit() and int(wanted) in names:  # the URL (a link, the open conversation) decides
    st.session_state["ask-group"] = int(wanted)
elif st.session_state.get("ask-group") not in names:
    st.session_state["ask-group"] = mine[0].id
chosen_id = st.selectbox("Group", list(names), key="ask-group", on_change=group_changed, format_func=names.get)
chosen = next(g for g in mine if g.id == chosen_id)
st.query_params["group"] = str(chosen.id)

try:
    with database().session() as session:
        detail = groups.group_detail(session, account.id, chosen.id)
        stale = reindex.staleness(session, settings(), account.id, [m.video_id for m in detail.members]).video_ids
except AskVideoError as error:
    show_error(error)
    st.stop()
if detail.description:
    st.caption(md(detail.description))
if not detail.members:
    st.warning("This group has no videos yet. Add some on the Groups page.")
elif detail.ready_count < len(detail.members):
    st.info(f"{detail.ready_count} of {len(detail.members)} videos are ready; the others are still processing "
            "or failed, and are not searched until they are ready.")
if stale:
    were = "was" if len(stale) == 1 else "were"
    st.warning(f"{plural(len(stale), 'video')} in this group {were} indexed with another embedding model than "
               "the one your settings use now, so questions do not search them. Re-index them in Settings.")
    st.page_link("pages/settings.py", label="Open Settings", icon=":material/settings:")

if conversation:
    conversation_ui.header(account.id, conversation[0], conversation[1])
render_chat(key=f"group-{chosen.id}", group_id=chosen.id, owner_id=account.id, shared=False,
            conversation_id=conversation[0] if conversation else None)
