"""Ask a group of videos, one video, or everything you have: answers cite the moments, one click
plays them. Conversations are kept: the sidebar lists them, and the open one is in the URL."""

import streamlit as st

from core import groups, library, reindex
from core.errors import AskVideoError
from core.states import Role, Scope, Status
from ui import conversations as conversation_ui
from ui.chat import render_chat
from ui.session import database, settings
from ui.widgets import md, plural, show_error

account = st.session_state["account"]
workspace = st.session_state["workspace"]  # where this page works (ui/workspace.py)
st.title("Ask")
SCOPES = {Scope.GROUP: "A group", Scope.VIDEO: "One video", Scope.ALL: "Everything"}

with database().session() as session:
    mine = groups.list_groups(session, account.id, workspace_id=workspace.id)
    videos = library.video_choices(session, account.id, workspace_id=workspace.id)
if not videos and not mine:
    st.info("Add videos first, then ask them anything.")
    st.page_link("pages/upload.py", label="Add videos", icon=":material/upload:")
    st.stop()

# The open conversation (from the URL: hostile until found) decides what is asked; else the URL's
# group or video (links from the Library and Groups pages), else the last choice.
conversation = conversation_ui.opened(account.id)
conversation_ui.sidebar(account.id, conversation.id if conversation else None, workspace_id=workspace.id)

group_names = {g.id: f"{g.name} ({plural(g.video_count, 'video')})" for g in mine}
video_names = {v: f"{title}" + ("" if status == Status.COMPLETED else f" ({status})") for v, title, status in videos}
target = {"group": st.query_params.get("group", ""), "video": st.query_params.get("video", "")}
if conversation:
    st.session_state["ask-scope"] = Scope(conversation.scope)
    target = {"group": str(conversation.group_id or ""), "video": str(conversation.video_id or "")}
elif target["video"].isdigit() and int(target["video"]) in video_names:
    st.session_state["ask-scope"] = Scope.VIDEO
elif st.query_params.get("scope") == Scope.ALL:
    st.session_state["ask-scope"] = Scope.ALL
elif st.session_state.get("ask-scope") is None:
    st.session_state["ask-scope"] = Scope.GROUP if mine else Scope.ALL


def scope_changed() -> None:
    """Another scope or target chosen: a new conversation there."""
    conversation_ui.open_conversation(None)
    for name in ("group", "video", "scope"):
        st.query_params.pop(name, None)


scope = st.segmented_control("Ask", list(SCOPES), format_func=SCOPES.get, key="ask-scope", on_change=scope_changed)
scope = scope or Scope.GROUP
group_id = video_id = None
if scope == Scope.GROUP:
    if not mine:
        st.info("Make a group of videos first, or ask one video or everything.")
        st.page_link("pages/groups.py", label="Go to Groups", icon=":material/folder:")
        st.stop()
    if target["group"].isdigit() and int(target["group"]) in group_names:
        st.session_state["ask-group"] = int(target["group"])
    elif st.session_state.get("ask-group") not in group_names:
        st.session_state["ask-group"] = mine[0].id
    group_id = st.selectbox("Group", list(group_names), key="ask-group", on_change=scope_changed,
                            format_func=group_names.get)
    st.query_params["group"] = str(group_id)
elif scope == Scope.VIDEO:
    if not videos:
        st.info("Add videos first, then ask them anything.")
        st.stop()
    if target["video"].isdigit() and int(target["video"]) in video_names:
        st.session_state["ask-video"] = int(target["video"])
    elif st.session_state.get("ask-video") not in video_names:
        st.session_state["ask-video"] = videos[0][0]
    video_id = st.selectbox("Video", list(video_names), key="ask-video", on_change=scope_changed,
                            format_func=video_names.get)
    st.query_params["video"] = str(video_id)
else:
    st.query_params["scope"] = Scope.ALL
    ready = sum(1 for _, _, status in videos if status == Status.COMPLETED)
    st.caption(f"Questions search all {plural(ready, 'ready video')} you have.")

if scope == Scope.GROUP:
    try:
        with database().session() as session:
            detail = groups.group_detail(session, account.id, group_id)
            stale = reindex.staleness(session, settings(), account.id, [m.video_id for m in detail.members],
                                      workspace_id=detail.workspace_id).video_ids
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
    conversation_ui.header(account.id, conversation.id, conversation.title)
key = f"group-{group_id}" if group_id else f"video-{video_id}" if video_id else "all"
render_chat(key=key, group_id=group_id, video_id=video_id, owner_id=account.id, shared=False,
            workspace_id=workspace.id, edits=workspace.can(Role.EDITOR),
            conversation_id=conversation.id if conversation else None)
