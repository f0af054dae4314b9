"""Test fixtures over the real PostgreSQL: one embedded server per test run (or DATABASE_URL's).

Tests get a Session inside a transaction that is rolled back, so they cannot see each other.
Tests that drive whole processes (AppTest pages, workers) commit for real and use `clean_db`.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

# Point every setting at a throwaway data directory before any app module reads the environment.
_DATA_DIR = Path(tempfile.mkdtemp(prefix="askvideo-test-"))
# Gone when the run ends (an embedded server and a Whisper model: 200 MB a run), after the suite's
# embedded server has stopped: atexit runs last what registered first.
atexit.register(shutil.rmtree, _DATA_DIR, ignore_errors=True)
os.environ["ASKVIDEO_DATA_DIR"] = str(_DATA_DIR)
os.environ.pop("ASKVIDEO_SECRET_KEY", None)
os.environ.pop("OPENAI_BASE_URL", None)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Reading the screen (OCR in a pool of processes, ~3 s to start) is tested where it is the story
# (tests/test_screen_text*.py turn it on); every other ingestion here is about what is said.
os.environ["ASKVIDEO_SCREEN_TEXT"] = "off"
# Links are never fetched from loopback, so the test web site lives on a private address of its
# own, which this test installation allows; a second one stands for a network it does not.
LAN_HOST, UNLISTED_LAN_HOST = "10.213.7.1", "10.213.7.2"
os.environ["ASKVIDEO_ALLOWED_PRIVATE_NETWORKS"] = f"{LAN_HOST}/32"
_EXTERNAL_URL = os.environ.pop("DATABASE_URL", None)

from core.config import Settings, load_settings  # noqa: E402
from core.database import Database  # noqa: E402
from db.engine import drop_database, ensure_database, start_embedded, with_database  # noqa: E402
from db.migrate import upgrade  # noqa: E402

APP_TABLES = ("content_templates", "comments", "clips", "summaries", "chapters", "chat_logs", "transcript_sentences",
              "transcript_chunks", "video_group_members", "video_groups", "videos",
              "user_sessions", "sign_in_failures", "shared_questions", "workspace_invitations",
              "workspace_members", "workspaces", "access_token_calls", "access_tokens", "spent_cookie_handoffs",
              "users")
# Workspaces are numbered from here in tests, so an id of one passed where the other belongs (a user
# id as a workspace id) finds nothing instead of the user's personal workspace by coincidence.
WORKSPACE_IDS_FROM = 7001


def _number_workspaces_apart(conn) -> None:
    conn.execute(text(f"ALTER SEQUENCE workspaces_id_seq RESTART WITH {WORKSPACE_IDS_FROM}"))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A URL to a PostgreSQL server we may create databases on."""
    if _EXTERNAL_URL:
        yield _EXTERNAL_URL
        return
    yield start_embedded(_DATA_DIR / "pg", "postgres", cleanup_mode="stop")


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database migrated to head; the app in this process is pointed at it."""
    url = with_database(server_url, f"askvideo_test_{uuid.uuid4().hex[:8]}")
    ensure_database(url)
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        _number_workspaces_apart(conn)
    engine.dispose()
    os.environ["DATABASE_URL"] = url
    yield url
    from core.database import get_database

    get_database().dispose()
    drop_database(url)


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session", autouse=True)
def _each_text_embedded_once() -> Iterator[None]:
    """The real all-MiniLM-L6-v2 in every test, but each distinct text is encoded once per run.

    The corpus fixtures ingest the same captions again for each test, and encoding them was most
    of their time (1.2 s of 1.3 s). The vectors are the model's own, so retrieval, chapters and
    summaries see exactly what they would; only this process's model is remembered (workers and
    the app that tests start as processes load and run their own)."""
    from core.embeddings import LocalMiniLM

    encode, vectors = LocalMiniLM._encode, {}

    def remembered(self, texts: list[str], batch_size: int = 16) -> list[list[float]]:
        new = [t for t in dict.fromkeys(texts) if t not in vectors]
        if new:
            vectors.update(zip(new, encode(self, new, batch_size)))
        return [list(vectors[t]) for t in texts]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LocalMiniLM, "_encode", remembered)
        yield


@pytest.fixture(scope="session", autouse=True)
def _each_password_hashed_once() -> Iterator[None]:
    """argon2id at its real settings, but each password is hashed once per run: nearly every test
    makes accounts with the same password, and each hash costs 0.14 s (334 hashes were 44 s of the
    suite). Accounts given one password share its salt; checking passwords is untouched."""
    from core import auth

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "hash_password", functools.lru_cache(maxsize=None)(auth.hash_password))
        yield


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session whose work, commits included, is rolled back when the test ends."""
    connection = db.engine.connect()
    outer = connection.begin()
    s = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield s
    finally:
        s.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def clean_db(db: Database) -> Iterator[Database]:
    """For tests whose code commits through its own sessions: empty the tables and media afterwards."""
    yield db
    shutil.rmtree(load_settings().media_dir, ignore_errors=True)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
        _number_workspaces_apart(conn)
        conn.execute(text("DELETE FROM procrastinate_jobs"))


@pytest.fixture(scope="session")
def server_data_dir() -> Callable[[str], Path]:
    """Makes a new data directory for an app or embedded server a test starts besides the suite's.

    Not under pytest's tmp_path: run as root, the embedded PostgreSQL runs as the `pgserver`
    user, and any pytest that starts on the machine makes pytest's temporary root private to root
    again, so a server there lost its own directory mid-test ("Permission denied")."""
    made = itertools.count()

    def make(name: str) -> Path:
        path = _DATA_DIR / "servers" / f"{name}-{next(made)}"
        path.mkdir(parents=True)
        return path

    return make


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def lan_hosts() -> tuple[str, str]:
    """The two private test addresses, added to the loopback interface if they are not there
    (root only; they stay, harmless, for the next run)."""
    from tests.local_site import ensure_addresses

    if not ensure_addresses(LAN_HOST, UNLISTED_LAN_HOST):
        pytest.skip(f"needs the addresses {LAN_HOST} and {UNLISTED_LAN_HOST} on this machine "
                    f"(as root: ip addr add {LAN_HOST}/32 dev lo; ip addr add {UNLISTED_LAN_HOST}/32 dev lo)")
    return LAN_HOST, UNLISTED_LAN_HOST


@pytest.fixture(scope="session")
def site(tmp_path_factory, lan_hosts):
    """A web server on the allowed private test address serving files the test puts in `site.root`."""
    from tests.local_site import LocalSite

    served = LocalSite(tmp_path_factory.mktemp("site"), host=lan_hosts[0])
    yield served
    served.close()


@pytest.fixture
def fake_openai():
    from tests.fake_openai import FakeOpenAI

    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
def corpus_app(clean_db, tmp_path, monkeypatch):
    """The app signed in as an owner whose three captioned videos are ingested into one group."""
    from tests.app_driver import signed_in_app
    from tests.corpus import ingest_corpus, small_chunks

    monkeypatch.setenv("ASKVIDEO_CHUNK_WORDS", "14")
    monkeypatch.setenv("ASKVIDEO_CHUNK_OVERLAP_WORDS", "0")
    at, account = signed_in_app(clean_db, "owner")
    group_id, ids = ingest_corpus(clean_db, small_chunks(load_settings()), account.id, tmp_path)
    return at, account, group_id, ids


@pytest.fixture(scope="session")
def web_app(database_url, tmp_path_factory):
    """The app as `make run` serves it (asgi.py), on the test database and media directory."""
    from tests.web_server import WebServer

    server = WebServer(tmp_path_factory.mktemp("web") / "web.log")
    yield server
    server.close()
