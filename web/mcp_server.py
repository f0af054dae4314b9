"""The MCP server at /mcp (Streamable HTTP): AI assistants search and ask a user's videos.

Built on the official `mcp` SDK. It is a resource server only: a client sends a personal access
token as its bearer token (the same tokens as the REST API, with the same scopes, workspace limit
and rate limit), and each tool acts as the token's owner through the same core functions as the
pages and the API. Stateless, so any web process behind a load balancer can answer any request.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import anyio.to_thread
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route

from core import access_tokens, answers
from core.access_tokens import Caller
from core.config import load_settings
from core.database import get_database
from core.errors import AskVideoError
from db.states import TokenScope
from web import api

PATH = "/mcp"
T = TypeVar("T")
_WORKSPACE = "workspace_id"  # the claim carrying the one workspace a limited token reaches (None: all)


class PersonalTokens:
    """The SDK's token verifier, over our personal access tokens."""

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            caller = await anyio.to_thread.run_sync(_authenticate, token)
        except AskVideoError:
            return None
        scopes = [TokenScope.READ] + ([TokenScope.ASK] if caller.may_ask() else [])
        return AccessToken(token=token, client_id=str(caller.token_id), scopes=[str(s) for s in scopes],
                           subject=str(caller.user_id), claims={_WORKSPACE: caller.workspace_id})


def _authenticate(token: str) -> Caller:
    with get_database().session() as session:
        return access_tokens.authenticate(session, token)


def _app_url(ctx: Context) -> str:
    """Where people open the app: ASKVIDEO_PUBLIC_URL, else the address this request came to."""
    headers = {k.lower(): v for k, v in (ctx.headers or {}).items()}
    scheme = "https" if headers.get("x-forwarded-proto") == "https" else "http"
    return load_settings().public_url or f"{scheme}://{headers.get('host', 'localhost:8501')}"


server = MCPServer(
    "Ask Video",
    instructions="Search and ask a team's videos. Every answer cites the video and the second it comes from; "
                 "each moment has a link that plays the video from there.",
    token_verifier=PersonalTokens(),
    # A resource server only: tokens are made on Ask Video's Settings page, not through OAuth.
    auth=AuthSettings(issuer_url=load_settings().public_url or "http://localhost:8501", resource_server_url=None,
                      required_scopes=[TokenScope.READ]),
)


async def _as_caller(work: Callable[[Caller], T], *, needs: TokenScope = TokenScope.READ) -> T:
    """Run `work` as the token's owner in a worker thread, once the token's scope and rate limit allow."""
    token = get_access_token()
    if token is None:  # the SDK's middleware refuses requests without one before any tool runs
        raise ToolError("A personal access token is needed.")
    caller = Caller(int(token.subject), int(token.client_id),
                    TokenScope.ASK if TokenScope.ASK in token.scopes else TokenScope.READ,
                    (token.claims or {}).get(_WORKSPACE))
    if needs == TokenScope.ASK and not caller.may_ask():
        raise ToolError("This token may only read; make one with the read and ask scope on the Settings page.")

    def counted() -> T:  # a refused call rolls its count back: the limit stays reached
        with get_database().session() as session:
            access_tokens.take_call(session, caller, per_minute=load_settings().api_calls_per_minute)
        return work(caller)

    try:
        return await anyio.to_thread.run_sync(counted)
    except AskVideoError as error:
        raise ToolError(str(error)) from None


@server.tool()
async def list_groups(workspace_id: int | None = None) -> list[api.Group]:
    """The groups of videos in a workspace (when no id is given, your personal one, or the token's own
    if it is limited to one), newest first."""
    return await _as_caller(lambda caller: api.groups_of(caller, workspace_id))


@server.tool()
async def search_moments(query: str, ctx: Context, group_id: int | None = None, video_id: int | None = None,
                         workspace_id: int | None = None, limit: int = 5) -> list[api.Moment]:
    """The moments of a group (or a video, or else a whole workspace) that answer `query`: each with its
    video, start and end second, what is said there and a link that plays it. Empty when nothing answers."""
    target = api.Target(group_id=group_id, video_id=video_id, workspace_id=workspace_id)
    app_url = _app_url(ctx)
    return await _as_caller(lambda caller: api.find_moments(caller, query, target, app_url,
                                                           limit=max(1, min(limit, 20))))


@server.tool()
async def ask_group(question: str, ctx: Context, group_id: int | None = None, video_id: int | None = None,
                    workspace_id: int | None = None, conversation_id: int | None = None) -> api.AnswerOut:
    """Ask a question about a group (or a video, or a whole workspace): an answer whose every claim cites
    a numbered moment, listed in `citations` with links; when nothing answers it but something is near,
    `closest` lists the moments that came nearest (not an answer). Pass `conversation_id` back to follow up."""
    app_url = _app_url(ctx)

    def work(caller: Caller) -> api.AnswerOut:
        db, target = get_database(), api.Target(group_id=group_id, video_id=video_id, workspace_id=workspace_id)
        answer = answers.ask(db, load_settings(), group_id=group_id, video_id=video_id,
                             workspace_id=api.within(db, caller, target, conversation_id=conversation_id),
                             user_id=caller.user_id, question=question, conversation_id=conversation_id)
        return api.answer_out(answer, app_url)
    return await _as_caller(work, needs=TokenScope.ASK)


@server.tool()
async def get_transcript(video_id: int, start: float = 0.0, end: float | None = None) -> api.Transcript:
    """What is said in a video between two seconds (the whole transcript without them), line by line with times."""
    return await _as_caller(lambda caller: api.transcript_of(caller, video_id, max(start, 0.0), end))


# Bearer tokens, not cookies, authorise every request, so a rebinding page has nothing to use:
# the Host check would only refuse the names a load balancer gives this app.
_app = server.streamable_http_app(streamable_http_path=PATH, stateless_http=True, json_response=True,
                                  transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
routes = [Route(PATH, _app, methods=["GET", "POST", "DELETE"])]


@contextlib.asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    """The SDK's session manager runs for as long as the web app does."""
    async with server.session_manager.run():
        yield
