"""A private database for a test app: a SQLite file, or a throwaway PostgreSQL schema.

When ``DATABASE_URL`` names PostgreSQL, each app gets its own schema (``search_path`` set
through the connection options) that is dropped afterwards, so runs never see each other's
tables and the shared ``test`` database stays clean.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, text


def normalise(url: str) -> str:
    """``postgres://`` and ``postgresql://`` → the psycopg 3 driver URL."""
    for old in ("postgres://", "postgresql://"):
        if url.startswith(old):
            return "postgresql+psycopg://" + url[len(old):]
    return url


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return normalise(url) if url.startswith("postgres") else None


@contextmanager
def throwaway_schema(base: str, prefix: str = "jf_test") -> Iterator[str]:
    """A PostgreSQL URL whose connections live in a fresh schema, dropped afterwards."""
    base = normalise(base)
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def private_database(tmp_dir: Path) -> Iterator[str]:
    base = postgres_url()
    if base is None:
        yield f"sqlite:///{tmp_dir / 'app.db'}"
        return
    with throwaway_schema(base) as url:
        yield url
