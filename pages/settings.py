"""A user's model settings (API key shown only masked, endpoint and model names), their personal
access tokens for other tools, and their account: password, email, deleting it."""

import streamlit as st

from core import accounts, model_settings, reindex, signup, workspaces
from core.errors import AskVideoError
from core.states import Role
from ui import api_tokens
from ui.session import database, forget, settings, visitor_address
from ui.widgets import app_url, apply, confirmed, md, plural, show_error


account = st.session_state["account"]
workspace = st.session_state["workspace"]  # where this page works (ui/workspace.py)
st.title("Settings")

try:
    with database().session() as session:
        current = model_settings.get_model_settings(session, settings(), account.id)
        checks_claims = model_settings.checks_claims_with_model(session, account.id)
        reranks = model_settings.reranks_with_model(session, account.id)
        staleness = reindex.staleness(session, settings(), account.id, workspace_id=workspace.id)
        contents = accounts.account_contents(session, account.id)
        others = workspaces.models_from(session, account.id, workspace.id)
except AskVideoError as error:
    show_error(error)
    st.stop()

if notice := st.session_state.pop("settings-notice", None):
    st.warning(notice)
if others:
    st.info(f"In {md(workspace.name)}, videos are indexed and questions answered with the model settings of "
            f"its owner {md(others)}; yours below apply in your personal workspace and in teams whose "
            "models are yours.")
st.subheader("OpenAI API key")
st.caption("Stored encrypted and sent only to the endpoint below (or OpenAI's). It is never shown again; "
           "you can replace or remove it. Moving the endpoint to another server removes it.")
if current.has_api_key:
    st.write(f"Current key: `{current.masked_api_key}`")
else:
    st.info("No key stored: answers are extractive (built from transcript sentences) and run offline.")

with st.form("api_key", clear_on_submit=True):
    new_key = st.text_input("New API key", type="password", placeholder="sk-…")
    save_key = st.form_submit_button("Save key", type="primary")
if save_key:
    try:
        with database().session() as session:
            model_settings.set_api_key(session, settings(), account.id, new_key)
    except AskVideoError as error:
        show_error(error)
    else:
        st.toast("API key saved.")
        st.rerun()

if current.has_api_key and confirmed(st, "Remove key", "The key is deleted. Answers then come from the base URL's "
                                     "model if one is set below, else they are extractive (offline).", key="remove-key"):
    with database().session() as session:
        model_settings.remove_api_key(session, account.id)
    st.toast("API key removed.")
    st.rerun()

st.subheader("Models")
with st.form("models"):
    base_url = st.text_input(
        "OpenAI-compatible base URL (optional)",
        value=current.base_url,
        help="For a local Ollama or vLLM server, e.g. http://localhost:11434/v1. Blank: OpenAI.",
    )
    chat_model = st.text_input("Chat model", value=current.chat_model)
    embedding_model = st.text_input("Embedding model", value=current.embedding_model)
    save_models = st.form_submit_button("Save models")
if save_models:
    try:
        with database().session() as session:
            key_removed = model_settings.set_models(
                session, account.id, base_url=base_url, chat_model=chat_model, embedding_model=embedding_model
            )
    except AskVideoError as error:
        show_error(error)
    else:
        if key_removed:
            st.session_state["settings-notice"] = ("Model settings saved. Your API key was removed because the "
                                                   "endpoint moved to another server: paste the key for it above.")
        else:
            st.toast("Model settings saved.")
        st.rerun()



def consent_toggle(label: str, key: str, value: bool, store, said_on: str, said_off: str, help: str) -> None:
    """A switch for one extra model call the user pays for, stored as soon as it is flipped."""
    def changed() -> None:
        enabled = st.session_state[key]
        with database().session() as session:
            store(session, account.id, enabled)
        st.toast(said_on if enabled else said_off)

    st.toggle(label, value=value, key=key, on_change=changed, help=help)


consent_toggle(
    "Check each answer's claims with the model (one extra call per answer)", "check-claims", checks_claims,
    model_settings.set_check_claims_with_model, "Each answer's claims are now checked by the model.",
    "Claims are now checked offline, by their words and meaning.",
    help="Every sentence of a model's answer is checked against the passage it cites; a sentence its source "
         "does not back is marked. Off: checked offline, by meaning and shared words (free). On: your chat "
         "model judges them, which costs one more call per answer.")
consent_toggle(
    "Re-rank the moments found with the model (one extra call per question)", "rerank", reranks,
    model_settings.set_rerank_with_model, "The model now re-orders the moments found for each question.",
    "Moments are now ordered by search alone.",
    help="Search finds the moments; your chat model then puts the top 8 in the order that best answers the "
         "question. Off by default: it costs one more call per question, also for visitors of your share "
         "links, and is not measured for quality here (no model runs offline).")

if (stale := staleness.video_ids) and workspace.can(Role.EDITOR):
    were = "was" if len(stale) == 1 else "were"
    st.warning(f"{plural(len(stale), 'video')} of yours {were} indexed with another embedding model, so questions "
               f"(now embedded with {md(staleness.model)}) do not find them. Re-indexing embeds their stored "
               "transcripts again in the background; nothing is downloaded or transcribed again.")
    if st.button(f"Re-index {plural(len(stale), 'video')}", icon=":material/sync:"):
        try:
            queued = reindex.queue_reindexing(database(), settings(), account.id, workspace_id=workspace.id)
        except AskVideoError as error:
            show_error(error)
        else:
            st.toast(f"Re-indexing {plural(queued, 'video')} in the background.")

# ------------------------------------------------------------------ staff only: invitations
if account.is_staff:
    st.divider()
    st.subheader("Invitations")
    st.caption(f"Sign-up on this installation: **{settings().signup_mode}**. An invitation lets one person "
               f"create an account whatever the mode; it works once, within {signup.INVITATION_DAYS} days.")
    with st.form("invitation", clear_on_submit=True):
        invitee = st.text_input("Email (optional)", help="Only this address can use the invitation. Blank: anyone "
                                "holding the link.")
        invite = st.form_submit_button("Create invitation", icon=":material/person_add:")
    if invite:
        try:
            with database().session() as session:
                made = signup.create_invitation(session, account.id, invitee)
        except AskVideoError as error:
            show_error(error)
        else:
            st.success("Invitation created. Copy the link now: it is shown only this once.")
            # The app's address as share links use it (ASKVIDEO_PUBLIC_URL, else this browser's).
            st.code(f"{app_url()}/?invite={made.token}", language=None)
    with database().session() as session:
        pending = signup.pending_invitations(session, account.id)
    if not pending:
        st.caption("No pending invitations.")
    for invitation in pending:
        who, when, revoke = st.columns([3, 3, 1], vertical_alignment="center")
        if invitation.email:
            who.text(invitation.email)  # plain text: an address never becomes a mailto link
        else:
            who.write("*anyone with the link*")
        when.caption(f"by {md(invitation.invited_by)} · expires {invitation.expires_at:%Y-%m-%d %H:%M} UTC")
        if confirmed(revoke, "Revoke", "The link stops working at once.", key=f"revoke-invitation-{invitation.id}"):
            apply(signup.revoke_invitation, account.id, invitation.id, success="Invitation revoked.")

# ------------------------------------------------------------------ other tools' way in
st.divider()
api_tokens.panel(account.id)

# ------------------------------------------------------------------ your account
st.divider()
st.subheader("Your account")
if notice := st.session_state.pop("account-notice", None):
    st.success(notice)
st.text(f"Username: {account.username} · email: {account.email}")  # plain text: an address never becomes a link
password_tab, email_tab, delete_tab = st.tabs(["Password", "Email", "Delete account"])

with password_tab:
    with st.form("change_password", clear_on_submit=True):
        old_password = st.text_input("Current password", type="password", key="password-current")
        new_password = st.text_input("New password", type="password", help=f"At least {settings().min_password_length} "
                                     "characters, not your username or email")
        repeated = st.text_input("Repeat new password", type="password")
        change_password = st.form_submit_button("Change password", type="primary")
    if change_password:
        try:
            signed_out = accounts.change_password(database(), settings(), account.id, current=old_password,
                                                  new=new_password, repeated=repeated,
                                                  keep_session_id=account.session_id, address=visitor_address())
        except AskVideoError as error:
            show_error(error)
        else:
            others = (f"{plural(signed_out, 'other browser')} signed in as you {'was' if signed_out == 1 else 'were'} "
                      "signed out; " if signed_out else "")
            st.success(f"Password changed. {others}This browser stays signed in.")

with email_tab:
    with st.form("change_email", clear_on_submit=True):
        new_email = st.text_input("New email")
        email_password = st.text_input("Current password", type="password", key="email-current")
        change_email = st.form_submit_button("Change email", type="primary")
    if change_email:
        try:
            accounts.change_email(database(), account.id, current_password=email_password, new_email=new_email,
                                  address=visitor_address())
        except AskVideoError as error:
            show_error(error)
        else:
            st.session_state["account-notice"] = "Email changed: sign in with the new one from now on."
            st.rerun()

with delete_tab:
    if contents.refusal:
        st.warning(contents.refusal)
    else:
        st.caption("Your account and everything in it go at once. Type your current password, then confirm.")
        delete_password = st.text_input("Current password", type="password", key="delete-current")
        if confirmed(st, "Delete account", contents.described(), key="delete-account",
                     confirm="Delete my account and all its data", icon=":material/delete_forever:"):
            try:
                accounts.delete_account(database(), settings(), account.id, current_password=delete_password,
                                        address=visitor_address())
            except AskVideoError as error:
                show_error(error)
            else:
                forget()  # this browser's session went with the account; clears the cookie too
                st.rerun()
