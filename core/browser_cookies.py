"""The browser's cookies, set by the server so that page scripts never see what they hold.

Streamlit's pages run over a websocket and cannot answer with a Set-Cookie header. So a page hands
the browser a *sealed* cookie (encrypted and signed for this purpose only, good for
HANDOFF_SECONDS and once), and the browser posts it to our own route, which opens it and answers
with the cookie: HttpOnly, SameSite=Lax, Secure behind https. The page's JavaScript holds only the
sealed form, which is useless to read and spent once used.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.config import Settings
from core.encryption import seal, unseal
from core.errors import Refused
from db.models import SpentCookieHandoff

SESSION = "askvideo_session"  # a signed-in browser's session token (core/auth.py)
VISITOR = "askvideo_visitor"  # a share-link visitor's key to their own conversations
NAMES = (SESSION, VISITOR)  # the only cookies a handoff may set
ROUTE = "/session/cookie"
HEADER = "X-Ask-Video-Cookie"  # a custom header: a cross-site form cannot send it, a cross-site script must ask first
HANDOFF_SECONDS = 120
PURPOSE = "cookie handoff"


@dataclass(frozen=True)
class CookieWrite:
    name: str
    value: str  # "" clears the cookie
    max_age: int


def handoff(settings: Settings, name: str, value: str, max_age: int) -> str:
    """The sealed form of one cookie write, for the browser to post to ROUTE."""
    if name not in NAMES:
        raise ValueError(f"not a cookie of ours: {name}")
    return seal(settings, PURPOSE, json.dumps({"n": name, "v": value, "a": max_age, "o": secrets.token_hex(16)}))


def take(session: Session, settings: Settings, sealed: str) -> CookieWrite:
    """Open a handoff posted by the browser, once: a copy posted again is refused."""
    opened = unseal(settings, PURPOSE, sealed.strip(), max_age_s=HANDOFF_SECONDS) if sealed else None
    try:
        fields = json.loads(opened) if opened else None
        write = CookieWrite(str(fields["n"]), str(fields["v"]), int(fields["a"]))
        nonce = str(fields["o"])
    except (TypeError, KeyError, ValueError):
        raise Refused(400, "This cookie handoff is not valid or has expired; reload the page.") from None
    if write.name not in NAMES:
        raise Refused(400, "Not a cookie of ours.")
    spent = session.scalar(insert(SpentCookieHandoff).values(nonce=nonce).on_conflict_do_nothing()
                           .returning(SpentCookieHandoff.nonce))
    if spent is None:
        raise Refused(409, "This cookie handoff was already used.")
    return write


def purge_spent(session: Session) -> int:
    """Forget spent handoffs once they would have expired anyway; returns how many went."""
    return session.execute(delete(SpentCookieHandoff).where(
        SpentCookieHandoff.spent_at < func.now() - timedelta(seconds=2 * HANDOFF_SECONDS))).rowcount
