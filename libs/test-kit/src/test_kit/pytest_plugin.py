"""pytest fixtures every suite shares: a throwaway migrated database, a broker check, unique names.

The repository's root conftest.py loads this plugin and provides `apply_schema` (the schema owner's migration
function), so this library knows no service. Nothing here skips: a missing server fails the run with the command
that starts it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ADMIN_URL = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@localhost:5432/postgres")
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@localhost:5672/")
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_RABBITMQ = "rabbitmq-server -detached"

ApplySchema = Callable[[str], object]  # migrates the database at a postgresql:// URL


def find_repo_root(start: Path | None = None) -> Path:
    """Walk up to the workspace root: the folder holding uv.lock and the root pyproject.toml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "uv.lock").is_file() and (folder / "pyproject.toml").is_file():
            return folder
    raise RuntimeError(f"no workspace root (uv.lock + pyproject.toml) above {here}")


def as_url(conninfo: str) -> str:
    """Turn a key=value conninfo into a postgresql:// URL (the form every service reads)."""
    params = conninfo_to_dict(conninfo)
    user = params.get("user", "postgres")
    host = params.get("host", "localhost")
    port = params.get("port", 5432)
    return f"postgresql://{user}@{host}:{port}/{params['dbname']}"


def connect_admin() -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to the server's admin database, or a failed test naming how to start it."""
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not answering at {ADMIN_URL}: start it ({START_POSTGRES}), then rerun ({exc})")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The workspace root, wherever pytest was started from."""
    return find_repo_root(Path(__file__).parent)


@contextlib.contextmanager
def throwaway_database(apply_schema: ApplySchema) -> Iterator[str]:
    """Create a database, migrate it with the production migrations, drop it when the block ends."""
    dbname = f"dispatch_test_{uuid.uuid4().hex[:12]}"
    with connect_admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        try:
            url = as_url(make_conninfo(ADMIN_URL, dbname=dbname))
            apply_schema(url)
            yield url
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


@pytest.fixture(scope="session")
def database_url(apply_schema: ApplySchema) -> Iterator[str]:
    """A migrated database for this run. A suite whose tests see every row (the scheduler's due list, counts)
    overrides this fixture in its conftest.py with a `throwaway_database` of its own."""
    with throwaway_database(apply_schema) as url:
        yield url


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
