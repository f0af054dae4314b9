"""GET /files/<kind>/<id>: stored media served by byte range, each request checked (core/media_links.py)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from core import media_links
from core.config import load_settings
from core.database import get_database
from core.errors import Refused

# A stored file is data, never a page: no sniffing it into HTML, no scripts if opened on its own.
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
}


def _serve(kind: str, item_id: int, grant: str, expires: str, signature: str) -> media_links.Served:
    settings = load_settings()
    media_links.check_signature(settings, kind, item_id, grant, expires, signature)
    with get_database().session() as session:
        return media_links.locate(session, settings, kind, item_id, grant)


async def serve_media(request: Request) -> Response:
    query = request.query_params
    try:
        served = await run_in_threadpool(
            _serve, request.path_params["kind"], request.path_params["item_id"], query.get("g", ""),
            query.get("e", ""), query.get("s", ""))
    except Refused as refused:
        return PlainTextResponse(str(refused), status_code=refused.status, headers=SAFE_HEADERS)
    # FileResponse answers Range requests (206) straight from the file: nothing is read into memory.
    return FileResponse(served.path, media_type=served.content_type, headers=SAFE_HEADERS,
                        filename=served.download_name if "download" in query else None,
                        content_disposition_type="attachment" if "download" in query else "inline")


routes = [Route(media_links.ROUTE + "/{kind:str}/{item_id:int}", serve_media, methods=["GET", "HEAD"])]
