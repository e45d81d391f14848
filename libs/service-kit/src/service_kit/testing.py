"""pytest fixtures every service's tests share: a throwaway migrated database and a broker check.

Use from a service's conftest.py: ``pytest_plugins = ["service_kit.testing"]``.
Nothing here skips: a missing server fails the run with the command that starts it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from service_kit.migrations import apply_migrations

ADMIN_URL = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@localhost:5432/postgres")
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@localhost:5672/")
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_RABBITMQ = "rabbitmq-server -detached"


def find_repo_root(start: Path | None = None) -> Path:
    """Walk up to the workspace root: the folder holding migrations/ and the root pyproject.toml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "migrations").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    raise RuntimeError(f"no workspace root (migrations/ + pyproject.toml) above {here}")


def as_url(conninfo: str) -> str:
    """Turn a key=value conninfo into a postgresql:// URL (the form every service reads)."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    user = params.get("user", "postgres")
    host = params.get("host", "localhost")
    port = params.get("port", 5432)
    return f"postgresql://{user}@{host}:{port}/{params['dbname']}"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The workspace root, wherever pytest was started from."""
    return find_repo_root(Path(__file__).parent) if not (Path.cwd() / "migrations").is_dir() else Path.cwd()


@pytest.fixture(scope="session")
def database_url(repo_root: Path) -> Iterator[str]:
    """Create a database for this run, migrate it with the production migrations, drop it at the end."""
    dbname = f"dispatch_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not answering at {ADMIN_URL}: start it ({START_POSTGRES}), then rerun ({exc})")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        try:
            url = as_url(make_conninfo(ADMIN_URL, dbname=dbname))
            apply_migrations(url, repo_root / "migrations")
            yield url
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """The broker's URL, after checking something listens there."""
    parts = urlsplit(AMQP_URL)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or 5672), timeout=5):
            pass
    except OSError as exc:
        pytest.fail(f"RabbitMQ is not answering at {AMQP_URL}: start it ({START_RABBITMQ}), then rerun ({exc})")
    return AMQP_URL


@pytest.fixture
def run_id() -> str:
    """A short unique token for names a test creates on shared servers (queues, exchanges)."""
    return uuid.uuid4().hex[:10]
