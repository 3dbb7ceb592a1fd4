"""What every workflow module shares: the context (spec, models, tables, access), the errors,
principals outside a request, and the per-role scope clause.

Errors carry the HTTP status the REST API answers with:

    WorkflowError          base; ``status``, ``code``, ``message``, ``missing`` (a list of dicts)
    TransitionNotFound     404  no such transition (or deadline) in the workflow
    CaseNotFound           404  no such case, or not in the data scope of any role that may act
    TransitionForbidden    403  none of the user's roles is listed on the transition *and* granted it
    VersionConflict        409  the case changed since the client read it (optimistic lock)
    WrongState             409  the case is not in a source state of the transition
    GuardFailed            422  ``missing`` lists every unmet requirement
    BadInput               422  malformed data (unknown field, bad value, non-positive days…)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

from flask import current_app
from sqlalchemy import false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from generator import names
from generator.spec import AppSpec, Role, Workflow

from app.access.rules import UNRESTRICTED, Access, Principal
from .calendar import WorkCalendar, calendar_for


class WorkflowError(Exception):
    status = 400
    code = "workflow_error"

    def __init__(self, message: str, missing: Optional[list[dict[str, Any]]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing or []

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message, "error": self.code}
        if self.missing:
            out["missing"] = self.missing
        return out


class TransitionNotFound(WorkflowError):
    status, code = 404, "not_found"


class CaseNotFound(WorkflowError):
    status, code = 404, "not_found"


class TransitionForbidden(WorkflowError):
    status, code = 403, "forbidden"


class VersionConflict(WorkflowError):
    status, code = 409, "version_conflict"


class WrongState(WorkflowError):
    status, code = 409, "wrong_state"


class GuardFailed(WorkflowError):
    status, code = 422, "requirements_missing"


class BadInput(WorkflowError):
    status, code = 422, "bad_input"


@dataclass(frozen=True)
class Ctx:
    spec: AppSpec
    wf: Workflow
    reg: Any            # app.registry.Registry
    access: Access
    calendar: WorkCalendar

    @property
    def case_model(self) -> type:
        return self.reg.models[self.wf.entity]  # type: ignore[no-any-return]

    @property
    def tables(self) -> Any:
        return self.reg.workflow

    def model(self, entity: str) -> type:
        return self.reg.models[entity]  # type: ignore[no-any-return]

    def column(self, entity: str, field: str) -> str:
        f = self.spec.entities[entity].fields[field]
        return names.column_name(f.name, f.type)


def context(reg: Any = None, access: Optional[Access] = None, workflow: Optional[str] = None) -> Ctx:
    """The context of the current app (or of ``reg``/``access`` given explicitly)."""
    if reg is None:
        reg = current_app.extensions["jiefen"]
    if access is None:
        access = current_app.extensions.get("jiefen_access") if _has_app() else None
        if access is None or access.spec is not reg.spec:
            from flask_appbuilder.security.sqla.models import User

            access = Access(reg.spec, reg.models, reg.user_org, User)
    wfs = reg.spec.workflows
    wf = wfs[workflow] if workflow else next(iter(wfs.values()))
    return Ctx(reg.spec, wf, reg, access, calendar_for(reg.spec))


def _has_app() -> bool:
    from flask import has_app_context

    return has_app_context()


# ------------------------------------------------------------------ principals outside a request

def principal_for(session: Any, user_id: int, ctx: Optional[Ctx] = None) -> Principal:
    """The principal of a stored user (its roles from ab_user_role, its org from jf_user_org), as
    a request of that user would see it; for the CLI, demo loading, benchmarks and tests."""
    from flask_appbuilder.security.sqla.models import Role as FabRole, User, assoc_user_role

    ctx = ctx or context()
    user = session.get(User, user_id)
    if user is None:
        raise CaseNotFound(f"no user {user_id}")
    role_names = set(session.scalars(select(FabRole.name).join(assoc_user_role,
                                                               assoc_user_role.c.role_id == FabRole.id)
                                     .where(assoc_user_role.c.user_id == user_id)))
    return make_principal(session, ctx, role_names, user_id=user.id, username=user.username)


def make_principal(session: Any, ctx: Ctx, role_names: Iterable[str], *, user_id: Optional[int] = None,
                   username: str = "system", org_id: Optional[int] = None) -> Principal:
    """A principal with the given roles; ``org_id`` defaults to the user's org (jf_user_org)."""
    spec = ctx.spec
    roles = tuple(spec.roles[n] for n in sorted(set(role_names)) if n in spec.roles)
    if org_id is None and user_id is not None:
        org_id = session.execute(select(ctx.reg.user_org.org_id)
                                 .where(ctx.reg.user_org.user_id == user_id)).scalar()
    tree: dict[int, tuple[Optional[int], Optional[str]]] = {}
    if org_id is not None:
        org_model = ctx.model(spec.org_tree.entity)
        parent_col = getattr(org_model, names.column_name(spec.org_tree.parent_field, "ref"))
        type_col = getattr(org_model, spec.org_tree.type_field)
        for oid, parent, otype in session.execute(select(org_model.id, parent_col, type_col)):
            tree[oid] = (parent, otype)
    return Principal(user_id, username, org_id, roles, tree)


# ------------------------------------------------------------------ scope per role

def role_scope(ctx: Ctx, principal: Principal, role: Role) -> Optional[ColumnElement[bool]]:
    """Cases ``role`` of ``principal`` covers (roles.yaml scope), regardless of its entity grants:
    a transition grant is the right to move a case in one's scope (the court liaison reads cases
    and still rules on them).  None = every case."""
    if role.admin or role.scope in UNRESTRICTED:
        return None
    ent = ctx.spec.entities[ctx.wf.entity]
    return ctx.access._role_clause(ent, role, principal, "read", 0)


def roles_scope(ctx: Ctx, principal: Principal, roles: Iterable[Role]) -> ColumnElement[bool]:
    clauses = []
    for role in roles:
        c = role_scope(ctx, principal, role)
        if c is None:
            return true()
        clauses.append(c)
    return or_(*clauses) if clauses else false()


def acting_roles(ctx: Ctx, principal: Principal, transition: str) -> tuple[Role, ...]:
    """The user's roles listed on ``transition`` *and* granted it in roles.yaml."""
    t = ctx.wf.transitions[transition]
    return tuple(r for r in principal.roles if r.name in t.roles and r.may_run(ctx.wf.name, t.name))
