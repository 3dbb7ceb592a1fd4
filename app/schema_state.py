"""Skip the schema comparison when the model has not changed since the last successful sync.

Comparing 40 tables with Alembic costs about half a second at every start.  After a
successful sync we store a fingerprint of the DDL the metadata would emit for this database;
a start whose fingerprint matches skips the comparison.  Any YAML change to the model changes
the fingerprint and triggers the full sync, and ``flask setup`` always runs it in full (it also
catches hand-made changes to the database).  The table is named outside the ``jf_`` prefix so the
sync itself never considers it.
"""

from __future__ import annotations

import hashlib
from typing import Optional

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateIndex, CreateTable

_meta = MetaData()
STATE = Table("jiefen_schema_state", _meta,
              Column("id", Integer, primary_key=True),
              Column("fingerprint", String(64), nullable=False),
              Column("synced_on", DateTime, nullable=False, server_default=func.now()))


def fingerprint(metadata: MetaData, engine: Engine) -> str:
    digest = hashlib.sha256()
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        digest.update(str(CreateTable(table).compile(dialect=engine.dialect)).encode())
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            digest.update(str(CreateIndex(index).compile(dialect=engine.dialect)).encode())
    return digest.hexdigest()


def stored(engine: Engine) -> Optional[str]:
    try:
        with engine.connect() as conn:
            return conn.execute(select(STATE.c.fingerprint).where(STATE.c.id == 1)).scalar()
    except Exception:  # noqa: BLE001 - no table yet (first start): compare in full
        return None


def remember(engine: Engine, value: str) -> None:
    with engine.begin() as conn:
        STATE.create(conn, checkfirst=True)
        conn.execute(STATE.delete())
        conn.execute(STATE.insert().values(id=1, fingerprint=value))
