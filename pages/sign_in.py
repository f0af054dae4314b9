"""Sign in or create an account."""

import streamlit as st

from core import auth, identity, sharing, signup, workspaces
from core.errors import AskVideoError
from ui.session import company_sign_in, database, link_company_account, remember, settings, visitor_address
from ui.widgets import md, show_error


def signed_in(token: str) -> None:
    """Keep the sign-in and go on (the app takes a visitor back to the share page they came from)."""
    screen.empty()
    remember(token)
    st.rerun()


# The whole page is one block, the first on the page, so the next page's first element (its title)
# replaces it at once: the forms never linger while that page loads. (Emptying it before the
# rerun is not enough: Streamlit drops what it has not yet sent when the next run starts.)
screen = st.empty()
page = screen.container()
page.title("Ask Video")
page.write("Turn your team's videos into something you can question — every answer cites the moment.")
if sharing.return_token(st.query_params.get("next")):
    page.caption("Once you are signed in, you go back to the shared group you came from.")

invitation = st.query_params.get("invite") or None
joining = st.query_params.get("join") or None  # a workspace's invitation: joined once signed in or up
with database().session() as session:
    offer = signup.sign_up_offer(session, settings(), invitation, join_token=joining)
    try:
        team = workspaces.invitation_offer(session, joining) if joining else None
    except AskVideoError as error:
        team = None
        page.error(md(str(error)))
if team is not None:
    page.info(f"You are invited to join **{md(team.workspace_name)}** as {team.role}. Sign in, or create an "
              "account, and you join it.")

if company_sign_in():
    if isinstance(problem := st.session_state.get("company_sign_in_problem"), identity.LinkNeeded):
        page.info(md(str(problem)))
        with page.form("link-company-account"):
            password = st.text_input("Password of that account", type="password")
            link = st.form_submit_button("Link and sign in", type="primary")
        if link:
            try:
                link_company_account(password)
            except AskVideoError as error:
                show_error(error)
            else:
                screen.empty()
                st.rerun()
    if problem is not None:
        if not isinstance(problem, identity.LinkNeeded):
            page.error(md(str(problem)))
        if page.button("Sign out of the company account", icon=":material/logout:"):
            st.logout()
    elif page.button("Sign in with your company account", type="primary", icon=":material/domain:"):
        st.login(settings().company_provider)  # Streamlit's OpenID Connect; the app takes the account on return
    if not settings().password_sign_in:
        st.stop()
    page.caption("Or with a password:")

sign_in_tab, sign_up_tab = page.tabs(["Sign in", "Create account"],
                                     default="Create account" if invitation or joining else None)

with sign_in_tab:
    with st.form("sign_in"):
        login = st.text_input("Username or email")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            account, token = auth.sign_in(database(), login, password, days=settings().session_days,
                                          address=visitor_address())
        except AskVideoError as error:
            show_error(error)
        else:
            signed_in(token)

with sign_up_tab:
    if offer.problem:
        show_error(offer.problem)
    if offer.note:
        st.info(offer.note)
    if offer.form:
        with st.form("sign_up"):
            username = st.text_input("Username", help="3–150 letters, digits, '.', '_' or '-'")
            email = st.text_input("Email", value=offer.email or "", disabled=offer.email is not None)
            new_password = st.text_input(
                "Password", type="password", help=f"At least {settings().min_password_length} characters"
            )
            confirm = st.text_input("Repeat password", type="password")
            created = st.form_submit_button("Create account", type="primary")
        if created:
            if new_password != confirm:
                show_error("The two passwords differ.")
            else:
                try:
                    with database().session() as session:
                        account = signup.register(session, settings(), username, offer.email or email, new_password,
                                                  invitation_token=offer.invitation_token, join_token=joining)
                        token = auth.start_session(session, account.id, days=settings().session_days)
                except AskVideoError as error:
                    show_error(error)
                else:
                    st.query_params.pop("invite", None)
                    signed_in(token)
