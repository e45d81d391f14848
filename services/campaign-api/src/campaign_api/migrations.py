"""The schema's SQL migrations (shipped in this package's migrations/ folder), applied with yoyo-migrations."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Final

from pydantic import PostgresDsn
from service_kit.settings import DatabaseUrl
from yoyo import get_backend, read_migrations

PACKAGED: Final = Path(str(files("campaign_api") / "migrations"))


def yoyo_url(database_url: DatabaseUrl) -> str:
    """The same database as yoyo names it: its psycopg 3 driver in the scheme."""
    host = database_url.hosts()[0]
    return str(
        PostgresDsn.build(
            scheme="postgresql+psycopg",
            username=host["username"],
            password=host["password"],
            host=host["host"] or "localhost",
            port=host["port"],
            path=(database_url.path or "/").lstrip("/"),
            query=database_url.query,
        )
    )


def apply_migrations(database_url: DatabaseUrl, migrations_dir: Path = PACKAGED) -> int:
    """Apply every migration not yet applied, under yoyo's lock; return how many ran (0 on a second call)."""
    if not migrations_dir.is_dir():
        raise FileNotFoundError(f"migrations directory {migrations_dir} does not exist")
    backend = get_backend(yoyo_url(database_url))
    migrations = read_migrations(str(migrations_dir))
    try:
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()
    return len(pending)
