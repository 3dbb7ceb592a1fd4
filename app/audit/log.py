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

Every row names the acting user's roles (``roles``, comma-separated; the app may plug in its own
answer with ``set_roles_of_actor``) and an ``outcome``: ``ok``, ``denied`` (a refusal: ``denied``,
``lockout``, a refused upload or download) or ``failed`` (``login_failed``, a file missing from the
storage); ``OUTCOME_OF`` gives each event's default, a caller may say otherwise.  Files add
``upload``, ``download`` and ``file_delete`` (app/files); ``audit_purge`` is the retention command.

Nothing updates or deletes audit rows: no route, the ORM refuses it (``guard_append_only``),
and on PostgreSQL a trigger refuses it too.  The one exception is the retention command
(``flask --app app purge-audit``, app/audit/retention.py): it deletes rows older than
``AUDIT_RETENTION_DAYS`` (at least 180) in one transaction and audits itself; on PostgreSQL the
trigger lets a DELETE through only while that command's switch is on and only for rows older
than 180 days.
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
RETENTION_DAYS = 180  # the legal minimum (网络安全法 Art. 21: network logs ≥ 6 months)

EVENTS = ("create", "update", "delete", "login", "login_failed", "lockout", "logout", "denied",
          "export", "reveal", "config_sync", "transition", "deadline_extension",
          "upload", "download", "file_delete", "audit_purge", "config_apply")
OUTCOMES = ("ok", "denied", "failed")
# The outcome of an event when its caller does not say (every other event: ok).
OUTCOME_OF = {"denied": "denied", "lockout": "denied", "login_failed": "failed"}


def outcome_of(event: str) -> str:
    return OUTCOME_OF.get(event, "ok")


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
        # Added by issue #11 (nullable: the schema sync adds them to an existing table).
        "roles": Column(String(256)),  # the acting user's role names, comma-separated
        "outcome": Column(String(16), index=True),  # ok / denied / failed
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
    """The acting user, their roles and organisation, from the request (empty outside one)."""
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
        roles = (_ROLES_OF_ACTOR or _roles_of)(user)
        if roles:
            out["roles"] = roles
    return out


def _roles_of(user: Any) -> str:
    """The role names of a FAB user, sorted and comma-separated ("" when none)."""
    try:
        return ",".join(sorted(r.name for r in (getattr(user, "roles", None) or ())))[:256]
    except Exception:  # noqa: BLE001 - a detached user or a lazy load failing must not lose the row
        return ""


def _roles_of_user_id(user_id: int) -> str:
    """Roles of an account named by id (a login, before the request knows its user)."""
    try:
        user = current_app.appbuilder.sm.get_user_by_id(user_id)
    except Exception:  # noqa: BLE001
        return ""
    return _roles_of(user) if user is not None else ""


# Which roles the acting user holds: by default their FAB roles (``_roles_of``); the app may plug in
# another answer (``set_roles_of_actor``), as it does for the organisation.
_ROLES_OF_ACTOR: Optional[Callable[[Any], str]] = None


def set_roles_of_actor(source: Optional[Callable[[Any], str]]) -> None:
    global _ROLES_OF_ACTOR
    _ROLES_OF_ACTOR = source


# Who the acting user's organisation is belongs to the access rules (app/access), which themselves
# write audit rows (reveals, denials): the app plugs the answer in here (``set_org_of_actor``) so
# the audit trail never imports the access package.
_ORG_OF_ACTOR: Optional[Callable[[], Optional[int]]] = None


def set_org_of_actor(source: Optional[Callable[[], Optional[int]]]) -> None:
    global _ORG_OF_ACTOR
    _ORG_OF_ACTOR = source


def _row(event: str, entity: Optional[str], record_id: Any, changes: Optional[Mapping[str, Any]],
         detail: Optional[str], username: Optional[str], user_id: Optional[int],
         outcome: Optional[str] = None, roles: Optional[str] = None) -> dict[str, Any]:
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    outcome = outcome or outcome_of(event)
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    row = {"at": _now(), "event": event, "entity": entity,
           "record_id": None if record_id is None else str(record_id)[:64],
           "changes": json.dumps(changes, ensure_ascii=False, default=str) if changes else None,
           "detail": detail, "outcome": outcome, "roles": None}
    row.update(_who())
    if username is not None:
        row["username"] = username[:256]
    if user_id is not None and user_id != row.get("user_id"):
        row["user_id"] = user_id  # someone other than the request's user (a login): their own roles
        row["roles"] = _roles_of_user_id(user_id) or None
    if roles is not None:
        row["roles"] = roles[:256] or None
    return row


def _table() -> Any:
    return current_app.extensions["jiefen"].audit_log.__table__


def record_in(connection: Connection, event: str, *, entity: Optional[str] = None, record_id: Any = None,
              changes: Optional[Mapping[str, Any]] = None, detail: Optional[str] = None,
              username: Optional[str] = None, user_id: Optional[int] = None,
              table: Any = None, outcome: Optional[str] = None, roles: Optional[str] = None) -> None:
    """Append one row inside the caller's open transaction."""
    connection.execute(insert(table if table is not None else _table()),
                       [_row(event, entity, record_id, changes, detail, username, user_id, outcome, roles)])


def record_many_in(connection: Connection, rows: list[Mapping[str, Any]], table: Any = None) -> None:
    """Append several rows (each ``{"event": ..., "entity": ..., ...}`` as for ``record_in``) in one
    statement, inside the caller's open transaction."""
    if not rows:
        return
    keys = ("entity", "record_id", "changes", "detail", "username", "user_id", "outcome", "roles")
    connection.execute(insert(table if table is not None else _table()),
                       [_row(r["event"], *(r.get(k) for k in keys)) for r in rows])


def record(event: str, *, entity: Optional[str] = None, record_id: Any = None,
           changes: Optional[Mapping[str, Any]] = None, detail: Optional[str] = None,
           username: Optional[str] = None, user_id: Optional[int] = None,
           outcome: Optional[str] = None, roles: Optional[str] = None) -> None:
    """Append one row and commit it now, on a connection of its own."""
    engine = current_app.appbuilder.sm.session.get_bind()
    with engine.begin() as conn:
        record_in(conn, event, entity=entity, record_id=record_id, changes=changes, detail=detail,
                  username=username, user_id=user_id, outcome=outcome, roles=roles)


# ------------------------------------------------------------------ append-only on PostgreSQL

TRIGGER_FUNCTION = "jf_audit_log_append_only"
# The retention command's switch (``SET LOCAL``, so it ends with the purge's transaction).
PURGE_SETTING = "jiefen.audit_purge"
_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {TRIGGER_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('{PURGE_SETTING}', true) = 'on'
           AND OLD.at < (now() AT TIME ZONE 'UTC') - interval '{RETENTION_DAYS} days' THEN
            RETURN OLD;
        END IF;
    END IF;
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
