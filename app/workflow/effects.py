"""Side effects of a transition and assignee resolution (applied inside the engine's transaction).

Effects of workflows.yaml, in declared order:

    create: <entity>, link: <field>, values: {…}   a new row; ``link`` points it at the case
    set: {field: value}                              case fields
    start_deadline / stop_deadline: <name>           recorded in the history row's data, so the
                                                     deadline computation sees them

Values: literals, or ``$now`` (date fields get the date), ``$today``, ``$user`` (the actor's user
id), ``$org`` / ``$actor_org`` (the actor's organisation), ``$case.<field>`` (the case's value;
a ref gives the id).

``assign: {role, org}`` moves the case to the organisation named by ``org`` (a ref field of the
case such as ``current_org`` or ``arb_org``, ``$parent_org`` = the parent of the case's current
organisation, ``$actor_org``) by setting ``current_org``, and names the users holding ``role``
there (jf_user_org + FAB roles).  Effects run before the assignment, so ``$case.current_org`` in
an effect is the organisation the case leaves.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from sqlalchemy import select

from generator import names
from generator.spec import Assign, Effect, Field

from app.access.rules import Principal
from .common import BadInput, Ctx


def resolve(ctx: Ctx, value: Any, case: Any, principal: Principal, at: dt.datetime, f: Optional[Field]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        if value == "$now":
            out: Any = at
        elif value == "$today":
            out = at.date()
        elif value == "$user":
            out = principal.user_id
        elif value in ("$org", "$actor_org"):
            out = principal.org_id
        elif value.startswith("$case."):
            name = value[len("$case."):]
            cf = ctx.spec.entities[ctx.wf.entity].fields[name]
            out = getattr(case, names.column_name(cf.name, cf.type))
        else:
            raise ValueError(f"unknown substitution {value!r}")
    else:
        out = value
    if f is not None and out is not None:
        if f.type == "date" and isinstance(out, dt.datetime):
            out = out.date()
        elif f.type == "datetime" and isinstance(out, dt.date) and not isinstance(out, dt.datetime):
            out = dt.datetime.combine(out, dt.time())
    return out


def apply_effects(session: Any, ctx: Ctx, effects: tuple[Effect, ...], case: Any, principal: Principal,
                  at: dt.datetime) -> dict[str, Any]:
    """Apply ``effects``; returns what to record: ``{"set": {…}, "created": [objects], "deadlines": …}``."""
    case_fields = ctx.spec.entities[ctx.wf.entity].fields
    done: dict[str, Any] = {"set": {}, "created": [], "deadlines": {"start": [], "stop": []}}
    for eff in effects:
        if eff.create:
            ent = ctx.spec.entities[eff.create]
            obj = ctx.model(eff.create)()
            if eff.link:
                setattr(obj, ctx.column(eff.create, eff.link), case.id)
            for key, raw in eff.values.items():
                f = ent.fields[key]
                setattr(obj, names.column_name(f.name, f.type), resolve(ctx, raw, case, principal, at, f))
            session.add(obj)
            done["created"].append((eff.create, obj))
        for key, raw in eff.set.items():
            f = case_fields[key]
            value = resolve(ctx, raw, case, principal, at, f)
            setattr(case, names.column_name(f.name, f.type), value)
            done["set"][key] = value
        if eff.start_deadline:
            done["deadlines"]["start"].append(eff.start_deadline)
        if eff.stop_deadline:
            done["deadlines"]["stop"].append(eff.stop_deadline)
    return done


def assign_target(session: Any, ctx: Ctx, assign: Assign, case: Any, principal: Principal) -> Optional[int]:
    """The organisation ``assign.org`` names for this case (None: unknown, the case stays)."""
    org_model = ctx.model(ctx.spec.org_tree.entity)
    current = case.current_org_id
    if assign.org == "$parent_org":
        if current is None:
            return None
        parent_col = getattr(org_model, names.column_name(ctx.spec.org_tree.parent_field, "ref"))
        return session.execute(select(parent_col).where(org_model.id == current)).scalar()  # type: ignore[no-any-return]
    if assign.org in ("$actor_org", "$org"):
        return principal.org_id
    return getattr(case, ctx.column(ctx.wf.entity, assign.org))  # type: ignore[no-any-return]


def users_with_role_at(session: Any, ctx: Ctx, role: str, org_id: int) -> list[int]:
    from flask_appbuilder.security.sqla.models import Role as FabRole, User, assoc_user_role

    uo = ctx.reg.user_org
    q = (select(User.id).join(uo, uo.user_id == User.id).join(assoc_user_role, assoc_user_role.c.user_id == User.id)
         .join(FabRole, FabRole.id == assoc_user_role.c.role_id)
         .where(uo.org_id == org_id, FabRole.name == role, User.active.is_(True)).order_by(User.id))
    return list(session.scalars(q))


def apply_assign(session: Any, ctx: Ctx, assign: Optional[Assign], case: Any, principal: Principal
                 ) -> Optional[dict[str, Any]]:
    if assign is None:
        return None
    target = assign_target(session, ctx, assign, case, principal)
    if target is not None:
        case.current_org_id = target
    org = target if target is not None else case.current_org_id
    users = users_with_role_at(session, ctx, assign.role, org) if org is not None else []
    return {"role": assign.role, "org_id": org, "user_ids": users}


# ------------------------------------------------------------------ fields sent with a transition

def coerce(ctx: Ctx, f: Field, value: Any) -> Any:
    """A JSON value for field ``f`` as the column stores it; BadInput when it does not fit."""
    if value is None or (isinstance(value, str) and not value.strip() and f.type not in ("string", "text")):
        return None
    try:
        if f.type in ("ref", "user", "integer"):
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if f.type == "decimal":
            return Decimal(str(value))
        if f.type == "boolean":
            if isinstance(value, bool):
                return value
            raise ValueError
        if f.type == "date":
            return dt.date.fromisoformat(str(value))
        if f.type == "datetime":
            return dt.datetime.fromisoformat(str(value))
        if f.type == "enum":
            if f.enum and str(value) not in ctx.spec.enums[f.enum].values:
                raise ValueError
            return str(value)
        if f.type in ("string", "text"):
            text = str(value)
            if f.max_length and len(text) > f.max_length:
                raise ValueError
            return text
    except (ValueError, TypeError, InvalidOperation):
        pass
    raise BadInput(f"字段“{f.label.zh}”的值无效 / invalid value for '{f.label.en}'",
                   [{"kind": "field", "name": f.name, "label": {"zh": f.label.zh, "en": f.label.en}}])
