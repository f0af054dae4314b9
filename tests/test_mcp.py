"""An AI assistant connects to the app's MCP server at /mcp with a personal access token, lists its
tools, searches a group's moments and asks a question, as the token's owner and within its scope
and, for a token limited to one workspace, within that workspace."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from core import access_tokens, workspaces
from tests.corpus import captioned_group, three_topics
from tests.factories import make_account


async def _session(url: str, token: str, work):
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            return await work(client)


def with_client(web_app, token: str, work):
    # In a thread of its own: the browser tests' sync Playwright keeps an event loop on the main thread.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, _session(web_app.url + "/mcp", token, work)).result()


@pytest.fixture
def tokens(clean_db):
    with clean_db.session() as s:
        olivia = make_account(s, "olivia")
    group_id, ids = captioned_group(clean_db, olivia.id, {"Evening talk": three_topics()})
    with clean_db.session() as s:
        _, read = access_tokens.create(s, olivia.id, "assistant (read)", "read", days=7)
        _, ask = access_tokens.create(s, olivia.id, "assistant", "ask", days=7)
    return group_id, ids["Evening talk"], read, ask


def test_an_assistant_lists_tools_searches_and_asks(web_app, tokens):
    group_id, video_id, _, ask = tokens

    async def work(client):
        tools = await client.list_tools()
        groups = await client.call_tool("list_groups", {})
        found = await client.call_tool("search_moments", {"query": "telescope planets at night", "group_id": group_id})
        answer = await client.call_tool("ask_group", {"question": "What do you look at through the telescope?",
                                                      "group_id": group_id})
        span = await client.call_tool("get_transcript", {"video_id": video_id, "start": 150, "end": 160})
        return tools, groups, found, answer, span

    tools, groups, found, answer, span = with_client(web_app, ask, work)
    assert {"list_groups", "search_moments", "ask_group", "get_transcript"} <= {t.name for t in tools.tools}
    assert not groups.is_error and groups.structured_content["result"][0]["id"] == group_id
    moments = found.structured_content["result"]
    assert moments and moments[0]["video_id"] == video_id and 300 <= moments[0]["start"] < 450
    assert moments[0]["url"].startswith(f"{web_app.url}/library?video={video_id}&t=")  # plays there
    assert not answer.is_error
    cited = answer.structured_content["citations"]
    assert cited and all(c["video_id"] == video_id and 300 <= c["start"] < 450 for c in cited)
    assert [line["start"] for line in span.structured_content["lines"]] == [150.0, 155.0]


def test_a_read_token_cannot_ask_and_no_token_gets_nothing(web_app, tokens):
    group_id, _, read, _ = tokens

    async def work(client):
        return await client.call_tool("ask_group", {"question": "What is the talk about?", "group_id": group_id})

    refused = with_client(web_app, read, work)
    assert refused.is_error and "only read" in refused.content[0].text

    anonymous = httpx.post(web_app.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                           headers={"Accept": "application/json, text/event-stream"}, timeout=30)
    assert anonymous.status_code == 401
    forged = httpx.post(web_app.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                        headers={"Accept": "application/json, text/event-stream",
                                 "Authorization": "Bearer avt_not-a-real-token"}, timeout=30)
    assert forged.status_code == 401


def test_another_users_group_is_not_found_through_mcp(web_app, tokens, clean_db):
    group_id, _, _, _ = tokens
    with clean_db.session() as s:
        bob = make_account(s, "bob")
        _, bobs = access_tokens.create(s, bob.id, "bob's assistant", "ask", days=7)

    async def work(client):
        return await client.call_tool("search_moments", {"query": "telescope", "group_id": group_id})

    refused = with_client(web_app, bobs, work)
    assert refused.is_error and "not" in refused.content[0].text.lower()


def test_a_token_for_a_team_finds_nothing_of_its_owners_own_library_through_mcp(web_app, tokens, clean_db):
    group_id, video_id, _, ask = tokens
    with clean_db.session() as s:
        olivia = access_tokens.authenticate(s, ask).user_id
        team_id = workspaces.create_workspace(s, olivia, "Field team")
        _, team_token = access_tokens.create(s, olivia, "team assistant", "ask", days=7, workspace_id=team_id)

    async def work(client):
        return (await client.call_tool("list_groups", {}),
                await client.call_tool("search_moments", {"query": "telescope", "group_id": group_id}),
                await client.call_tool("get_transcript", {"video_id": video_id}),
                await client.call_tool("ask_group", {"question": "What is the talk about?", "group_id": group_id}),
                await client.call_tool("ask_group", {"question": "What is the talk about?", "video_id": video_id}))

    listed, found, transcript, asked_group, asked_video = with_client(web_app, team_token, work)
    assert not listed.is_error and listed.structured_content["result"] == []  # the team's groups: none yet
    assert found.is_error and "group does not exist" in found.content[0].text
    assert transcript.is_error and "video does not exist" in transcript.content[0].text
    assert asked_group.is_error and "group does not exist" in asked_group.content[0].text
    assert asked_video.is_error and "video does not exist" in asked_video.content[0].text
