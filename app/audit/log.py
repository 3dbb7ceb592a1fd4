"""The audit trail: one append-only table, ``jf_audit_log``, one row per event.

Events (``EVENTS``): record ``create`` / ``update`` / ``delete`` (with old → new per field,
personal data masked), ``login`` / ``login_failed`` / ``lockout`` / ``logout``, ``denied``
(a permission or scope refusal), ``export``, ``reveal`` (personal data shown in clear) and
``config_sync`` (roles and permissions made equal to roles.yaml), ``transition`` (a workflow
step, app/workflow/engine.py) and ``deadline_extension`` (an approved deadline extension).

Two ways in:

* ``record(event, ...)`` writes and commits at once on its own connection, outside the
  request's transaction: a denial or a failed login is logged even when the request's own
  work is rolled back.
* ``record_in(connection, event, ...)`` writes inside a transaction that is already open
  (the ORM flush listener uses it, so a record change and its audit row commit together or
  not at all).

Nothing updates or deletes audit rows: no route, the ORM refuses it (``guard_append_only``),
and on PostgreSQL a trigger refuses it too.  Rows are kept at least ``AUDIT_RETENTION_DAYS``
(180); nothing in the app purges them.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any, Callable, Mapping, Optional

from flask import current_app, g, has_request_context, request
from sqlalchemy import Column, DateTime, Index, Integer, String, Text, insert
from sqlalchemy.engine import Connection

TABLE = "jf_audit_log"
CLASS_NAME = "AuditLog"
RETENTION_DAYS = 180

EVENTS = ("create", "update", "delete", "login", "login_failed", "lockout", "logout", "denied",
          "export", "reveal", "config_sync", "transition", "deadline_extension")


def build_audit_log(base: type) -> type:
    """The ``AuditLog`` mapped class on ``base`` (once per declarative base)."""
    from generator import names

    attrs: dict[str, Any] = {
        "__tablename__": TABLE,
        "__module__": names.MODELS_MODULE,
        "__qualname__": CLASS_NAME,
        "__doc__": "Append-only audit trail (app/audit/log.py); never updated or deleted.",
        "id": Column(Integer, primary_key=True),
        "at": Column(DateTime, nullable=False, index=True),
        "event": Column(String(32), nullable=False, index=True),
        # No FK to ab_user: deleting an account must not delete or rewrite its history.
        "user_id": Column(Integer, index=True),
        "username": Column(String(256)),
        "org_id": Column(Integer),
        "entity": Column(String(64), index=True),
        "record_id": Column(String(64)),
        "changes": Column(Text),  # JSON {field: [old, new]}; personal data masked
        "detail": Column(Text),
        "ip": Column(String(64)),
    }
    cls = type(CLASS_NAME, (base,), attrs)
    Index(names.index_name(TABLE, "entity", "record_id"), cls.__table__.c.entity, cls.__table__.c.record_id)
    for idx in cls.__table__.indexes:  # type: ignore[attr-defined]
        if len(idx.columns) == 1:
            idx.name = names.index_name(TABLE, *idx.columns.keys(), unique=bool(idx.unique))
    return cls


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def _who() -> dict[str, Any]:
    """The acting user and their organisation, from the request (empty outside one)."""
    if not has_request_context():
        return {}
    user = getattr(g, "user", None)
    out: dict[str, Any] = {"ip": (request.remote_addr or "")[:64]}
    if user is not None and getattr(user, "is_authenticated", False):
        out["user_id"] = user.id
        out["username"] = user.username
        org_id = _ORG_OF_ACTOR() if _ORG_OF_ACTOR is not None else None
        if org_id is not None:
            out["org_id"] = org_id
    return out


# Who the acting user's organisation is belongs to the access rules (app/access), which themselves
# write audit rows (reveals, denials): the app plugs the answer in here (``set_org_of_actor``) so
# the audit trail never imports the access package.
_ORG_OF_ACTOR: Optional[Callable[[], Optional[int]]] = None


def set_org_of_actor(source: Optional[Callable[[], Optional[int]]]) -> None:
    global _ORG_OF_ACTOR
    _ORG_OF_ACTOR = source


def _row(event: str, entity: Optional[str], record_id: Any, changes: Optional[Mapping[str, Any]],
         detail: Optional[str], username: Optional[str], user_id: Optional[int]) -> dict[str, Any]:
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    row = {"at": _now(), "event": event, "entity": entity,
           "record_id": None if record_id is None else str(record_id)[:64],
           "changes": json.dumps(changes, ensure_ascii=False, default=str) if changes else None,
           "detail": detail}
    row.update(_who())
    if username is not None:
        row["username"] = username[:256]
    if user_id is not None:
        row["user_id"] = user_id
    return row


def _table() -> Any:
    return current_app.extensions["jiefen"].audit_log.__table__


def record_in(connection: Connection, event: str, *, entity: Optional[str] = None, record_id: Any = None,
              changes: Optional[Mapping[str, Any]] = None, detail: Optional[str] = None,
              username: Optional[str] = None, user_id: Optional[int] = None,
              table: Any = None) -> None:
    """Append one row inside the caller's open transaction."""
    connection.execute(insert(table if table is not None else _table()),
                       [_row(event, entity, record_id, changes, detail, username, user_id)])


def record_many_in(connection: Connection, rows: list[Mapping[str, Any]], table: Any = None) -> None:
    """Append several rows (each ``{"event": ..., "entity": ..., ...}`` as for ``record_in``) in one
    statement, inside the caller's open transaction."""
    if not rows:
        return
    keys = ("entity", "record_id", "changes", "detail", "username", "user_id")
    connection.execute(insert(table if table is not None else _table()),
                       [_row(r["event"], *(r.get(k) for k in keys)) for r in rows])


def record(event: str, *, entity: Optional[str] = None, record_id: Any = None,
           changes: Optional[Mapping[str, Any]] = None, detail: Optional[str] = None,
           username: Optional[str] = None, user_id: Optional[int] = None) -> None:
    """Append one row and commit it now, on a connection of its own."""
    engine = current_app.appbuilder.sm.session.get_bind()
    with engine.begin() as conn:
        record_in(conn, event, entity=entity, record_id=record_id, changes=changes, detail=detail,
                  username=username, user_id=user_id)


# ------------------------------------------------------------------ append-only on PostgreSQL

TRIGGER_FUNCTION = "jf_audit_log_append_only"
_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {TRIGGER_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{TABLE} is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$"""
_PG_TRIGGERS = {
    # row-level UPDATE/DELETE, statement-level TRUNCATE (which skips row triggers)
    f"{TABLE}_no_change": f"BEFORE UPDATE OR DELETE ON {TABLE} FOR EACH ROW",
    f"{TABLE}_no_truncate": f"BEFORE TRUNCATE ON {TABLE} FOR EACH STATEMENT",
}


def ensure_append_only(bind: Any) -> bool:
    """On PostgreSQL, make sure triggers refuse UPDATE, DELETE and TRUNCATE of ``jf_audit_log``.

    Idempotent (the function is replaced, each trigger created only when missing); ``bind`` is an
    engine or a connection (its transaction is used).  Returns False on other databases, where the
    ORM guard in app/audit/listener.py is the only barrier.
    """
    from sqlalchemy import text

    if bind.dialect.name != "postgresql":
        return False

    def run(conn: Connection) -> None:
        conn.execute(text(_PG_FUNCTION))
        for name, when in _PG_TRIGGERS.items():
            exists = conn.execute(text(
                "SELECT 1 FROM pg_trigger WHERE tgname = :n AND tgrelid = to_regclass(:t)"),
                {"n": name, "t": TABLE}).first()
            if exists is None:
                conn.execute(text(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {TRIGGER_FUNCTION}()"))

    if isinstance(bind, Connection):
        run(bind)
    else:
        with bind.begin() as conn:
            run(conn)
    return True
