"""SQLAlchemy classes from the entities of an ``AppSpec``.

    entities:
      dispute_case:
        display: registry_no
        fields:
          registry_no: {type: string, required: true, unique: true}
          current_org: {type: ref, ref: org, required: true}      # -> current_org_id + .current_org
        list: [registry_no, current_org]                             # -> indexed

Every class also gets ``id``, the optimistic-locking ``version`` column,
``created_on``/``changed_on`` and ``created_by_id``/``changed_by_id`` (FKs to FAB's
``ab_user``, shown through the read-only ``created_by``/``changed_by`` lookups), and,
when it is the entity of a workflow, a checked ``state`` column.  Enums are
VARCHAR(64), not DB enums: PostgreSQL's native enums cannot be changed inside the
start-up schema sync (schema-sync-notes §4).  Enum/state membership is enforced

* for every database by the ORM: ``before_insert``/``before_update`` listeners on
  each class raise ``EnumValueError`` for a value outside the enum (checked: the
  values being written, so a flush through the app never stores a bad value;
  raw SQL and ``session.execute(insert(...))`` bypass it);
* on PostgreSQL also by a named CHECK (``ddl_if(dialect="postgresql")``), which
  the schema sync replaces in place when the enum changes.  SQLite gets no CHECK:
  changing one there needs a table rebuild, and adding an enum value is the most
  common edit, which must not block start-up.

Unique fields become unique *indexes* (``CREATE UNIQUE INDEX`` works on an
existing SQLite table, ``ADD CONSTRAINT UNIQUE`` does not).  A required field with
a YAML ``default:`` also gets that value as a ``server_default`` (a SQL literal
rendered by SQLAlchemy), so the schema sync can add it to a table that has rows.

Pure and deterministic: declared order, no I/O, no Flask app.  Build once per
declarative base; FAB's ``Model`` would otherwise silently extend the old tables.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable, Optional

# Registers ab_user in FAB's metadata, so FKs to it resolve (fab5-notes gotcha 3).
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer,
                        Numeric, String, Table, Text, event, inspect, literal, text)
from sqlalchemy.orm import object_session, relationship

from .. import names
from ..spec import AppSpec, Entity, Field, Workflow

ON_DELETE = {"restrict": "RESTRICT", "cascade": "CASCADE", "set_null": "SET NULL"}
SIMPLE_TYPES: dict[str, Callable[[Field], Any]] = {
    "string": lambda f: String(f.max_length or 255),
    "text": lambda f: Text(),
    "integer": lambda f: Integer(),
    "decimal": lambda f: Numeric(14, 2),
    "boolean": lambda f: Boolean(),
    "date": lambda f: Date(),
    "datetime": lambda f: DateTime(),
    "enum": lambda f: String(64),
    "file": lambda f: String(512),  # a storage key, never the bytes
}
DEFAULT_CASTS: dict[str, Callable[[Any], Any]] = {
    "integer": int, "decimal": lambda v: Decimal(str(v)),
    # YAML may give "false" as a string; bool("false") would be True.
    "boolean": lambda v: v if isinstance(v, bool) else str(v).strip().lower() in ("true", "1", "yes"),
    "date": lambda v: dt.date.fromisoformat(str(v)), "datetime": lambda v: dt.datetime.fromisoformat(str(v)),
}


class EnumValueError(ValueError):
    """A flush tried to write a value that is not in the field's enum (or not a state of the workflow)."""

    def __init__(self, entity: str, field: str, value: Any, allowed: tuple[str, ...]) -> None:
        self.entity, self.field, self.value, self.allowed = entity, field, value, allowed
        keys = ", ".join(allowed)
        super().__init__(f"字段 {entity}.{field} 的取值 {value!r} 不在选项中（可选：{keys}）/ "
                         f"{entity}.{field}: {value!r} is not one of {keys}")


def build_models(spec: AppSpec, base: type) -> dict[str, type]:
    """Build one mapped class per entity on ``base``.

    Args:
        spec: the compiled, checked config.
        base: a declarative base (``flask_appbuilder.Model`` in the app, a fresh
            ``DeclarativeBase`` subclass in tests). Must not hold these tables yet.

    Returns:
        ``{entity name: class}`` in declared order.
    """
    clash = sorted(t for t in map(names.table_name, spec.entities) if t in base.metadata.tables)
    if clash:
        raise RuntimeError(f"models already built on this base ({', '.join(clash)}); build once per "
                           "process or use a fresh declarative base (fab5-notes gotcha 4)")
    models: dict[str, type] = {}
    for ent in spec.entities.values():
        models[ent.name] = _build_entity(spec, ent, base, models)
    return models


def workflow_of(spec: AppSpec, entity: str) -> Optional[Workflow]:
    """The workflow whose records are ``entity`` rows; one ``state`` column serves one workflow only."""
    found = [wf for wf in spec.workflows.values() if wf.entity == entity]
    if len(found) > 1:
        raise ValueError(f"entity '{entity}' is driven by several workflows "
                         f"({', '.join(wf.name for wf in found)}); it has a single state column")
    return found[0] if found else None


def indexed_fields(ent: Entity) -> tuple[str, ...]:
    """Fields whose column gets an index, in declared order.

    Refs (every FK), unique fields, ``index: true`` and everything the list
    view shows, searches, filters or sorts by.  Text columns are left out unless
    asked for explicitly: a b-tree does not help ``LIKE '%x%'``, and PostgreSQL
    refuses rows whose indexed value exceeds ~2.7 kB.
    """
    used = set(ent.list) | set(ent.search) | set(ent.filters)
    if ent.order_by:
        used.add(ent.order_by.lstrip("-"))
    return tuple(f.name for f in ent.fields.values()
                 if f.type in ("ref", "user") or f.unique or f.index or (f.name in used and f.type != "text"))


def _build_entity(spec: AppSpec, ent: Entity, base: type, models: dict[str, type]) -> type:
    table = names.table_name(ent.name)
    pk = Column("id", Integer, primary_key=True)
    attrs: dict[str, Any] = {"id": pk}
    table_args: list[Any] = []
    indexed = set(indexed_fields(ent))
    choices: dict[str, tuple[str, ...]] = {}  # column -> allowed values, checked at flush
    for f in ent.fields.values():
        col_name = names.column_name(f.name, f.type)
        if f.type in ("ref", "user"):
            col = _fk_column(table, col_name, f.ref, f.required, f.on_delete, unique=f.unique)
            target = None if f.type == "user" else (lambda t=f.ref: models[t])  # resolved at mapper setup
            attrs[col_name] = col
            attrs[f.name] = _many_to_one(target, col, remote=pk if f.ref == ent.name else None)
            continue
        attrs[col_name] = Column(col_name, SIMPLE_TYPES[f.type](f), nullable=not f.required, unique=f.unique or None,
                                 index=f.name in indexed or None, default=_default(f),
                                 server_default=_server_default(f),
                                 info={"jf_enum": f.enum} if f.type == "enum" else {})
        if f.type == "enum":
            choices[col_name] = tuple(spec.enums[f.enum].values)
    wf = workflow_of(spec, ent.name)
    if wf is not None:
        attrs["state"] = Column("state", String(64), nullable=False, index=True, default=wf.initial,
                                server_default=wf.initial)
        choices["state"] = tuple(wf.states)
    table_args += [_in_check(table, col, allowed) for col, allowed in choices.items()]
    attrs.update(_system_columns(table))
    for group in ent.unique_together:
        cols = [names.column_name(n, ent.fields[n].type) for n in group]
        table_args.append(Index(names.index_name(table, *cols, unique=True), *cols, unique=True))
    cls_name = names.class_name(ent.name)
    show = _make_str(ent.display, ent.label.zh)
    attrs.update({
        "__tablename__": table, "__table_args__": tuple(table_args),
        "__mapper_args__": {"version_id_col": attrs["version"]},
        "__module__": names.MODELS_MODULE, "__qualname__": cls_name,
        "__doc__": f"Generated from {ent.src.file}:{ent.src.line} (entity '{ent.name}', {ent.label.zh})",
        "__str__": show, "__repr__": _make_repr(cls_name),
    })
    cls = type(cls_name, (base,), attrs)
    _name_column_indexes(cls.__table__)
    if choices:
        _check_choices_on_flush(cls, ent.name, choices)
    return cls


def _system_columns(table: str) -> dict[str, Any]:
    """Columns every entity has; see SYSTEM_FIELDS in checks/naming.py, which keeps YAML off them."""
    created_by = _fk_column(table, "created_by_id", None, False, "set_null")
    changed_by = _fk_column(table, "changed_by_id", None, False, "set_null")
    return {
        # server_default lets the schema sync add the column to a table that already has rows.
        "version": Column("version", Integer, nullable=False, default=1, server_default=text("1")),
        "created_on": Column("created_on", DateTime, nullable=False, default=dt.datetime.now),
        "created_by_id": created_by,
        "changed_on": Column("changed_on", DateTime, nullable=False, default=dt.datetime.now,
                             onupdate=dt.datetime.now),
        "changed_by_id": changed_by,
        "created_by": _user_lookup("created_by_id"),
        "changed_by": _user_lookup("changed_by_id"),
    }


def _user_lookup(fk: str) -> property:
    """The FAB user that the audit column ``fk`` names, for display (the show pages).

    A read-only lookup instead of a relationship: 40 entities × 2 relationships to ``ab_user``
    were 80 of the 179 relationships SQLAlchemy configures at every start (each ``selectin``
    loader also aliases its entity), ~40 % of that work, and nothing queries through them.
    ``Session.get`` answers from the identity map (usually the signed-in user) or with one
    SELECT by primary key, as the relationship's load did; the user is then kept on the row
    (the identity map holds users weakly), so reading it again costs nothing.  The stamping
    sets the ``_id`` columns (``app.stamps``).
    """
    memo = f"_jf_{fk}_user"

    def lookup(self: Any) -> Optional[User]:
        user_id = getattr(self, fk)
        if user_id is None:
            return None
        found = self.__dict__.get(memo)
        if found is not None and found[0] == user_id:
            return found[1]  # type: ignore[no-any-return]
        session = object_session(self)
        if session is None:
            return None
        user = session.get(User, user_id)
        self.__dict__[memo] = (user_id, user)
        return user

    return property(lookup, doc=f"The user of ``{fk}`` (None when empty).")


def _fk_column(table: str, name: str, ref: Optional[str], required: bool, on_delete: Optional[str],
               unique: bool = False) -> Column:
    # ab_user is referenced by column object: a test base has no ab_user table in its own metadata.
    target: Any = f"{names.table_name(ref)}.id" if ref else User.__table__.c.id
    ondelete = ON_DELETE[on_delete] if on_delete else ("RESTRICT" if required else "SET NULL")
    return Column(name, Integer, ForeignKey(target, ondelete=ondelete, name=names.fk_name(table, name)),
                  nullable=not required, unique=unique or None, index=True)


def _many_to_one(target: Optional[Callable[[], type]], fk: Column, remote: Optional[Column] = None) -> Any:
    """Many-to-one, loaded with SELECT … IN so list pages avoid N+1 (fab5-notes §7).

    ``foreign_keys`` is explicit because an entity may point at one table through several refs;
    ``remote_side`` is only needed for a self-reference such as ``org.parent``.  No target means
    FAB's user.
    """
    extra = {"remote_side": [remote]} if remote is not None else {}
    return relationship(target or User, foreign_keys=[fk], lazy="selectin", **extra)


def _in_check(table: str, column: str, values: tuple[str, ...]) -> CheckConstraint:
    """PostgreSQL only: SQLite cannot change a CHECK without rebuilding the table (the ORM check covers it)."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=names.check_name(table, column)).ddl_if(
        dialect="postgresql")


def _check_choices_on_flush(cls: type, entity: str, choices: dict[str, tuple[str, ...]]) -> None:
    """Enum/state membership for every database, at flush: the values being inserted or changed.

    Unchanged values are not re-checked on UPDATE, so a row is still editable
    when its stored value predates the current config.  ``None`` is left to
    the column's NOT NULL (and to the Python default, applied after this hook).
    """
    def check(_mapper: Any, _conn: Any, target: Any, insert: bool) -> None:
        state = inspect(target)
        for col, allowed in choices.items():
            values = [state.dict.get(col)] if insert else state.attrs[col].history.added or ()
            for value in values:
                if value is not None and value not in allowed:
                    raise EnumValueError(entity, col, value, allowed)

    event.listen(cls, "before_insert", lambda m, c, t: check(m, c, t, True))
    event.listen(cls, "before_update", lambda m, c, t: check(m, c, t, False))


def _default(f: Field) -> Any:
    if f.default is None:
        return None
    return DEFAULT_CASTS.get(f.type, str)(f.default)


def _server_default(f: Field) -> Any:
    """The YAML default of a *required* field, also as a SQL literal, so ``ADD COLUMN … NOT NULL DEFAULT …`` works.

    ``literal(value, type)`` is rendered (and quoted) by the dialect at DDL time,
    and Alembic compares it without false positives on both databases.  Optional
    fields need none: a nullable column is added without one, and adding it to
    existing columns would only be churn.
    """
    value = _default(f)
    if value is None or not f.required:
        return None
    return literal(value, SIMPLE_TYPES[f.type](f))


def _name_column_indexes(table: Table) -> None:
    """Give ``index=True`` indexes our names instead of the base's naming convention."""
    for idx in table.indexes:
        if len(idx.columns) == 1:
            idx.name = names.index_name(table.name, *idx.columns.keys(), unique=bool(idx.unique))


# The app's presenter plugs in here (app/access/present.py): ``str(obj)`` is how FAB names a row in
# pickers, filter dropdowns, ``_info`` values and list cells, so every one of them is rendered for
# the viewer (a personal-data name masked).  None = the plain display value (builder tests, scripts).
_LABEL_HOOK: Optional[Callable[[Any], Optional[str]]] = None


def set_label_hook(hook: Optional[Callable[[Any], Optional[str]]]) -> None:
    global _LABEL_HOOK
    _LABEL_HOOK = hook


def _make_str(display: Optional[str], label: str) -> Callable[[Any], str]:
    """FAB shows ``str(obj)`` in FK dropdowns and list cells (fab5-notes gotcha 5)."""
    def __str__(self: Any) -> str:
        hook = _LABEL_HOOK
        if hook is not None:
            shown = hook(self)
            if shown is not None:
                return shown
        value = getattr(self, display) if display else None
        return f"{label} #{self.id}" if value is None or value == "" else str(value)
    return __str__


def _make_repr(cls_name: str) -> Callable[[Any], str]:
    """``repr`` names the class and id only: it ends up in logs, which must not carry personal data."""
    def __repr__(self: Any) -> str:
        return f"<{cls_name} #{getattr(self, 'id', None)}>"
    return __repr__
