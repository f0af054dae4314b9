"""Who is signed in, kept across reloads by a cookie that holds a random session token."""

from __future__ import annotations

import json
import time

import streamlit as st

from core import auth, browser_cookies, conversations, identity
from core.auth import Account
from core.config import Settings, load_settings
from core.database import Database, get_database
from core.errors import AskVideoError

COOKIE = browser_cookies.SESSION
VISITOR_COOKIE = browser_cookies.VISITOR
VISITOR_DAYS = 365
_WRITES = "cookie_writes"  # name -> the write this browser still has to make
_EMITTED = "cookie_writes_emitted"  # names whose write this run sent to the browser


@st.cache_resource
def settings() -> Settings:
    return load_settings()


def database() -> Database:
    # get_database() is itself a thread-safe process-wide singleton.
    return get_database()


def current_account() -> Account | None:
    """The signed-in account, re-checked against the database on every run (expiry, sign-out)."""
    token = st.session_state.get("session_token")
    from_cookie = not token
    token = token or _cookie_token()
    if not token:
        return None
    with database().session() as session:
        account = auth.account_for_token(session, token)
    if account is None:
        st.session_state.pop("session_token", None)
    elif from_cookie:
        # A browser coming back: its cookie is set again by the server, so one written by an older
        # version (from JavaScript, readable by scripts) becomes HttpOnly too.
        st.session_state["session_token"] = token
        _queue(COOKIE, token, settings().session_days * 86400, even_if_present=True)
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
        _queue(VISITOR_COOKIE, token, VISITOR_DAYS * 86400)
    st.session_state["visitor_token"] = token
    return token


def remember(token: str) -> None:
    """Sign this browser in: keep the token for this session and, after the rerun, in a cookie."""
    st.session_state["session_token"] = token
    _queue(COOKIE, token, settings().session_days * 86400)


def forget() -> None:
    token = st.session_state.pop("session_token", None) or _cookie_token()
    with database().session() as session:
        auth.sign_out(session, token)
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    _queue(COOKIE, "", 0)


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


def _queue(name: str, value: str, max_age: int, *, even_if_present: bool = False) -> None:
    st.session_state.setdefault(_WRITES, {})[name] = {"value": value, "max_age": max_age, "force": even_if_present}


def write_pending_cookie() -> None:
    """Have the browser ask the server to set or clear our cookies (core/browser_cookies.py).

    The page's script gets only a sealed handoff, never the token; the server's answer sets the
    cookie HttpOnly. A write stays pending until a run that sent it finishes (`confirm_cookie_writes`)
    or the browser sends the cookie back as written: a run cut short by a quick click must not lose
    a sign-in at the next reload. While pending, the same handoff is sent again (the same element,
    so the browser does not post it twice) until it is half-way to expiring.
    """
    slot = st.empty()  # always there, so the page below keeps its place whether a cookie is written or not
    writes = st.session_state.get(_WRITES) or {}
    for name, write in list(writes.items()):
        if not write["force"] and (_cookie_token(name) or "") == write["value"]:  # the browser has it
            del writes[name]
    st.session_state[_EMITTED] = set(writes)
    if not writes:
        return
    now = time.monotonic()
    for name, write in writes.items():
        if "sealed" not in write or now - write["sealed_at"] > browser_cookies.HANDOFF_SECONDS / 2:
            write["sealed"] = browser_cookies.handoff(settings(), name, write["value"], write["max_age"])
            write["sealed_at"] = now
    # The handoffs are URL-safe base64 made here, never user text; json.dumps quotes them for the script.
    # A synchronous request: the cookie is set before the script returns, as document.cookie was, so
    # a reload straight after signing in (or a link opened at once) already sends it.
    slot.html(
        "<script>" + "".join(
            "(function(){var r=new XMLHttpRequest();"
            f"r.open('POST',{json.dumps(browser_cookies.ROUTE)},false);"
            f"r.setRequestHeader({json.dumps(browser_cookies.HEADER)},'1');"
            f"try{{r.send({json.dumps(write['sealed'])});}}catch(e){{}}}})();"
            for write in writes.values()) + "</script>",
        unsafe_allow_javascript=True,
    )


def confirm_cookie_writes() -> None:
    """The run finished: the writes it sent reached the browser, so they are no longer pending."""
    writes = st.session_state.get(_WRITES) or {}
    for name in st.session_state.pop(_EMITTED, ()):
        writes.pop(name, None)
