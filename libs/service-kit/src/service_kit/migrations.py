"""Apply the SQL migrations in migrations/ with yoyo-migrations."""

from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations


def yoyo_url(database_url: str) -> str:
    """Point yoyo at psycopg 3, whatever scheme the libpq-style URL was written with."""
    scheme, sep, rest = database_url.partition("://")
    if not sep or scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got scheme {scheme!r}")
    return f"postgresql+psycopg://{rest}"


def apply_migrations(database_url: str, migrations_dir: Path) -> int:
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
