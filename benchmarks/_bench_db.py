"""A fresh, throw-away database for one benchmark run (PostgreSQL when a URL is given, else a
SQLite file in a temporary folder): its URL and the function that removes it again."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path


def fresh_database(database_url: str | None, *, prefix: str) -> tuple[str, Callable[[], None]]:
    if not database_url:
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def cleanup() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return database_url.rsplit("/", 1)[0] + f"/{name}", cleanup
