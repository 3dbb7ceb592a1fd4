"""The one place that turns spec names into class, table, column and permission names.

FAB keys blueprints, endpoints and permissions by class name, and Alembic
compares indexes and constraints by name, so every derived name must be stable
across runs and machines and must come from here (never spelled out in a
builder or a view):

    dispute_case            -> DisputeCase, jf_dispute_case, DisputeCaseView, DisputeCaseApi
    field current_org (ref) -> column current_org_id, index ix_jf_dispute_case_current_org_id
    permissions             -> entity.dispute_case.read, transition.case_flow.escalate,
                               checklist.five_essentials.inspect

Tables get a ``jf_`` prefix so no entity can ever clash with FAB's ``ab_*`` tables.
"""

from __future__ import annotations

import hashlib

TABLE_PREFIX = "jf_"
# PostgreSQL cuts identifiers at 63 bytes; stay below with room for a suffix.
MAX_IDENTIFIER = 60
MODELS_MODULE = "app.generated.models"


def class_name(entity: str) -> str:
    """``dispute_case`` -> ``DisputeCase`` (entity names are ASCII snake_case)."""
    return "".join(part.capitalize() for part in entity.split("_"))


def table_name(entity: str) -> str:
    return f"{TABLE_PREFIX}{entity}"


def fk_column(field: str) -> str:
    """The column that stores a ref/user field: ``current_org`` -> ``current_org_id``."""
    return f"{field}_id"


def column_name(field: str, field_type: str) -> str:
    """The database column of a field of any type."""
    return fk_column(field) if field_type in ("ref", "user") else field


def shorten(name: str, limit: int = MAX_IDENTIFIER) -> str:
    """Cut a long identifier and append a hash of the full name, so it stays unique and stable."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{name[:limit - 9]}_{digest}"


def index_name(table: str, *columns: str, unique: bool = False) -> str:
    """``ix_<table>_<col>[_<col>…]``; unique indexes use ``uq_`` so their purpose shows in the DB."""
    return shorten(f"{'uq' if unique else 'ix'}_{table}_{'_'.join(columns)}")


def check_name(table: str, column: str) -> str:
    return shorten(f"ck_{table}_{column}")


def fk_name(table: str, column: str) -> str:
    """Named FKs can be dropped/recreated by Alembic batch mode on SQLite (unnamed ones cannot)."""
    return shorten(f"fk_{table}_{column}")


def view_class(entity: str) -> str:
    return f"{class_name(entity)}View"


def api_class(entity: str) -> str:
    return f"{class_name(entity)}Api"


def resource_name(entity: str) -> str:
    """The REST resource: ``/api/v1/dispute_case/``."""
    return entity


def permission(kind: str, *parts: str) -> str:
    """``permission("transition", "case_flow", "escalate")`` -> ``transition.case_flow.escalate``."""
    return ".".join((kind,) + parts)


def entity_permission(entity: str, action: str) -> str:
    return permission("entity", entity, action)


def transition_permission(workflow: str, transition: str) -> str:
    return permission("transition", workflow, transition)


def checklist_permission(checklist: str, action: str) -> str:
    return permission("checklist", checklist, action)
