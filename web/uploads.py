"""PUT /uploads?name=…: one video file streamed from the browser to the user's staging folder.

The body is written piece by piece as it arrives (core/uploads.py), so memory does not grow with
the file; a dropped connection or a refusal leaves nothing behind.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import storage, uploads
from core.config import load_settings
from core.database import get_database
from core.errors import IngestError, Refused

TOKEN_HEADER = "X-Upload-Token"


def _start(upload_token: str, filename: str, declared: int | None) -> storage.IncomingFile:
    settings = load_settings()
    with get_database().session() as session:
        user_id = uploads.uploader(session, settings, upload_token)
        return uploads.start(session, settings, user_id, filename, declared)


async def receive_upload(request: Request) -> Response:
    filename = request.query_params.get("name", "")
    length = request.headers.get("content-length")
    try:
        incoming = await run_in_threadpool(_start, request.headers.get(TOKEN_HEADER, ""), filename,
                                           int(length) if length and length.isdigit() else None)
    except Refused as refused:
        return JSONResponse({"error": str(refused)}, status_code=refused.status)
    except OSError as error:  # the media volume is full or read-only
        return JSONResponse({"error": f"Could not store the file on the server ({error.strerror or error})."},
                            status_code=507)
    try:
        async for piece in request.stream():
            if piece:
                await run_in_threadpool(incoming.write, piece)
        if incoming.size == 0:
            raise Refused(400, "The file is empty (0 bytes).")
        staged = await run_in_threadpool(uploads.finish, incoming, filename)
    except (Refused, IngestError) as refused:  # IngestError: past the size limit, or the disk filled up
        incoming.discard()
        return JSONResponse({"error": str(refused)}, status_code=getattr(refused, "status", 400))
    except ClientDisconnect:
        incoming.discard()
        return Response(status_code=400)
    except BaseException:
        incoming.discard()
        raise
    return JSONResponse({"id": staged.id, "name": staged.name, "size": staged.size})


routes = [Route(uploads.ROUTE, receive_upload, methods=["PUT"])]
