"""A shared group, opened by its link without signing in: read-only videos and a chat."""

import streamlit as st

from core import chapters, comments, media_links, sharing
from core.errors import AskVideoError
from core.states import Status
from core.transcripts import format_timestamp
from ui import conversations as conversation_ui
from ui import video_tools
from ui.chat import play_moment, render_chat
from ui.media import watch_as
from ui.session import database, visitor_token
from ui.widgets import duration, md, plural, show_error

token = st.query_params.get("share")
try:
    with database().session() as session:
        group = sharing.open_link(session, token)
except AskVideoError as error:
    st.title("Ask Video")
    show_error(error)
    st.stop()

watch_as(media_links.share_grant(group.group_id, token))  # its videos play while the link lives
st.title(md(group.name))
if group.description:
    st.caption(md(group.description))
with st.expander(f"{plural(len(group.members), 'video')} in this group"):
    for member in group.members:
        st.markdown(f"- {md(member.title)} · {duration(member.duration_s)}")
st.caption("You are viewing a shared group. Questions you ask here are seen by its owner.")
chat_key = f"shared-{group.group_id}"
visitor = visitor_token()  # this browser's own conversations here, without an account
conversation = conversation_ui.opened(group.owner_id, group_id=group.group_id, visitor_token=visitor)
conversation_ui.sidebar(group.owner_id, conversation.id if conversation else None, group_id=group.group_id,
                        visitor_token=visitor)
if conversation:
    conversation_ui.header(group.owner_id, conversation.id, conversation.title, visitor_token=visitor)
render_chat(key=chat_key, group_id=group.group_id, owner_id=group.owner_id, shared=True,
            conversation_id=conversation.id if conversation else None, visitor_token=visitor)

ready = [m for m in group.members if m.status == Status.COMPLETED]
if ready:
    st.divider()
    st.subheader("Chapters and comments")
    member = st.selectbox("Video", ready, format_func=lambda m: m.title)

    def play_at(at: float) -> None:
        """Chapters and comment anchors play in the chat's player."""
        play_moment(chat_key, member.video_id, at, member.title, format_timestamp(at))
        st.rerun()

    account = st.session_state.get("account")
    with database().session() as session:
        found = chapters.list_chapters(session, group.owner_id, member.video_id)
        threads = comments.thread(session, account.id, member.video_id, share_token=token) if account else []
    chapter_col, comment_col = st.columns([2, 3], gap="large")
    with chapter_col:
        st.caption("Chapters")
        video_tools.chapter_links(found, play_at, key=f"shared-chapter-{member.video_id}")
    with comment_col:
        if account is None:
            st.caption("Sign in to Ask Video in this browser to read and write comments on this video.")
            st.page_link("pages/sign_in.py", label="Sign in to comment", icon=":material/login:",
                         query_params={"next": token}, help="You come back to this page once signed in")
        else:
            video_tools.comments_panel(member.video_id, account.id, threads, play_at, found, share_token=token)
