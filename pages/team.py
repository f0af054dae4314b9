"""The workspace: who is in it with which role, invitations, and making a team workspace."""

import streamlit as st

from core import workspaces
from core.errors import AskVideoError
from core.states import Role
from ui import workspace as workspace_ui
from ui.session import database, settings
from ui.widgets import app_url, apply, confirmed, md, plural, show_error

account = st.session_state["account"]
workspace = st.session_state["workspace"]  # where this page works (ui/workspace.py)
ROLES = [Role.VIEWER, Role.EDITOR, Role.OWNER]
ROLE_HELP = {Role.VIEWER: "watch, ask, rate and comment", Role.EDITOR: "also add, edit and delete videos and groups, "
             "make share links and review answers", Role.OWNER: "also manage members, invitations and the workspace"}

st.title(md(workspace.name))
st.caption(("Your personal workspace: only you are in it." if workspace.personal else
            f"Team workspace · {plural(workspace.members, 'member')} · you are {workspace.role}: "
            f"{ROLE_HELP[workspace.role]}."))


def invitation_link(token: str) -> str:
    return f"{app_url()}/?join={token}"


with st.expander("New team workspace", icon=":material/add:", expanded=workspace.personal):
    with st.form("new-workspace"):
        name = st.text_input("Name", max_chars=200, placeholder="e.g. Support team")
        if st.form_submit_button("Create workspace", type="primary"):
            try:
                with database().session() as session:
                    made = workspaces.create_workspace(session, account.id, name)
            except AskVideoError as error:
                show_error(error)
            else:
                workspace_ui.choose(made)
                st.rerun()

if workspace.personal:
    st.stop()

owner = workspace.can(Role.OWNER)
with database().session() as session:
    people = workspaces.members(session, account.id, workspace.id)
    pending = workspaces.pending_invitations(session, account.id, workspace.id) if owner else []

st.subheader("Members")
for person in people:
    who, role_col, act_col = st.columns([3, 2, 1], vertical_alignment="center")
    who.markdown(f"**{md(person.username)}** · {md(person.email)}" + (" (you)" if person.user_id == account.id else ""))
    if owner:
        picked = role_col.selectbox("Role", ROLES, index=ROLES.index(person.role), key=f"role-{person.user_id}",
                                    label_visibility="collapsed")
        if picked != person.role:
            apply(workspaces.set_role, account.id, workspace.id, person.user_id, picked,
                  success=f"{person.username} is now {picked}.")
        if person.user_id != account.id and confirmed(
                act_col, "Remove", f"{person.username} loses access to this workspace at once.",
                key=f"remove-{person.user_id}", icon=":material/person_remove:"):
            apply(workspaces.remove_member, account.id, workspace.id, person.user_id,
                  success=f"{person.username} was removed.")
    else:
        role_col.caption(person.role)

if owner:
    st.subheader("Invite people")
    by_mail, by_link = st.columns(2, gap="large")
    with by_mail, st.form("invite-email", clear_on_submit=True):
        st.caption("For one person: only the account with this email address can use it, once.")
        email = st.text_input("Email")
        role = st.selectbox("Role", ROLES, key="invite-email-role", format_func=lambda r: f"{r} — {ROLE_HELP[r]}")
        sent = st.form_submit_button("Create invitation", icon=":material/person_add:")
    with by_link, st.form("invite-link"):
        st.caption("A link for a team chat: anyone holding it may join, up to the number of uses.")
        uses = st.number_input("Uses", min_value=1, max_value=workspaces.MAX_LINK_USES, value=10)
        link_role = st.selectbox("Role", ROLES, key="invite-link-role", format_func=lambda r: f"{r} — {ROLE_HELP[r]}")
        linked = st.form_submit_button("Create link", icon=":material/link:")
    if sent or linked:
        try:
            with database().session() as session:
                made = (workspaces.invite(session, account.id, workspace.id, role=role, email=email) if sent else
                        workspaces.invite(session, account.id, workspace.id, role=link_role, max_uses=int(uses)))
        except AskVideoError as error:
            show_error(error)
        else:
            st.success(f"Invitation made: it is shown only now, and lasts until {made.expires_at:%Y-%m-%d} UTC. "
                       "Send this link:")
            st.code(invitation_link(made.token), language=None)
            pending = [None, *pending]  # listed below from the next run on
    if any(pending):
        st.subheader("Pending invitations")
    for invitation in filter(None, pending):
        what, remove = st.columns([5, 1], vertical_alignment="center")
        target = md(invitation.email) if invitation.email else f"link · used {invitation.uses} of {invitation.max_uses}"
        what.markdown(f"{target} · {invitation.role}")
        what.caption(f"by {md(invitation.invited_by or 'a former member')} · expires "
                     f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC")
        if remove.button("Revoke", key=f"revoke-invitation-{invitation.id}"):
            apply(workspaces.revoke_invitation, account.id, workspace.id, invitation.id,
                  success="Invitation revoked.")

    st.subheader("Workspace")
    with st.form("rename-workspace"):
        new_name = st.text_input("Name", value=workspace.name, max_chars=200)
        if st.form_submit_button("Rename"):
            apply(workspaces.rename_workspace, account.id, workspace.id, new_name, success="Renamed.")

st.divider()
leave_col, delete_col = st.columns(2)
if confirmed(leave_col, "Leave this workspace", "You lose access to its videos, groups and conversations at once.",
             key="leave-workspace", icon=":material/logout:"):
    apply(workspaces.leave, account.id, workspace.id)  # the next run falls back to the personal workspace
if owner and confirmed(delete_col, "Delete this workspace",
                       "Its videos, groups, conversations and clips are deleted for every member. This cannot "
                       "be undone.", key="delete-workspace", icon=":material/delete_forever:"):
    try:
        workspaces.delete_workspace(database(), settings(), account.id, workspace.id)
    except AskVideoError as error:
        show_error(error)
    else:
        st.rerun()
