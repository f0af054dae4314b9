"""How long each page takes to show for an account with a large library.

    .venv/bin/python -m bench.pages [--videos 10000] [--groups 500] [--logs 100000] [--rounds 3] [--browser]

Fills one account's workspace on a scratch database with `--videos` completed videos (a few
in error and in processing, as a real library has), `--groups` groups of 20 of them each (one of
them shared), and `--logs` answered questions spread over the groups in conversations of five,
with ratings, support scores and cited sources. Then renders Library, Groups, Ask and Analytics
with AppTest, signed in, and times each page's full script run (the server's share of a page
view), `--rounds` times each after one untimed warm-up. `--browser` also starts the web app as
`make run` serves it and times, in headless Chromium, how long the share page and Analytics take
from navigation to their content on screen. Loopback only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.database import scratch_database

PAGES = {"Library": "pages/library.py", "Groups": "pages/groups.py", "Ask": "pages/chat.py",
         "Analytics": "pages/analytics.py"}
GROUP_SIZE = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--logs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--browser", action="store_true")
    args = parser.parse_args()
    with scratch_database("pages") as db:
        started = time.perf_counter()
        owner_id, share_token = fill(db, args.videos, args.groups, args.logs)
        print(f"filled {args.videos:,} videos, {args.groups:,} groups, {args.logs:,} chat logs "
              f"in {time.perf_counter() - started:.0f} s")
        print("| page | p50 s | max s |\n| --- | --- | --- |")
        for name, path in PAGES.items():
            times = time_page(db, owner_id, path, args.rounds)
            print(f"| {name} | {statistics.median(times):.2f} | {max(times):.2f} |", flush=True)
        if args.browser:
            time_in_browser(db, owner_id, share_token, args.rounds)


def fill(db, videos: int, groups: int, logs: int) -> tuple[int, str]:
    """One account's workspace with a library of that size, written in a few set-based statements."""
    from sqlalchemy import text

    from core import sharing
    from core.auth import sign_up
    from core.workspaces import personal_workspace_id

    with db.session() as s:
        owner = sign_up(s, "pages", "pages@example.com", "pages password", video_limit=videos + 10,
                        min_password_length=8)
        workspace_id = personal_workspace_id(s, owner.id)
        owner_id = owner.id
    params = {"owner": owner_id, "ws": workspace_id, "videos": videos, "groups": groups, "logs": logs,
              "size": GROUP_SIZE}
    with db.session() as s:
        s.execute(text("""
            INSERT INTO videos (user_id, workspace_id, title, description, status, error_message, source,
                                original_filename, duration_s, transcript_source, progress, current_step,
                                uploaded_at, processing_finished_at, language)
            SELECT :owner, :ws, 'Weekly engineering talk ' || g || ': ' || (ARRAY['pricing roadmap',
                   'search latency', 'onboarding flow', 'billing migration', 'mobile release'])[1 + g % 5],
                   'Recorded at the all-hands.',
                   CASE WHEN g % 997 = 0 THEN 'error' WHEN g % 499 = 0 THEN 'processing' ELSE 'completed' END,
                   CASE WHEN g % 997 = 0 THEN 'This file is not a video ffmpeg can read.' END,
                   'upload', 'talk-' || g || '.mp4', 600 + (g * 37) % 3000,
                   CASE WHEN g % 997 = 0 THEN NULL ELSE 'captions' END,
                   CASE WHEN g % 499 = 0 THEN 40 ELSE 100 END,
                   CASE WHEN g % 499 = 0 THEN 'transcribing' END,
                   now() - g * interval '7 minutes', now() - g * interval '7 minutes', 'en'
            FROM generate_series(1, :videos) g"""), params)
        s.execute(text("""
            INSERT INTO video_groups (user_id, workspace_id, name, description, created_at)
            SELECT :owner, :ws, 'Team ' || g || ' talks', 'Every talk team ' || g || ' gave.',
                   now() - g * interval '1 hour'
            FROM generate_series(1, :groups) g"""), params)
        s.execute(text("""
            INSERT INTO video_group_members (group_id, video_id, "order")
            SELECT grp.id, v.id, v.rn % :size
            FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM video_groups WHERE workspace_id = :ws) grp
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM videos WHERE workspace_id = :ws) v
              ON v.rn / :size = grp.rn"""), params)
        s.execute(text("""
            INSERT INTO conversations (user_id, workspace_id, scope, group_id, title, created_at, updated_at)
            SELECT :owner, :ws, 'group', grp.id, 'What did team ' || c || ' decide?',
                   now() - c * interval '5 minutes', now() - c * interval '5 minutes'
            FROM generate_series(0, :logs / 5 - 1) c
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM video_groups WHERE workspace_id = :ws) grp
              ON grp.rn = c % :groups"""), params)
        s.execute(text("""
            INSERT INTO chat_logs (user_id, workspace_id, group_id, conversation_id, question, answer,
                                   related_videos, feedback, mode, support_score, claims, created_at)
            SELECT :owner, :ws, c.group_id, c.id,
                   'What did they say about the ' || (ARRAY['pricing roadmap', 'search latency',
                   'onboarding flow', 'billing migration', 'mobile release'])[1 + (c.id + t) % 5] || '? (' || t || ')',
                   'They said it ships next quarter [1], after the beta [2].',
                   jsonb_build_array(
                     jsonb_build_object('n', 1, 'video_id', m.video_id, 'title', v.title, 'start', 61.0, 'end', 75.0,
                                        'score', 0.71, 'snippet', 'It ships next quarter.', 'chunk_id', NULL),
                     jsonb_build_object('n', 2, 'video_id', m.video_id, 'title', v.title, 'start', 122.0, 'end', 140.0,
                                        'score', 0.64, 'snippet', 'The beta comes first.', 'chunk_id', NULL)),
                   CASE (c.id + t) % 7 WHEN 0 THEN 'bad' WHEN 1 THEN 'good' WHEN 2 THEN 'good' END,
                   CASE WHEN (c.id + t) % 23 = 0 THEN 'nothing' ELSE 'extractive' END,
                   ((c.id * 7 + t * 13) % 101) / 100.0,
                   jsonb_build_array(jsonb_build_object('sentence', 'They said it ships next quarter.', 'source', 1,
                                                        'supported', true, 'score', 0.8)),
                   c.created_at + t * interval '1 minute'
            FROM conversations c
            CROSS JOIN generate_series(0, 4) t
            JOIN LATERAL (SELECT video_id FROM video_group_members WHERE group_id = c.group_id
                          ORDER BY "order" LIMIT 1) m ON true
            JOIN videos v ON v.id = m.video_id
            WHERE c.workspace_id = :ws"""), params)
        s.execute(text("ANALYZE"))
    with db.session() as s:
        first_group = s.execute(text("SELECT min(id) FROM video_groups WHERE workspace_id = :ws"), params).scalar()
        share_token = sharing.create_link(s, owner_id, first_group)
    return owner_id, share_token


def time_page(db, owner_id: int, path: str, rounds: int) -> list[float]:
    """Seconds for AppTest's run of the page, signed in as the owner; the first run is not counted."""
    from core import auth
    from tests.app_driver import APP, AppTest

    with db.session() as s:
        token = auth.start_session(s, owner_id, days=1)
    times = []
    for i in range(rounds + 1):
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.session_state["session_token"] = token
        at.run()
        started = time.perf_counter()
        at.switch_page(path).run()
        elapsed = time.perf_counter() - started
        assert not at.exception, at.exception
        if i:
            times.append(elapsed)
    return times


def time_in_browser(db, owner_id: int, share_token: str, rounds: int) -> None:
    """Navigation to content on screen, in Chromium against the app as `make run` serves it: when
    the HTML is parsed (Streamlit's frontend bundle loaded), when the page's heading shows (the
    script's first output drawn), and when its last section's heading shows. The sign-in page,
    which reads next to nothing, is compared with a one-line Streamlit app of the same elements:
    the floor that Streamlit's frontend sets on this machine."""
    from playwright.sync_api import sync_playwright

    from core import auth, browser_cookies
    from core.config import PROJECT_ROOT
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.web_server import WebServer

    os.environ["DATABASE_URL"] = db.url
    with db.session() as s:
        token = auth.start_session(s, owner_id, days=1)
    servers = []
    try:
        server = WebServer(PROJECT_ROOT / "test-artifacts" / "bench-pages.log")
        servers.append(server)
        # The same app with Streamlit's file watcher on, as it ran before .streamlit/config.toml turned it off.
        watching = WebServer(PROJECT_ROOT / "test-artifacts" / "bench-pages-watching.log", "--server.fileWatcherType",
                             "auto")
        servers.append(watching)
        bare = WebServer(PROJECT_ROOT / "test-artifacts" / "bench-pages-bare.log", script="bench/one_line_app.py")
        servers.append(bare)
        checks = [  # name, address, text of the page's last section, signed in
            ("A one-line Streamlit app (the frontend's floor)", f"{bare.url}/", "Create account", False),
            ("Sign-in page, file watcher on (before)", f"{watching.url}/", "Create account", False),
            ("Sign-in page", f"{server.url}/", "Create account", False),
            ("Share page", f"{server.url}/?share={share_token}", "Chapters and comments", False),
            ("Analytics (its Review tab, open first)", f"{server.url}/analytics", "Regression questions", True),
        ]
        tab_checks = [  # Analytics' other tabs, from the click: the tab's last section and all its charts drawn
            ("Overview", "Most cited in bad answers", 6), ("Questions", "Export", 0),
            ("Processing", "Processing time per hour of video", 1),
        ]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print("| page in Chromium | HTML parsed p50 s | heading p50 s | whole page p50 s | whole page max s |\n"
                  "| --- | --- | --- | --- | --- |")
            for name, url, last, signed_in in checks:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                if signed_in:
                    context.add_cookies([{"name": browser_cookies.SESSION, "value": token, "url": server.url}])
                marks = []
                for i in range(rounds + 1):  # the first load fills the browser's cache and is not counted
                    page = context.new_page()
                    started = time.perf_counter()
                    page.goto(url, wait_until="domcontentloaded")
                    parsed = time.perf_counter() - started
                    page.locator("h1").first.wait_for(timeout=60_000)
                    heading = time.perf_counter() - started
                    page.get_by_text(last, exact=True).first.wait_for(timeout=60_000)
                    marks.append((parsed, heading, time.perf_counter() - started))
                    page.close()
                context.close()
                parsed, heading, whole = (statistics.median(m[k] for m in marks[1:]) for k in range(3))
                print(f"| {name} | {parsed:.2f} | {heading:.2f} | {whole:.2f} | {max(m[2] for m in marks[1:]):.2f} |",
                      flush=True)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_cookies([{"name": browser_cookies.SESSION, "value": token, "url": server.url}])
            page = context.new_page()
            page.goto(f"{server.url}/analytics")
            page.get_by_text("Regression questions", exact=True).first.wait_for(timeout=60_000)
            print("\n| Analytics tab in Chromium | click to last section p50 s | max s |\n| --- | --- | --- |")
            for tab, last, charts in tab_checks:
                took = []
                for _ in range(rounds + 1):  # the first visit loads the tab's element chunks, not counted
                    page.get_by_role("tab", name="Review").click()
                    page.get_by_text("Regression questions", exact=True).first.wait_for(timeout=60_000)
                    started = time.perf_counter()
                    page.get_by_role("tab", name=tab).click()
                    page.get_by_text(last, exact=True).first.wait_for(timeout=60_000)
                    page.wait_for_function("n => document.querySelectorAll('.vega-embed canvas, .vega-embed svg')"
                                           ".length >= n", arg=charts, timeout=60_000)
                    took.append(time.perf_counter() - started)
                print(f"| {tab} | {statistics.median(took[1:]):.2f} | {max(took[1:]):.2f} |", flush=True)
            context.close()
            browser.close()
    finally:
        for running in servers:
            running.close()


if __name__ == "__main__":
    main()
