"""The first answer after the web app starts, with and without warming up at start.

    .venv/bin/python -m bench.first_answer [--rounds 3] [--wait 0 10]

For each round and each mode (ASKVIDEO_WARM_UP=0, then 1) it starts the real web app
(`streamlit run asgi.py`, as `make run` serves it) on one scratch database holding a group of five
20-minute talks, waits until the server answers its health check, then waits `--wait` seconds more
(0: a question the moment the server is up; 10: someone who signs in and types first; `warm`: until
/healthz says the process has warmed up, which is when a load balancer sends it visitors) and times
one question through `POST /api/v1/ask` — the chat's own answer path, offline. The next answer is
timed too, for comparison. Loopback only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from bench.database import scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wait", nargs="+", default=["0", "10", "warm"])
    args = parser.parse_args()
    with scratch_database("first") as db:
        run(db, args)


def run(db, args: argparse.Namespace) -> None:
    import httpx

    from bench.ingest import talks_in_group
    from core import access_tokens, groups
    from core.auth import sign_up
    from core.config import PROJECT_ROOT, load_settings
    from core.workspaces import personal_workspace_id
    from tests.web_server import free_port

    settings = load_settings()
    with db.session() as s:
        owner = sign_up(s, "first", "first@example.com", "first password", video_limit=100, min_password_length=8)
        workspace_id = personal_workspace_id(s, owner.id)
        group_id = groups.create_group(s, owner.id, "Talks", workspace_id=workspace_id)
        _, token = access_tokens.create(s, owner.id, "bench", "ask", days=7)
    talks_in_group(db, settings, owner.id, workspace_id, group_id)  # five 20-minute talks, ingested

    question = {"question": "What did they say about the pricing roadmap?", "group_id": group_id}
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for wait in args.wait:
            for mode in ("0", "1"):
                port = free_port()
                env = {**os.environ, "DATABASE_URL": db.url, "ASKVIDEO_WARM_UP": mode,
                       "ASKVIDEO_API_CALLS_PER_MINUTE": "1000"}
                web = subprocess.Popen(
                    [sys.executable, "-m", "streamlit", "run", "asgi.py", "--server.port", str(port),
                     "--server.address", "127.0.0.1", "--server.headless", "true"],
                    cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                url = f"http://127.0.0.1:{port}"
                try:
                    with httpx.Client(base_url=url, timeout=120,
                                      headers={"Authorization": f"Bearer {token}"}) as client:
                        deadline = time.monotonic() + 120
                        while True:
                            try:
                                if client.get("/_stcore/health").status_code == 200:
                                    break
                            except httpx.HTTPError:
                                pass
                            if time.monotonic() > deadline:
                                raise RuntimeError("the web app did not start")
                            time.sleep(0.1)
                        if wait == "warm":
                            while not client.get("/healthz").json()["warmed_up"]:
                                time.sleep(0.1)
                        else:
                            time.sleep(float(wait))
                        timings = []
                        for _ in range(2):  # the first answer, then a warm one
                            started = time.perf_counter()
                            client.post("/api/v1/ask", json=question).raise_for_status()
                            timings.append(time.perf_counter() - started)
                        results.setdefault(("on" if mode == "1" else "off", wait), []).append(tuple(timings))
                finally:
                    web.terminate()
                    web.wait(timeout=60)

    print(f"{'warm-up':8} {'asked after ready':>18} {'first answer s (median, all)':>32} {'second answer s':>16}")
    for (mode, wait), runs in results.items():
        firsts = [first for first, _ in runs]
        seconds = [second for _, second in runs]
        print(f"{mode:8} {wait + (' s' if wait != 'warm' else ''):>18} {statistics.median(firsts):>10.2f} "
              f"({', '.join(f'{f:.2f}' for f in firsts)})".ljust(70) + f"{statistics.median(seconds):.2f}")


if __name__ == "__main__":
    main()
