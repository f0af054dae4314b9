"""GET /healthz: 200 when the database answers, a worker is alive and this process has warmed up
for the first question (core/warm_up.py); 503 otherwise, saying why. A load balancer so sends a
newly started web process its first visitors only once it answers them at full speed."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import health, warm_up
from core.config import load_settings
from core.database import get_database


async def healthz(request: Request) -> Response:
    found = await run_in_threadpool(lambda: health.check(get_database()))
    stalled = load_settings().stalled_worker_seconds
    ready = found.healthy(stalled) and warm_up.finished.is_set()
    body = {"warmed_up": warm_up.finished.is_set(), "database": "ok" if found.database else "unreachable",
            "worker": "ok" if found.healthy(stalled) else "stalled" if found.worker_seconds_ago is not None else "none",
            "worker_heartbeat_seconds_ago": round(found.worker_seconds_ago, 1)
            if found.worker_seconds_ago is not None else None}
    return JSONResponse(body, status_code=200 if ready else 503,
                        headers={"Cache-Control": "no-store"})


routes = [Route("/healthz", healthz, methods=["GET", "HEAD"])]
