"""Groups: ordered sets of videos to ask questions about, and their share links."""

import streamlit as st

from core import content_templates, groups, library, sharing, summaries
from core.errors import AskVideoError
from core.states import STATUS_BADGES, Role
from ui import video_tools
from ui.session import database, settings
from ui.widgets import apply, confirmed, duration, md, moment, plural, share_url, show_error, status_badge

account = st.session_state["account"]
workspace = st.session_state["workspace"]  # where this page works (ui/workspace.py)
st.title("Groups")


def act(action, *args, success: str | None = None, **kwargs) -> None:
    """One change to the signed-in user's groups, in its own transaction."""
    apply(action, account.id, *args, success=success, **kwargs)


def open_at(citation) -> None:
    """A summary's citation opens the video in the library, playing from that moment."""
    key = f"seek-{citation.video_id}"
    st.session_state[key] = moment(st.session_state.get(key), citation.start)
    st.switch_page("pages/library.py", query_params={"video": str(citation.video_id)})


def _new_group_closed() -> None:
    st.session_state["new-group-open"] = False


@st.dialog("New group", on_dismiss=_new_group_closed)
def new_group() -> None:
    """A dialog, which closes once the group is made (a pop-up stayed open with an empty form)."""
    with st.form("new-group-form"):
        name = st.text_input("Name", max_chars=200, key="new-group-name")
        description = st.text_area("Description", max_chars=5000)
        if st.form_submit_button("Create group", type="primary"):
            try:
                with database().session() as session:
                    new_id = groups.create_group(session, account.id, name, description,
                                                    workspace_id=workspace.id)
            except AskVideoError as error:
                show_error(error)
            else:
                st.session_state["group"] = new_id
                _new_group_closed()
                st.rerun()


if workspace.can(Role.EDITOR) and st.button("New group", icon=":material/add:"):
    st.session_state["new-group-open"] = True
if st.session_state.get("new-group-open"):
    new_group()

with database().session() as session:
    mine = groups.list_groups(session, account.id, workspace_id=workspace.id)
if not mine:
    st.info("No groups yet. A group is a set of videos you ask questions about together — create one above.")
    st.stop()

ids = [g.id for g in mine]
current = st.session_state.get("group")
chosen = st.selectbox(
    "Group", mine, index=ids.index(current) if current in ids else 0,
    format_func=lambda g: f"{g.name} · {plural(g.video_count, 'video')}" + (" · shared" if g.shared else ""),
)
st.session_state["group"] = chosen.id
with database().session() as session:
    detail = groups.group_detail(session, account.id, chosen.id)
    summary = summaries.cached(session, settings(), account.id, group_id=chosen.id) if detail.ready_count else None
    choices = library.video_choices(session, account.id, exclude={m.video_id for m in detail.members},
                                    workspace_id=detail.workspace_id)

st.page_link("pages/chat.py", label="Ask this group", icon=":material/chat:", query_params={"group": detail.id})

edits = workspace.can(Role.EDITOR)  # a viewer sees the group; core refuses their changes anyway
videos_tab, summary_tab, *editing_tabs = st.tabs(
    ["Videos", "Summary and posts", *(["Name and description", "Share"] if edits else [])], key="group-tabs",
    on_change="rerun")

with videos_tab:
    if not detail.members:
        st.caption("No videos in this group yet.")
    for position, member in enumerate(detail.members):
        with st.container(border=True):
            title, state, up, down, remove = st.columns([5, 2, 1.2, 1.4, 1.6], vertical_alignment="center")
            title.markdown(f"{position + 1}\\. **{md(member.title)}** · {duration(member.duration_s)}")
            with state:
                status_badge(member.status)
            if not edits:
                continue
            # Words, not arrows, so a screen reader says what each button does.
            if up.button("Up", key=f"up-{member.video_id}", icon=":material/arrow_upward:", type="tertiary",
                         disabled=position == 0, help="Move up"):
                act(groups.move_video, detail.id, member.video_id, -1)
            if down.button("Down", key=f"down-{member.video_id}", icon=":material/arrow_downward:", type="tertiary",
                           disabled=position == len(detail.members) - 1, help="Move down"):
                act(groups.move_video, detail.id, member.video_id, 1)
            if remove.button("Remove", key=f"remove-{member.video_id}", icon=":material/close:", type="tertiary",
                             help="Remove from group (the video stays)"):
                act(groups.remove_video, detail.id, member.video_id, success="Removed from the group.")
    if edits and choices:
        with st.form("add-videos", clear_on_submit=True):
            labels = {vid: f"{title} ({STATUS_BADGES[status].label})" for vid, title, status in choices}
            picked = st.multiselect("Add videos", list(labels), format_func=labels.get,
                                    placeholder="Choose videos from your library")
            if st.form_submit_button("Add to group"):
                if picked:
                    act(groups.add_videos, detail.id, picked, success=f"Added {plural(len(picked), 'video')}.")
                else:
                    st.warning("Choose at least one video to add.")
    elif edits:
        st.caption("All your videos are in this group." if detail.members else "Add videos to your library first.")

with summary_tab:
    if detail.ready_count:
        video_tools.summary_panel(account.id, summary, group_id=detail.id, on_cite=open_at, editable=edits)
        st.divider()
        st.subheader("Create a post")
        video_tools.post_maker(f"post-group-{detail.id}", account.id, lambda: content_templates.context_for_group(
            database(), settings(), account.id, detail.id), workspace_id=detail.workspace_id)
    else:
        st.caption("A summary and posts can be made once a video in this group is ready.")

if edits:
    details_tab, share_tab = editing_tabs
    with details_tab:
        with st.form("edit-group"):
            name = st.text_input("Name", value=detail.name, max_chars=200)
            description = st.text_area("Description", value=detail.description, max_chars=5000)
            if st.form_submit_button("Save"):
                act(groups.update_group, detail.id, name=name, description=description, success="Saved.")
        if confirmed(st, "Delete group", "The group and its chat history are deleted. Its videos stay in your library.",
                     key="delete-group", confirm="Delete for good", icon=":material/delete:"):
            act(groups.delete_group, detail.id, success="Group deleted.")

    with share_tab:
        st.write("Anyone with the link can watch this group's videos and ask questions — nothing else. "
                 "Answers use your model settings; a rate limit protects your bill.")
        if detail.share_token:
            st.code(share_url(detail.share_token), language=None)
            new, revoke = st.columns(2)
            if confirmed(new, "Replace link", "The current link stops working at once; share the new one.",
                         key="replace-link"):
                act(sharing.create_link, detail.id, success="New link created; the old one no longer works.")
            if confirmed(revoke, "Revoke link", "The link stops working at once, also for anyone watching or asking "
                         "through it now.", key="revoke-link"):
                act(sharing.revoke_link, detail.id, success="Link revoked.")
        elif st.button("Create share link", type="primary"):
            act(sharing.create_link, detail.id, success="Share link created.")
