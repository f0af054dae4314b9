"""What the first question needs, loaded when the web process starts instead of when it is asked.

Without it the first answer after a start waited for the embedding model to load (PyTorch and the
weights, ten seconds and more on two cores) and for the model clients' imports. A background
thread does it at start (asgi.py's lifespan), so pages are served meanwhile; a question asked
before it is done waits only for what is left. ASKVIDEO_WARM_UP=0 turns it off (bench/first_answer.py
compares the two).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from sqlalchemy import text

from core.database import get_database
from core.embeddings import LocalMiniLM

log = logging.getLogger(__name__)
finished = threading.Event()  # set once warming is over (done, failed, or turned off): /healthz reports it


def enabled() -> bool:
    return os.environ.get("ASKVIDEO_WARM_UP", "1") != "0"


def warm_up() -> float:
    """Load the answer path's imports, the local embedding model and a database connection; the seconds it took."""
    started = time.perf_counter()
    import langchain_core.messages  # noqa: F401  (imported by the answer path on first use)
    import openai  # noqa: F401

    LocalMiniLM().embed_query("warm up")
    with get_database().session() as session:
        session.execute(text("SELECT 1"))
    return time.perf_counter() - started


def start_in_background() -> threading.Thread | None:
    if not enabled():
        finished.set()
        return None

    def run() -> None:
        try:
            log.info("warmed up for the first question in %.1f s", warm_up())
        except Exception:  # a database not there yet, say: the first question loads what it needs itself
            log.warning("warm-up failed; the first question will load what it needs", exc_info=True)
        finally:
            finished.set()

    thread = threading.Thread(target=run, name="warm-up", daemon=True)
    thread.start()
    return thread
