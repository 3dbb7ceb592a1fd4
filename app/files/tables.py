"""``jf_file``: one row per stored file — who uploaded what, for which record and field.

The record's own ``file`` column keeps an opaque storage key (a string, as before); this table says
what that key is: its display name, size, SHA-256, content type, uploader and time, and the record
(``entity``, ``record_id``, ``field``) it belongs to, so downloads can be scoped by the record and
quotas counted per record.  A row with no ``record_id`` is a staged upload (the REST API's
``POST /api/v1/<entity>/files/<field>``) waiting for the record that names it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, Index, Integer, String

TABLE = "jf_file"
CLASS_NAME = "StoredFile"


def build_file_table(base: type) -> type:
    from generator import names

    attrs: dict[str, Any] = {
        "__tablename__": TABLE,
        "__module__": names.MODELS_MODULE,
        "__qualname__": CLASS_NAME,
        "__doc__": "Stored files: metadata of every upload (app/files).",
        # Ids are in download URLs: SQLite must never give a removed file's id to a new one.
        "__table_args__": {"sqlite_autoincrement": True},
        "id": Column(Integer, primary_key=True),
        "key": Column(String(512), nullable=False, unique=True, index=True),
        "entity": Column(String(64), nullable=False),
        "record_id": Column(Integer),
        "field": Column(String(64), nullable=False),
        "name": Column(String(255), nullable=False),
        "size": Column(Integer, nullable=False),
        "sha256": Column(String(64), nullable=False),
        "content_type": Column(String(100), nullable=False),
        # No FK to ab_user, as in the audit log: removing an account keeps who uploaded what.
        "uploaded_by_id": Column(Integer),
        "uploaded_at": Column(DateTime, nullable=False),
    }
    cls = type(CLASS_NAME, (base,), attrs)
    t = cls.__table__  # type: ignore[attr-defined]
    Index(names.index_name(TABLE, "entity", "record_id", "field"), t.c.entity, t.c.record_id, t.c.field)
    for idx in t.indexes:
        if len(idx.columns) == 1:
            idx.name = names.index_name(TABLE, *idx.columns.keys(), unique=bool(idx.unique))
    return cls
