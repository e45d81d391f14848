"""CSV import at scale: a generated file of BENCH_IMPORT_ROWS rows (1,000,000 by default) through the real API.

Own database, removed at the end. campaign-api runs as its own process (relay off); the file is uploaded to
`POST /customers/imports` as multipart, the job polled until done, and the rows per second from upload to done
and the peak resident set size (VmHWM) of the API process and of its row-checking worker processes are printed,
with the CPU seconds each of them and the database's backends spent (read from /proc: PostgreSQL must run on this
machine for its share) and the load average around the run: on a shared machine the wall time says more about the
neighbours than about the import, the CPU seconds do not. Target: 1,000,000 rows in at most 60 s.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from campaign_api.accounts import ACCOUNT_SCOPES
from campaign_api.main import create_account, create_key
from campaign_api.migrations import apply_migrations
from campaign_api.settings import Settings
from psycopg import sql
from pydantic import PostgresDsn
from test_kit.pytest_plugin import ADMIN_URL

from bench.bench_dispatch import end, free_port, peak_rss_mb, spawn

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "1000000"))
TARGET_S = 60.0
CITIES = ("Nairobi", "Mombasa", "Kisumu", "Nakuru", "Eldoret")
NAMES = ("Wanjirũ", "Amina", "Baraka", "Zoë", "Otieno", "Njeri")


def write_csv(path: Path, rows: int) -> None:
    """A file of the seeded shape: local Kenyan mobiles, names (some non-ASCII), a location and a product."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("phone,first_name,last_name,location,preferred_product\n")
        for i in range(rows):
            out.write(f"07{10_000_000 + i:08d},{NAMES[i % 6]},Kamau,{CITIES[i % 5]},Product {i % 7}\n")


def wait_healthy(port: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"campaign-api not healthy on port {port}")


def children(pid: int) -> list[int]:
    """The process's child processes (the import's worker processes)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(child) for child in (task / "children").read_text().split())
    return found


def cpu_s(pid: int) -> float:
    """User and system CPU seconds the process has spent."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backends(admin: psycopg.Connection[Any], database: str) -> list[int]:
    """The PostgreSQL backends connected to the database."""
    rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)).fetchall()
    return [int(row[0]) for row in rows]


def track(spent: dict[int, float], pids: list[int]) -> None:
    """Remember each process's CPU seconds so far (the last reading stands once it has gone)."""
    for pid in pids:
        try:
            spent[pid] = cpu_s(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue


def main() -> None:
    """Import the generated file once and print rows/s and peak RSS."""
    name = f"dispatch_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    process = None
    with tempfile.TemporaryDirectory() as folder:
        try:
            apply_migrations(PostgresDsn(url))
            settings = Settings(database_url=url)
            account = asyncio.run(create_account(settings, "bench-import"))
            key = asyncio.run(create_key(settings, str(account), ACCOUNT_SCOPES, "bench"))
            path = Path(folder) / "customers.csv"
            write_csv(path, ROWS)
            size_mb = path.stat().st_size / 1024 / 1024
            port = free_port()
            env = {**os.environ, "DATABASE_URL": url, "HTTP_PORT": str(port), "RELAY_ENABLED": "false"}
            process = spawn("campaign_api.main", env | {"LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING")})
            wait_healthy(port)
            headers = {"Authorization": f"Bearer {key}"}
            admin = psycopg.connect(ADMIN_URL, autocommit=True)
            load_before = os.getloadavg()[0]
            before: dict[int, float] = {}
            track(before, [process.pid, *backends(admin, name)])
            worker_cpu: dict[int, float] = {}
            database_cpu: dict[int, float] = {}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120) as api:
                started = time.perf_counter()
                with path.open("rb") as upload:
                    answer = api.post("/customers/imports", files={"file": ("customers.csv", upload, "text/csv")})
                answer.raise_for_status()
                accepted = time.perf_counter() - started
                job: dict[str, Any] = answer.json()
                workers: set[int] = set()
                while job["status"] not in ("done", "failed"):
                    time.sleep(1.0)  # as a progress bar would poll; each poll costs the API CPU too
                    workers.update(children(process.pid))
                    track(worker_cpu, sorted(workers))
                    track(database_cpu, backends(admin, name))
                    job = api.get(f"/customers/imports/{job['id']}").json()
                elapsed = time.perf_counter() - started
            track(worker_cpu, sorted(workers))
            track(database_cpu, backends(admin, name))
            admin.close()
            api_cpu = cpu_s(process.pid) - before.get(process.pid, 0.0)
            db_cpu = sum(spent - before.get(pid, 0.0) for pid, spent in database_cpu.items())
            checks_cpu = sum(worker_cpu.values())
            if job["status"] != "done":
                raise RuntimeError(f"the import failed: {job['error']}")
            print(f"{ROWS:,} rows ({size_mb:.0f} MB) uploaded and answered 202 in {accepted:.1f} s")
            verdict = "OK" if elapsed <= TARGET_S * ROWS / 1_000_000 else "MISSED"
            print(
                f"imported {job['rows_imported']:,} (rejected {job['rows_rejected']}) in {elapsed:.1f} s:"
                f" {ROWS / elapsed:,.0f} rows/s  [{verdict}: target 1,000,000 in <= {TARGET_S:.0f} s]"
            )
            total_cpu = api_cpu + checks_cpu + db_cpu
            print(
                f"CPU seconds: campaign-api {api_cpu:.1f}, row-check workers {checks_cpu:.1f}, PostgreSQL {db_cpu:.1f};"
                f" {total_cpu:.1f} in all ({total_cpu / ROWS * 1e6:.1f} µs a row)"
            )
            print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores)")
            print(f"peak RSS campaign-api      {peak_rss_mb(process.pid):6.1f} MB")
            for pid in sorted(workers):
                try:
                    print(f"peak RSS import worker {pid} {peak_rss_mb(pid):6.1f} MB")
                except FileNotFoundError:
                    continue
        finally:
            if process is not None:
                end(process)
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
