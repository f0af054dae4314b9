"""GET /healthz: 200 when the database answers and a worker is alive, 503 otherwise (with why)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import health
from core.config import load_settings
from core.database import get_database


async def healthz(request: Request) -> Response:
    found = await run_in_threadpool(lambda: health.check(get_database()))
    stalled = load_settings().stalled_worker_seconds
    body = {"database": "ok" if found.database else "unreachable",
            "worker": "ok" if found.healthy(stalled) else "stalled" if found.worker_seconds_ago is not None else "none",
            "worker_heartbeat_seconds_ago": round(found.worker_seconds_ago, 1)
            if found.worker_seconds_ago is not None else None}
    return JSONResponse(body, status_code=200 if found.healthy(stalled) else 503,
                        headers={"Cache-Control": "no-store"})


routes = [Route("/healthz", healthz, methods=["GET", "HEAD"])]
