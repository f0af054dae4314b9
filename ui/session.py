"""Who is signed in, kept across reloads by a cookie that holds a random session token."""

from __future__ import annotations

import json

import streamlit as st

from core import auth, conversations, identity
from core.auth import Account
from core.config import Settings, load_settings
from core.database import Database, get_database
from core.errors import AskVideoError

COOKIE = "askvideo_session"
VISITOR_COOKIE = "askvideo_visitor"  # a share-link visitor's key to their own conversations
VISITOR_DAYS = 365


@st.cache_resource
def settings() -> Settings:
    return load_settings()


def database() -> Database:
    # get_database() is itself a thread-safe process-wide singleton.
    return get_database()


def current_account() -> Account | None:
    """The signed-in account, re-checked against the database on every run (expiry, sign-out)."""
    token = st.session_state.get("session_token") or _cookie_token()
    if not token:
        return None
    with database().session() as session:
        account = auth.account_for_token(session, token)
    if account is None:
        st.session_state.pop("session_token", None)
    return account


def visitor_address() -> str | None:
    """The visitor's address, for the sign-in throttle; None when Streamlit does not know it."""
    try:
        address = st.context.ip_address
    except Exception:  # no browser behind this run (AppTest, bare mode)
        return None
    return address if isinstance(address, str) else None


def _cookie_token(name: str = COOKIE) -> str | None:
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no browser behind this run (AppTest, bare mode)
        return None
    return value if isinstance(value, str) else None


def visitor_token() -> str:
    """This browser's visitor token (made and kept in a cookie on first use): whoever opens a
    share link finds the conversations they had there, without an account."""
    token = st.session_state.get("visitor_token") or _cookie_token(VISITOR_COOKIE)
    if not token or not 20 <= len(token) <= 100:
        token = conversations.new_visitor_token()
        st.session_state["visitor_cookie_to_write"] = token
    st.session_state["visitor_token"] = token
    return token


def remember(token: str) -> None:
    """Sign this browser in: keep the token for this session and, after the rerun, in a cookie."""
    st.session_state["session_token"] = token
    st.session_state["cookie_to_write"] = token


def forget() -> None:
    token = st.session_state.pop("session_token", None) or _cookie_token()
    with database().session() as session:
        auth.sign_out(session, token)
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state["cookie_to_write"] = ""


def sign_out() -> None:
    """Sign out of Ask Video, and of the company sign-in if that is how this browser came in (or
    the next run would sign it straight back in): Streamlit then goes through the provider's
    sign-out and back to the sign-in page."""
    company = company_sign_in() and st.user.is_logged_in
    forget()
    if company:
        st.logout()
    else:
        st.rerun()


def company_sign_in() -> bool:
    """Whether the company's OpenID Connect provider is configured (`[auth]` in secrets.toml)."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def account_from_company_sign_in() -> AskVideoError | None:
    """Once `st.login` has come back signed in, sign in to Ask Video as that person (the account
    their company identity is, or one made from their verified email). Returns why that person is
    not signed in here, if so (an account to link with its password, or a refusal): the sign-in
    page says it."""
    if not company_sign_in() or not st.user.is_logged_in or st.session_state.get("session_token"):
        return None
    try:
        _, token = identity.sign_in_with_identity(database(), settings(), st.user.to_dict(),
                                                  days=settings().session_days)
    except AskVideoError as error:
        return error
    remember(token)
    return None


def link_company_account(password: str) -> None:
    """Link the account with the company sign-in's email, given its password, and sign in."""
    _, token = identity.link_with_password(database(), st.user.to_dict(), password, days=settings().session_days,
                                           address=visitor_address())
    remember(token)


def write_pending_cookie() -> None:
    """Set or clear the session cookie in the browser (Streamlit has no server-side cookie API).

    The token is ours (URL-safe base64), never user text; json.dumps quotes it for the script.
    SameSite=Strict keeps other sites from sending it. A write stays pending, and is made again on
    each run, until the browser sends the cookie back as written: a run cut short by a click (its
    last elements never sent) must not lose a sign-in at the next reload.
    """
    slot = st.empty()  # always there, so the page below keeps its place whether a cookie is written or not
    writes = []
    for key, name, max_age in (("cookie_to_write", COOKIE, settings().session_days * 86400),
                               ("visitor_cookie_to_write", VISITOR_COOKIE, VISITOR_DAYS * 86400)):
        if key not in st.session_state:
            continue
        value = st.session_state[key]
        if (_cookie_token(name) or "") == value:  # the browser has it (or, cleared, has none)
            del st.session_state[key]
        else:
            writes.append((name, value, max_age if value else 0))
    if not writes:
        return
    slot.html(
        "<script>" + "".join(
            f"document.cookie = {json.dumps(name)} + '=' + {json.dumps(value)} + "
            f"'; Max-Age={max_age}; Path=/; SameSite=Strict' + "
            "(location.protocol === 'https:' ? '; Secure' : '');"
            for name, value, max_age in writes) + "</script>",
        unsafe_allow_javascript=True,
    )
