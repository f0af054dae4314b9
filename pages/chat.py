"""Ask a group of videos: answers cite the moments, one click plays them."""

import streamlit as st

from core import groups, reindex
from core.errors import AskVideoError
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

wanted = st.query_params.get("group")
ids = [g.id for g in mine]
index = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in ids else 0
chosen = st.selectbox("Group", mine, index=index, format_func=lambda g: f"{g.name} ({plural(g.video_count, 'video')})")
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

render_chat(key=f"group-{chosen.id}", group_id=chosen.id, owner_id=account.id, shared=False)
