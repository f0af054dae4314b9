"""Driving the real Streamlit app in-process with AppTest, the way a user clicks through it."""

from __future__ import annotations

import re

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as _app_test

from core.config import PROJECT_ROOT

APP = PROJECT_ROOT / "streamlit_app.py"


class _NavigationPagesManager(PagesManager):
    """AppTest rebuilds its PagesManager on every run and, seeing our `pages/` folder, runs the
    page file alone (multipage v1). asgi.py tells the real server once that st.navigation routes
    our pages; AppTest sets that flag back to None before every run, so it is said again here each
    time. (Renaming pages/ would make both unneeded, but the house layout is pages/, one file per
    page, and st.navigation and the tests name the files there.)"""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


_app_test.PagesManager = _NavigationPagesManager


def start_app(timeout: float = 30) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.run()
    assert not at.exception, at.exception
    return at


def field(at: AppTest, label: str, nth: int = 0):
    return [w for w in at.text_input if w.label == label][nth]


def click(at: AppTest, label: str, nth: int = 0) -> AppTest:
    [b for b in at.button if b.label == label][nth].click().run()
    assert not at.exception, at.exception
    return at


def signed_in_app(db, username: str = "alice", page: str | None = None, timeout: float = 30) -> tuple[AppTest, object]:
    """The app as `username` sees it right after signing in (account created if needed)."""
    from core import auth
    from tests.factories import make_account

    with db.session() as session:
        account = make_account(session, username)
        token = auth.start_session(session, account.id, days=1)
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.session_state["session_token"] = token
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at, account


def element_protos(at: AppTest, kind: str) -> list:
    """Protos of elements AppTest has no typed accessor for (e.g. "video")."""
    return [e.proto for e in at.get(kind)]


def send_files(at: AppTest, user_id: int, files: list[tuple[str, bytes]]) -> AppTest:
    """Choose files in the Add videos page's picker, as a browser does: each is streamed to the
    user's staging folder by the same code PUT /uploads runs, then the picker reports them."""
    from core import uploads
    from core.config import load_settings
    from core.database import get_database

    settings, sent = load_settings(), []
    for name, data in files:
        with get_database().session() as session:
            incoming = uploads.start(session, settings, user_id, name, len(data))
        incoming.write(data)
        staged = uploads.finish(incoming, name)
        sent.append({"name": staged.name, "size": staged.size, "id": staged.id, "error": None})
    generation = at.session_state["upload-generation"] if "upload-generation" in at.session_state else 0
    at.session_state[f"uploader-{generation}"] = {"files": sent}
    at.run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    """The error messages as the user reads them: pages escape every character markdown would
    act on (ui.widgets.show_error), which the page shows as plain text."""
    return [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]
