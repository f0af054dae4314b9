"""POST /session/cookie: the server sets a cookie a page handed the browser sealed (core/browser_cookies.py).

The answer's Set-Cookie is HttpOnly (page scripts never read the token), SameSite=Lax, and Secure
when the browser reached us over https (directly, or through a proxy uvicorn trusts).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from core import browser_cookies
from core.config import load_settings
from core.database import get_database
from core.errors import Refused

MAX_BODY = 4096


def _take(sealed: str) -> browser_cookies.CookieWrite:
    with get_database().session() as session:
        return browser_cookies.take(session, load_settings(), sealed)


async def hand_cookie(request: Request) -> Response:
    if request.headers.get(browser_cookies.HEADER) != "1":
        return PlainTextResponse("Missing header.", status_code=403)
    body = b""
    async for piece in request.stream():  # read no further than a handoff can be
        body += piece
        if len(body) > MAX_BODY:
            return PlainTextResponse("Too large.", status_code=413)
    try:
        write = await run_in_threadpool(_take, body.decode("ascii", errors="replace"))
    except Refused as refused:
        return PlainTextResponse(str(refused), status_code=refused.status)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    secure = request.url.scheme == "https"
    if write.value:
        response.set_cookie(write.name, write.value, max_age=write.max_age, path="/", secure=secure,
                            httponly=True, samesite="lax")
    else:
        response.delete_cookie(write.name, path="/", secure=secure, httponly=True, samesite="lax")
    return response


routes = [Route(browser_cookies.ROUTE, hand_cookie, methods=["POST"])]
