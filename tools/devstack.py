"""`make up`: the whole platform on one machine.

With a Docker engine answering, this is `docker compose up --build`. Without one, it runs the four services as
local processes against the PostgreSQL and RabbitMQ at DATABASE_URL / AMQP_URL (localhost by default), after creating
the database if needed, applying the migrations and loading the seed data into the account "demo". It prints an API
key of that account (DEV_API_KEY, when set, is that key: local development only), gives the scheduler a system key
of its own, stays in the foreground, prints where each service listens, and stops everything it started on Ctrl-C
or SIGTERM.

    python tools/devstack.py            # run the platform (SENDER=kannel: through a real Kannel, see devstack_kannel)
    python tools/devstack.py prepare    # only create the database if it is missing (used by make migrate/seed)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import devstack_kannel  # tools/, beside this script
import psycopg
from psycopg import sql

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@localhost:5432/campaign_dispatch")
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672/")
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_RABBITMQ = "rabbitmq-server -detached"
WEB_DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
# the account `make up` seeds and prints a key for
DEMO_ACCOUNT = "demo"


@dataclass(frozen=True)
class Process:
    name: str
    argv: tuple[str, ...]
    env: dict[str, str]
    listens: str


PROCESSES = (
    Process(
        "template-svc",
        ("template-svc",),
        {"GRPC_PORT": "50051", "PROBE_PORT": "8081"},
        "gRPC localhost:50051 (reflection on), probes http://localhost:8081/health",
    ),
    Process(
        "campaign-api",
        ("campaign-api", "serve"),
        {"HTTP_PORT": "8080"},
        "http://localhost:8080 (docs at /docs, metrics at /metrics)",
    ),
    Process("dispatch-worker", ("dispatch-worker",), {"PROBE_PORT": "8082"}, "probes http://localhost:8082/health"),
    Process("scheduler", ("scheduler",), {"PROBE_PORT": "8083"}, "probes http://localhost:8083/health"),
)


def web_app_line() -> str:
    """Where the dashboard is (campaign-api serves web/dist under /app/)."""
    if not (WEB_DIST / "index.html").is_file():
        return f"  {'web app':16} not built: run `make web-build`, then restart"
    return f"  {'web app':16} http://localhost:8080/app/ (sign in with the demo account's key below)"


def docker_engine_answers() -> bool:
    """True when a Docker engine (not only the client) answers `docker info`."""
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=15)  # noqa: S607
    return result.returncode == 0


def require_listening(url: str, what: str, start: str) -> None:
    """Exit with the command that starts a dependency when nothing listens at its URL."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or 0), timeout=3):
            return
    except OSError as exc:
        sys.exit(f"{what} is not answering at {parts.hostname}:{parts.port} ({exc}). Start it with: {start}")


def prepare_database(url: str) -> None:
    """Create the database named in DATABASE_URL when the server does not have it yet."""
    require_listening(url, "PostgreSQL", START_POSTGRES)
    dbname = urlsplit(url).path.lstrip("/")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            print(f"created database {dbname}", flush=True)


def issue_key(env: dict[str, str], *args: str) -> str:
    """`campaign-api keys create ...`: the key it prints on stdout."""
    argv = ("campaign-api", "keys", "create", *args)
    done = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)  # noqa: S603 - fixed argv
    return done.stdout.strip().splitlines()[-1]  # the key is the last line (log lines share stdout)


async def run_local(demo_key: str, scheduler_key: str, worker_env: dict[str, str] | None = None) -> int:
    """Start every service as a child process; stop them all when one exits or on a signal."""
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "AMQP_URL": AMQP_URL}
    children: dict[str, asyncio.subprocess.Process] = {}
    for proc in PROCESSES:
        extra = {"SCHEDULER_API_KEY": scheduler_key} if proc.name == "scheduler" else {}
        if proc.name == "dispatch-worker" and worker_env:
            extra = worker_env
        children[proc.name] = await asyncio.create_subprocess_exec(*proc.argv, env={**env, **proc.env, **extra})
    print("\nCampaign Dispatch is up:", flush=True)
    for proc in PROCESSES:
        print(f"  {proc.name:16} {proc.listens}", flush=True)
    print(web_app_line(), flush=True)
    if worker_env:
        print(f"  {'kannel':16} sendsms {worker_env['KANNEL_URL']}, the SMSC simulator takes every message", flush=True)
        print(f'  {"":16} receipts reach campaign-api at the demo account\'s sender "{devstack_kannel.SENDER_NAME}"')
    print(f"\nAPI key of the demo account (every scope): {demo_key}", flush=True)
    print(f"  export API_KEY={demo_key}", flush=True)
    print('  curl -H "Authorization: Bearer $API_KEY" http://localhost:8080/campaigns', flush=True)
    print("Ctrl-C stops everything.\n", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waits = {asyncio.create_task(child.wait()): name for name, child in children.items()}
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({stopper, *waits}, return_when=asyncio.FIRST_COMPLETED)
    status = 0
    for task in done:
        if task in waits:
            print(f"{waits[task]} exited with {task.result()}; stopping the rest", flush=True)
            status = 1
    for child in children.values():
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.gather(*(c.wait() for c in children.values())), timeout=20)
    except TimeoutError:
        for child in children.values():
            if child.returncode is None:
                child.kill()
    stopper.cancel()
    return status


def main(argv: list[str]) -> int:
    """Entry point: `prepare`, or run the platform."""
    if argv[:1] == ["prepare"]:
        prepare_database(DATABASE_URL)
        return 0
    if docker_engine_answers():
        os.execvp("docker", ["docker", "compose", "up", "--build"])  # noqa: S606, S607
    require_listening(AMQP_URL, "RabbitMQ", START_RABBITMQ)
    prepare_database(DATABASE_URL)
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "AMQP_URL": AMQP_URL}
    for step in (("campaign-api", "migrate"), ("campaign-api", "seed", "--account", DEMO_ACCOUNT)):
        subprocess.run(step, env=env, check=True)  # noqa: S603 - fixed argv, no shell
    # DEV_API_KEY, when set, is the demo key (stored once, the same on every start); otherwise a new one is made
    demo_key = issue_key(env, DEMO_ACCOUNT, "--scopes", "all", "--name", "make up", "--from-env", "DEV_API_KEY")
    scheduler_key = issue_key(env, "--system", "--name", "make up scheduler")
    # SENDER=kannel (`make up SENDER=kannel`): a real Kannel and its SMSC simulator, and the demo account's sender
    if os.environ.get("SENDER", "mock") != "kannel":
        return asyncio.run(run_local(demo_key, scheduler_key))
    kannel = devstack_kannel.start(env, DEMO_ACCOUNT)
    try:
        return asyncio.run(run_local(demo_key, scheduler_key, kannel.worker_env))
    finally:
        kannel.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
