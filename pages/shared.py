"""A shared group, opened by its link without signing in: read-only videos and a chat."""

import streamlit as st

from core import sharing
from core.errors import AskVideoError
from ui.chat import render_chat
from ui.session import database
from ui.widgets import duration, md, plural

token = st.query_params.get("share")
try:
    with database().session() as session:
        group = sharing.open_link(session, token)
except AskVideoError as error:
    st.title("Ask Video")
    st.error(str(error))
    st.stop()

st.title(md(group.name))
if group.description:
    st.caption(md(group.description))
with st.expander(f"{plural(len(group.members), 'video')} in this group"):
    for member in group.members:
        st.markdown(f"- {md(member.title)} · {duration(member.duration_s)}")
st.caption("You are viewing a shared group. Questions you ask here are seen by its owner.")
render_chat(key=f"shared-{group.group_id}", group_id=group.group_id, owner_id=group.owner_id, shared=True)
