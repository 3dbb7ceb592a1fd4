"""Every record change of a generated model, written to ``jf_audit_log`` in the same transaction.

Two listeners on the session class behind Flask-SQLAlchemy's scoped session (installed like
app/stamps.py):

* ``before_flush`` first refuses any change to an ``AuditLog`` row (append-only, see
  ``AuditLogAppendOnly``), then snapshots the old values of every changed or deleted audited
  instance (attributes not loaded yet are loaded now, while the row still holds them);
* ``after_flush`` appends one audit row per created, updated and deleted instance through
  ``audit.record_in(session.connection(), ...)``: the row is part of the flush's transaction, so a
  change that is rolled back leaves no audit row, and a committed change always has one.

Audited: the models of ``reg.models`` (entity = the YAML entity name) and ``jf_user_org``
(entity ``user_org``); not the audit table itself, not FAB's ``ab_*`` tables.  ``changes`` is
``{field: [old, new]}`` for the fields that changed (create: every non-empty field, ``[None, new]``;
delete: every non-empty field, ``[old, None]``), keyed by YAML field name, refs as ids, dates ISO,
decimals as text, personal-data fields (``pii:``) masked with ``formatting.pii_mask`` on both sides.
System columns (id, version, created_on/by, changed_on/by) are never listed; an update that
touched only those writes no row.

ORM bulk ``update()``/``delete()`` statements against ``jf_audit_log`` are refused too
(``do_orm_execute``).  Raw SQL is stopped on PostgreSQL by the trigger (``audit.ensure_append_only``).
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Optional

from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE as _NO_VALUE

from generator import names

from app.audit import log as audit
from app.access.formatting import pii_mask

SYSTEM_COLUMNS = frozenset({"id", "version", "created_on", "created_by_id", "changed_on", "changed_by_id"})
_PENDING = "jf_audit_old"  # session.info key: {instance: {attr key: old value}} between the two events

_installed: set[int] = set()
_plans: dict[int, "_Plan"] = {}


class AuditLogAppendOnly(RuntimeError):
    """Something tried to update or delete a row of the audit trail."""


class _Plan:
    """Per registry: which mapped classes are audited, and how each attribute is reported."""

    def __init__(self, reg: Any) -> None:
        self.audit_class = reg.audit_log
        self.table = reg.audit_log.__table__
        # class -> (entity, [(attribute key, field name, pii kind)])
        self.classes: dict[type, tuple[str, list[tuple[str, str, Optional[str]]]]] = {}
        for name, cls in reg.models.items():
            ent = reg.spec.entities[name]
            attrs = [(names.column_name(f.name, f.type), f.name, f.pii) for f in ent.fields.values()]
            if "state" in cls.__table__.c:
                attrs.append(("state", "state", None))
            self.classes[cls] = (name, attrs)
        self.classes[reg.user_org] = ("user_org", [("user_id", "user", None), ("org_id", "org", None)])


def _plan() -> Optional[_Plan]:
    if not has_app_context():
        return None
    reg = current_app.extensions.get("jiefen")
    if reg is None:
        return None
    plan = _plans.get(id(reg))  # registries live for the process (registry._CACHE): ids are not reused
    if plan is None:
        plan = _plans[id(reg)] = _Plan(reg)
    return plan


def _json(value: Any) -> Any:
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _shown(value: Any, pii: Optional[str]) -> Any:
    if value is None:
        return None
    return pii_mask(pii, value) if pii else _json(value)


def _is_audit_row(plan: _Plan, obj: Any) -> bool:
    return isinstance(obj, plan.audit_class)


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    session.info.pop(_PENDING, None)
    plan = _plan()
    if plan is None:
        return
    for obj in session.deleted:
        if _is_audit_row(plan, obj):
            raise AuditLogAppendOnly("审计日志只能追加，不能删除 / the audit log is append-only: delete refused")
    for obj in session.dirty:
        if _is_audit_row(plan, obj) and session.is_modified(obj, include_collections=False):
            raise AuditLogAppendOnly("审计日志只能追加，不能修改 / the audit log is append-only: update refused")
    old: dict[Any, dict[str, Any]] = {}
    for obj in list(session.dirty) + list(session.deleted):
        spec = plan.classes.get(type(obj))
        if spec is None:
            continue
        state = inspect(obj)
        if state.transient or state.pending:
            continue
        snap: dict[str, Any] = {}
        for key, _field, _pii in spec[1]:
            if key in state.committed_state:
                value = state.committed_state[key]
                snap[key] = None if value is _NO_VALUE else value
            elif key in state.dict:
                snap[key] = state.dict[key]
            else:  # not loaded: the row still holds the old value, read it now
                snap[key] = getattr(obj, key)
        old[obj] = snap
    session.info[_PENDING] = old


def _after_flush(session: Session, flush_context: Any) -> None:
    old = session.info.pop(_PENDING, {})
    plan = _plan()
    if plan is None:
        return
    rows: list[tuple[str, str, Any, dict[str, list[Any]]]] = []
    for obj in session.new:
        spec = plan.classes.get(type(obj))
        if spec is None:
            continue
        entity, attrs = spec
        changes = {fname: [None, _shown(getattr(obj, key), pii)] for key, fname, pii in attrs
                   if getattr(obj, key) is not None}
        rows.append(("create", entity, _pk(obj), changes))
    deleted = set(map(id, session.deleted))
    for obj, snap in old.items():
        entity, attrs = plan.classes[type(obj)]
        if id(obj) in deleted:
            changes = {fname: [_shown(snap[key], pii), None] for key, fname, pii in attrs
                       if snap.get(key) is not None}
            rows.append(("delete", entity, _pk(obj), changes))
            continue
        changes = {}
        for key, fname, pii in attrs:
            before, after = snap.get(key), getattr(obj, key)
            if before != after:
                changes[fname] = [_shown(before, pii), _shown(after, pii)]
        if changes:
            rows.append(("update", entity, _pk(obj), changes))
    if not rows:
        return
    # One executemany per flush (loading demo data flushes hundreds of rows at once).
    audit.record_many_in(session.connection(), [
        {"event": event_name, "entity": entity, "record_id": record_id, "changes": changes or None}
        for event_name, entity, record_id, changes in rows], table=plan.table)


def _pk(obj: Any) -> Any:
    # Not ``state.identity``: a row inserted by this flush gets its identity key only after after_flush.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return key[0] if len(key) == 1 else "/".join(map(str, key))


def _refuse_bulk(orm_execute_state: Any) -> None:
    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    table = getattr(orm_execute_state.statement, "table", None)
    if getattr(table, "name", None) == audit.TABLE:
        raise AuditLogAppendOnly("审计日志只能追加 / the audit log is append-only: bulk update/delete refused")


def session_class(session_factory: Any) -> Any:
    """The session class behind Flask-SQLAlchemy's scoped session (or the factory itself)."""
    return session_factory.session_factory.class_ if hasattr(session_factory, "session_factory") \
        else session_factory


def install(session_factory: Any) -> None:
    """Listen on the session class behind Flask-SQLAlchemy's scoped session (once per class)."""
    target = session_class(session_factory)
    if id(target) not in _installed:
        event.listen(target, "before_flush", _before_flush)
        event.listen(target, "after_flush", _after_flush)
        event.listen(target, "do_orm_execute", _refuse_bulk)
        _installed.add(id(target))

