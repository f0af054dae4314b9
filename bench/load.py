"""A bounded load test on loopback: concurrent users asking questions while a worker ingests.

    .venv/bin/python -m bench.load [--users 20] [--seconds 60] [--uploads 6] [--api-seconds 60]
        [--browser-users 4 --browser-seconds 60]

First, one process plays the app (one shared `Database`, as a Streamlit process has) with `--users`
threads, each asking offline questions back to back through the product's answer path
(`prepare` → `stream` → `finish`, which writes chat_logs). Meanwhile a real worker process ingests
`--uploads` captioned videos. Then (unless `--api-seconds 0`) the real web app (`streamlit run
asgi.py`, as `make run` serves it) is started on the same database and `--users` clients ask the
same kind of questions over HTTP through `POST /api/v1/ask` with their own tokens, so that figure
includes the web server, authentication and the rate-limit count. With `--browser-seconds`,
`--browser-users` headless Chromium pages, each signed in, ask on the Ask page as a person does
(type, Enter, wait until the answer's rating buttons show): that figure includes Streamlit itself
(its websocket, script runs and the page drawn), and Chromium shares the two cores with the
server. Reports, for each, p50/p95
answer latency, answers per second, errors (must be zero) and the most database connections seen.
Everything stops by itself.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time

import numpy as np

from bench.database import scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--uploads", type=int, default=6)
    parser.add_argument("--api-seconds", type=float, default=60, help="0: skip the run through the web app's API")
    parser.add_argument("--browser-users", type=int, default=4)
    parser.add_argument("--browser-seconds", type=float, default=0, help="0: skip the run through Chromium")
    args = parser.parse_args()
    with scratch_database("load") as db:
        run(db, args)


def run(db, args: argparse.Namespace) -> None:
    from bench.ingest import WORDS, talks_in_group
    from core import answers, groups, submission
    from core.auth import sign_up
    from core.config import PROJECT_ROOT, load_settings
    from core.embeddings import LocalMiniLM
    from core.submission import UploadItem
    from core.workspaces import personal_workspace_id
    from tests.media_factory import TALK, srt, video

    url = db.url
    data_dir = load_settings().data_dir
    settings = load_settings()
    LocalMiniLM().embed_query("warm up")

    with db.session() as s:
        owner = sign_up(s, "load", "load@example.com", "load password", video_limit=1000, min_password_length=8)
        workspace_id = personal_workspace_id(s, owner.id)
        group_id = groups.create_group(s, owner.id, "Load", workspace_id=workspace_id)
    talks_in_group(db, settings, owner.id, workspace_id, group_id)  # five 20-minute talks, ingested

    media = data_dir / "upload-media"
    media.mkdir()

    def uploads(prefix: str, first_seconds: int) -> list[UploadItem]:
        # A different file each, by its length: the same bytes are stored once (a duplicate is not processed).
        return [UploadItem(f"{prefix}{n}.mp4", open(video(media / f"{prefix}{n}.mp4", seconds=first_seconds + n), "rb"),
                           captions_name="c.srt", captions_data=srt(TALK)) for n in range(args.uploads)]

    worker = subprocess.Popen([sys.executable, "-m", "core.worker", "--name", "load-worker"], cwd=PROJECT_ROOT,
                              env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    # The same kind of uploads first with nobody asking: each one's processing time, idle.
    submission.submit_uploads(db, settings, owner.id, uploads("idle", 20 + args.uploads), language="en", workspace_id=workspace_id)
    deadline = time.monotonic() + 300
    while _processing_seconds(db, "idle%")[0] < args.uploads and time.monotonic() < deadline:
        time.sleep(1)
    idle_done, idle_wall, idle_each = _processing_seconds(db, "idle%")
    items = uploads("u", 20)

    def question(rng: random.Random) -> str:
        return f"What did they say about {rng.choice(WORDS)} and {rng.choice(WORDS)}?"

    def ask_in_process(rng: random.Random) -> None:
        prepared = answers.prepare(db, settings, group_id=group_id, user_id=owner.id,
                                   workspace_id=workspace_id, question=question(rng))
        answers.finish(db, prepared, "".join(answers.stream(prepared)))

    submission.submit_uploads(db, settings, owner.id, items, language="en", workspace_id=workspace_id)
    result = hammer(db, ask_in_process, users=args.users, seconds=args.seconds)
    worker.terminate()
    worker.wait(timeout=60)
    done, loaded_wall, loaded_each = _processing_seconds(db, "u%")
    report(f"in process, users {args.users}, uploads ingested meanwhile {done}/{args.uploads}", result)
    if idle_done and done:
        # Under load the batch's time is the whole window unless it all finished within it.
        loaded_wall = loaded_wall if done == args.uploads else result["elapsed"]
        idle_rate, loaded_rate = idle_done / idle_wall, done / loaded_wall
        print(f"  uploads ingested: idle {idle_rate * 60:.1f}/min ({idle_done} in {idle_wall:.1f} s, {idle_each:.1f} s "
              f"processing each), under load {loaded_rate * 60:.1f}/min ({done} in {loaded_wall:.1f} s, "
              f"{loaded_each:.1f} s each): {loaded_rate / idle_rate:.0%} of the idle speed")
    if args.api_seconds > 0:
        through_api(db, args, owner.id, group_id, question)
    if args.browser_seconds > 0:
        through_browser(db, args, owner.id, group_id, question)


def _processing_seconds(db, title_pattern: str) -> tuple[int, float, float]:
    """How many videos titled like the pattern are ready, the seconds from the first one's upload
    to the last one's end (the batch's wall time), and their mean processing seconds."""
    from sqlalchemy import text

    with db.session() as s:
        row = s.execute(text("SELECT count(*), extract(epoch FROM max(processing_finished_at) - min(uploaded_at)), "
                             "avg(extract(epoch FROM processing_finished_at - processing_started_at)) "
                             "FROM videos WHERE status = 'completed' AND title LIKE :pattern"),
                        {"pattern": title_pattern}).one()
    return row[0], float(row[1] or 0.0), float(row[2] or 0.0)


def hammer(db, ask, *, users: int, seconds: float) -> dict:
    """`users` threads calling `ask(rng)` back to back for `seconds`: latencies, errors, connections."""
    from sqlalchemy import text

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    peak = [0]

    def user(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                ask(rng)
            except Exception as error:  # every failure counts; the figure must be zero
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                continue
            with lock:
                latencies.append(time.perf_counter() - started)

    def watch_connections() -> None:
        with db.engine.connect() as conn:
            while time.monotonic() < deadline:
                count = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                                     ).scalar()
                peak[0] = max(peak[0], count)
                time.sleep(0.5)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    watcher = threading.Thread(target=watch_connections)
    started = time.monotonic()
    for thread in [watcher, *threads]:
        thread.start()
    for thread in [watcher, *threads]:
        thread.join()
    return {"latencies": latencies, "errors": errors, "elapsed": time.monotonic() - started, "connections": peak[0]}


def report(title: str, result: dict) -> None:
    latencies, elapsed, errors = result["latencies"], result["elapsed"], result["errors"]
    ms = np.array(latencies) * 1000
    print(f"{title}, {elapsed:.0f} s")
    print(f"  answers {len(latencies)} ({len(latencies) / elapsed:.1f}/s), errors {len(errors)}")
    if len(ms):
        print(f"  answer latency p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms")
    print(f"  database connections at most {result['connections']}")
    for message in sorted(set(errors))[:5]:
        print("  error:", message)


def through_api(db, args: argparse.Namespace, owner_id: int, group_id: int, question) -> None:
    """The same questions through the running web app's REST API, one token per user."""
    import httpx

    from core import access_tokens
    from core.config import PROJECT_ROOT
    from tests.web_server import free_port

    with db.session() as s:
        tokens = [access_tokens.create(s, owner_id, f"load {n}", "ask", days=7)[1] for n in range(args.users)]
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db.url, "ASKVIDEO_API_CALLS_PER_MINUTE": "100000"}
    web = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "asgi.py", "--server.port", str(port),
                            "--server.address", "127.0.0.1", "--server.headless", "true"],
                           cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    clients = [httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {t}"}) for t in tokens]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:  # up, and the embedding model loaded (the first answer loads it)
                clients[0].post("/ask", json={"question": "warm up", "group_id": group_id}).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or web.poll() is not None:
                    raise RuntimeError("the web app did not start") from None
                time.sleep(0.5)
        local = threading.local()
        pool = iter(clients)
        pool_lock = threading.Lock()

        def ask_over_http(rng: random.Random) -> None:
            if not hasattr(local, "client"):
                with pool_lock:
                    local.client = next(pool)
            answer = local.client.post("/ask", json={"question": question(rng), "group_id": group_id})
            answer.raise_for_status()

        result = hammer(db, ask_over_http, users=args.users, seconds=args.api_seconds)
    finally:
        for client in clients:
            client.close()
        web.terminate()
        web.wait(timeout=60)
    report(f"through the web app's API (POST /api/v1/ask), users {args.users}, no ingestion", result)


def through_browser(db, args: argparse.Namespace, owner_id: int, group_id: int, question) -> None:
    """People asking on the Ask page in Chromium: each page a signed-in browser of its own."""
    import asyncio

    import httpx
    from playwright.async_api import async_playwright, expect

    from core import auth, browser_cookies
    from core.config import PROJECT_ROOT
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.web_server import WebServer

    os.environ["DATABASE_URL"] = db.url
    with db.session() as s:
        tokens = [auth.start_session(s, owner_id, days=1) for _ in range(args.browser_users)]
    server = WebServer(PROJECT_ROOT / "test-artifacts" / "bench-load-browser.log")
    while not httpx.get(f"{server.url}/healthz").json().get("warmed_up"):  # as a load balancer would wait
        time.sleep(0.5)
    latencies: list[float] = []
    errors: list[str] = []

    async def person(browser, token: str, seed: int, deadline: float) -> None:
        rng = random.Random(seed)
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        await context.add_cookies([{"name": browser_cookies.SESSION, "value": token, "url": server.url}])
        page = await context.new_page()
        await page.goto(f"{server.url}/chat?group={group_id}")
        ratings = page.get_by_role("radio", name="Thumbs up")
        while time.monotonic() < deadline:
            before = await ratings.count()
            box = page.get_by_placeholder("Ask about these videos")
            started = time.perf_counter()
            try:
                await box.fill(question(rng))
                await box.press("Enter")
                await expect(ratings).to_have_count(before + 1, timeout=120_000)
                latencies.append(time.perf_counter() - started)
            except Exception as error:  # every failure counts; the figure must be zero
                errors.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
        await context.close()

    async def everyone() -> float:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            started = time.monotonic()
            deadline = started + args.browser_seconds
            await asyncio.gather(*(person(browser, t, n, deadline) for n, t in enumerate(tokens)))
            elapsed = time.monotonic() - started
            await browser.close()
            return elapsed

    try:
        elapsed = asyncio.run(everyone())
    finally:
        server.close()
    report(f"through Chromium on the Ask page, {args.browser_users} people, no ingestion",
           {"latencies": latencies, "errors": errors, "elapsed": elapsed, "connections": "not watched"})


if __name__ == "__main__":
    main()
