"""The server's own routes beside the pages: the session cookie is set by the server (HttpOnly),
and load balancers ask /healthz whether this installation can serve."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import text

from core import browser_cookies
from core.config import load_settings


def post_handoff(web_app, sealed: str, **headers) -> httpx.Response:
    return httpx.post(web_app.url + browser_cookies.ROUTE, content=sealed, timeout=30,
                      headers={browser_cookies.HEADER: "1", **headers})


def test_the_session_cookie_is_set_by_the_server_httponly_and_only_once(web_app, clean_db):
    sealed = browser_cookies.handoff(load_settings(), browser_cookies.SESSION, "a-session-token", 3600)
    assert "a-session-token" not in sealed  # what the page's script holds says nothing

    answer = post_handoff(web_app, sealed)
    assert answer.status_code == 204
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("askvideo_session=a-session-token;")
    assert {"HttpOnly", "Path=/", "SameSite=lax", "Max-Age=3600"} <= {part.strip() for part in cookie.split(";")}
    assert "Secure" not in cookie  # plain http here; behind https the cookie is Secure

    again = post_handoff(web_app, sealed)
    assert again.status_code == 409 and "set-cookie" not in again.headers


def test_a_handoff_from_elsewhere_sets_nothing(web_app, clean_db):
    sealed = browser_cookies.handoff(load_settings(), browser_cookies.VISITOR, "visitor", 60)
    no_header = httpx.post(web_app.url + browser_cookies.ROUTE, content=sealed, timeout=30)
    assert no_header.status_code == 403  # what a cross-site form would send
    assert post_handoff(web_app, sealed[:-4] + "AAAA").status_code == 400  # altered
    assert post_handoff(web_app, "askvideo_session=chosen-by-an-attacker").status_code == 400
    assert "set-cookie" not in no_header.headers


def test_signing_out_clears_the_cookie(web_app, clean_db):
    sealed = browser_cookies.handoff(load_settings(), browser_cookies.SESSION, "", 0)
    answer = post_handoff(web_app, sealed, **{"X-Forwarded-Proto": "https"})
    cookie = answer.headers["set-cookie"]
    assert answer.status_code == 204 and cookie.startswith('askvideo_session="";') and "Max-Age=0" in cookie


@pytest.fixture
def no_workers(clean_db):
    with clean_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM procrastinate_workers"))
    yield clean_db
    with clean_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM procrastinate_workers"))


def test_healthz_says_whether_a_worker_is_alive(web_app, no_workers):
    deadline = time.monotonic() + 120  # a process that has just started warms up first (core/warm_up.py)
    while not httpx.get(web_app.url + "/healthz", timeout=30).json()["warmed_up"]:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    none = httpx.get(web_app.url + "/healthz", timeout=30)
    assert none.status_code == 503 and none.json()["database"] == "ok" and none.json()["worker"] == "none"

    with no_workers.engine.begin() as conn:
        conn.execute(text("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '5 seconds')"))
    alive = httpx.get(web_app.url + "/healthz", timeout=30)
    assert alive.status_code == 200 and alive.json()["worker"] == "ok"
    assert 4 <= alive.json()["worker_heartbeat_seconds_ago"] < 60

    with no_workers.engine.begin() as conn:
        conn.execute(text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '10 minutes'"))
    stalled = httpx.get(web_app.url + "/healthz", timeout=30)
    assert stalled.status_code == 503 and stalled.json()["worker"] == "stalled"
