"""The web server: Streamlit's pages (streamlit_app.py) and our own routes, one ASGI app.

`make run` starts it with `streamlit run asgi.py` (uvicorn underneath); any ASGI server works too
(`uvicorn asgi:app`). Beside the pages: stored media (/files), uploads (/uploads), the session
cookie (/session/cookie), a health check (/healthz), the REST API (/api/v1) and the MCP server (/mcp).
"""

import contextlib

import streamlit as st
from starlette.routing import Mount
from streamlit.runtime.pages_manager import PagesManager

from core import warm_up
from web import api, health, media, mcp_server, session_cookie, uploads
from web.limits import BodyLimit

# Pages are routed by st.navigation in streamlit_app.py; our pages/ folder is not Streamlit's old
# pages-directory mode. Streamlit only learns that when st.navigation first runs in the process,
# so a deep link opened first after a restart (/chat?group=1) ran its page alone, without the
# entry script, and crashed. Say it before any session starts.
PagesManager.uses_pages_directory = False


@contextlib.asynccontextmanager
async def lifespan(app: st.App):
    """While the app runs: the MCP server's session manager, and (at start, in the background)
    loading what the first question needs."""
    warm_up.start_in_background()
    async with mcp_server.lifespan(app):
        yield


app = st.App(
    "streamlit_app.py",
    routes=[*media.routes, *uploads.routes, *session_cookie.routes, *health.routes, *mcp_server.routes,
            Mount(api.PREFIX, app=BodyLimit(api.api, api.MAX_BODY))],
    lifespan=lifespan,
)
