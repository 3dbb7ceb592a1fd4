"""The workflow's own tables, built per declarative base like ``jf_user_org`` and ``jf_audit_log``.

    jf_case_history        one row per transition taken (append-only; the source of truth)
                           case_id + seq UNIQUE (seq = the case's version after the transition:
                           two writers of one version cannot both commit a history row)
    jf_deadline_extension  one row per approved extension of a running deadline
    jf_case_deadline       derived: the latest instance of each deadline of each case, with its
                           computed due date and status as of the last write (rebuilt from the
                           history on every transition and by ``flask recompute-deadlines``)
    jf_case_clock          derived: one row per case with a running deadline, the earliest due
                           date (what the inbox sorts by and the overdue list filters on)

The derived tables exist only to make lists over 100k cases cheap; what a case page shows is
always recomputed from the history (app/workflow/deadlines.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, String, Text

from generator import names

HISTORY = "jf_case_history"
EXTENSION = "jf_deadline_extension"
DEADLINE = "jf_case_deadline"
CLOCK = "jf_case_clock"


@dataclass(frozen=True)
class WorkflowTables:
    history: type
    extension: type
    deadline: type
    clock: type


def _case_fk(table: str, case_table: Any, **kw: Any) -> Column:
    return Column("case_id", Integer, ForeignKey(case_table.c.id, ondelete="CASCADE",
                                                 name=names.fk_name(table, "case_id")), nullable=False, **kw)


def _cls(base: type, table: str, class_name: str, doc: str, attrs: dict[str, Any]) -> type:
    attrs.update({"__tablename__": table, "__module__": names.MODELS_MODULE, "__qualname__": class_name,
                  "__doc__": doc})
    cls = type(class_name, (base,), attrs)
    for idx in cls.__table__.indexes:  # type: ignore[attr-defined]
        if idx.name is None or not idx.name.startswith(("ix_jf", "uq_jf")):
            idx.name = names.index_name(table, *idx.columns.keys(), unique=bool(idx.unique))
    return cls


def build_workflow_tables(base: type, case_model: type) -> WorkflowTables:
    """The four mapped classes on ``base`` (once per declarative base)."""
    if HISTORY in base.metadata.tables:  # type: ignore[attr-defined]
        raise RuntimeError(f"{HISTORY} already built on this base")
    case_table = case_model.__table__  # type: ignore[attr-defined]
    history = _cls(base, HISTORY, "CaseHistory", "One transition of a case (app/workflow/engine.py).", {
        "id": Column(Integer, primary_key=True),
        "case_id": _case_fk(HISTORY, case_table),
        "seq": Column(Integer, nullable=False),
        "workflow": Column(String(64), nullable=False),
        "transition": Column(String(64), nullable=False),
        "from_state": Column(String(64), nullable=False),
        "to_state": Column(String(64), nullable=False, index=True),
        # No FK to ab_user: deleting an account must not rewrite a case's history.
        "actor_user_id": Column(Integer),
        "actor_username": Column(String(256)),
        "actor_org_id": Column(Integer),
        "actor_roles": Column(String(256)),
        "at": Column(DateTime, nullable=False, index=True),
        "comment": Column(Text),
        "data": Column(Text),  # JSON: request data, fields set, deadlines started/stopped, assignment
    })
    Index(names.index_name(HISTORY, "case_id", "seq", unique=True), history.__table__.c.case_id,
          history.__table__.c.seq, unique=True)
    Index(names.index_name(HISTORY, "to_state", "from_state", "case_id"), history.__table__.c.to_state,
          history.__table__.c.from_state, history.__table__.c.case_id)
    extension = _cls(base, EXTENSION, "DeadlineExtension", "An approved extension of a case deadline.", {
        "id": Column(Integer, primary_key=True),
        "case_id": _case_fk(EXTENSION, case_table, index=True),
        "deadline": Column(String(64), nullable=False),
        "instance_started_at": Column(DateTime, nullable=False),  # which run of the deadline
        "days": Column(Integer, nullable=False),
        "reason": Column(Text),
        "approved_by_id": Column(Integer),
        "approved_by": Column(String(256)),
        "approver_role": Column(String(64)),
        "at": Column(DateTime, nullable=False),
    })
    deadline = _cls(base, DEADLINE, "CaseDeadline", "Derived: a case deadline as of the last write.", {
        "id": Column(Integer, primary_key=True),
        "case_id": _case_fk(DEADLINE, case_table, index=True),
        "deadline": Column(String(64), nullable=False),
        "started_at": Column(DateTime, nullable=False),
        "due_on": Column(Date),
        "stopped_at": Column(DateTime),
        "status": Column(String(16), nullable=False),  # running / paused / met / missed
        "is_open": Column(Integer, nullable=False),    # 1 while running or paused
        "paused_days": Column(Integer, nullable=False),
        "extended_days": Column(Integer, nullable=False),
    })
    Index(names.index_name(DEADLINE, "is_open", "due_on"), deadline.__table__.c.is_open,
          deadline.__table__.c.due_on)
    clock = _cls(base, CLOCK, "CaseClock", "Derived: the earliest open due date of a case.", {
        "case_id": Column("case_id", Integer, ForeignKey(case_table.c.id, ondelete="CASCADE",
                                                         name=names.fk_name(CLOCK, "case_id")),
                          primary_key=True, autoincrement=False),
        "next_due_on": Column(Date, index=True),
        "next_deadline": Column(String(64)),
    })
    return WorkflowTables(history, extension, deadline, clock)
