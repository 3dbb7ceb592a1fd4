"""List queries for the workflow pages: 待我处理 inbox, overdue list, funnel.

    inbox(session, principal, limit=50, offset=0, today=None) -> {"total", "items"}
        cases waiting on the user: their state is owned (workflows.yaml ``owners``) by one of the
        user's roles *and* the case lies in that role's data scope; earliest due date first (cases
        without a running deadline last, then oldest registration).  Each item: id, registry_no,
        state (+ label, level), current_org_id, registered_at, version, next_due_on, next_deadline,
        and ``deadlines``: the page's open deadlines recomputed from the history (status, due
        date, remaining days) — the stored due dates only order and filter the list.
    overdue(session, principal, limit=100, offset=0, today=None) -> {"total", "items"}
        open deadlines past their due date on cases the user may read, most overdue first.  Each
        item: case id, registry_no, state, current_org_id, deadline (+ label), due_on, days_overdue.
    funnel(session, principal) -> dict
        ``open``: open (non-final) cases per state with level and kind; ``levels``: per mediation
        level; ``resolved``: cases resolved by agreement per tier (enterprise / township / county,
        plus ``arbitration`` and ``court`` beyond the mediation network), counted from the
        histories, with ``share`` of the total and the 小事不出企业、中事不出乡镇、大事不出县 shares.

Each is one or two SQL statements on indexed columns (state, current_org_id, jf_case_clock
.next_due_on, jf_case_deadline(is_open, due_on), jf_case_history(to_state, from_state, case_id)),
with the data scope as the access module computes it; nothing loops over cases in Python except the
displayed page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import and_, false, func, or_, select

from app.access.rules import Principal
from . import deadlines as dl
from .common import Ctx, context, role_scope

# Mediation levels → the three tiers of the slogan (org tree levels: station / township / county).
TIERS = {"enterprise": "enterprise", "doorstep": "enterprise", "industry": "enterprise",
         "park": "township", "township": "township",
         "arb_prefiling": "county", "county_joint": "county", "court_prefiling": "county"}
TIER_ORDER = ("enterprise", "township", "county", "arbitration", "court")


def _owned_clause(ctx: Ctx, principal: Principal) -> Any:
    case = ctx.case_model
    parts = []
    for role in principal.roles:
        states = [s.name for s in ctx.wf.states.values() if role.name in s.owners and not s.final]
        if not states:
            continue
        scope = role_scope(ctx, principal, role)
        cond = case.state.in_(states)
        parts.append(cond if scope is None else and_(cond, scope))
    return or_(*parts) if parts else false()


def _state_info(ctx: Ctx, state: str) -> dict[str, Any]:
    st = ctx.wf.states.get(state)
    return {"state": state, "state_label": {"zh": st.label.zh, "en": st.label.en} if st else None,
            "level": st.level if st else None, "kind": st.kind if st else None}


def inbox(session: Any, principal: Principal, limit: int = 50, offset: int = 0,
          today: Optional[dt.date] = None, ctx: Optional[Ctx] = None) -> dict[str, Any]:
    ctx = ctx or context()
    case = ctx.case_model
    clock = ctx.tables.clock
    where = _owned_clause(ctx, principal)
    reg_at = getattr(case, "registered_at", case.id)
    rows = session.execute(
        select(case.id, case.registry_no, case.state, case.current_org_id, reg_at, case.version,
               clock.next_due_on, clock.next_deadline)
        .outerjoin(clock, clock.case_id == case.id).where(where)
        .order_by(clock.next_due_on.is_(None), clock.next_due_on, reg_at, case.id)
        .limit(limit).offset(offset)).all()
    total = session.execute(select(func.count()).select_from(case).where(where)).scalar()
    reports = dl.deadlines_for(session, [r[0] for r in rows], today, ctx) if rows else {}
    items = []
    for cid, no, state, org, registered, version, due, name in rows:
        rep = reports.get(cid)
        items.append({"id": cid, "registry_no": no, **_state_info(ctx, state), "current_org_id": org,
                      "registered_at": registered.isoformat() if isinstance(registered, dt.datetime) else registered,
                      "version": version, "next_due_on": due.isoformat() if due else None, "next_deadline": name,
                      "deadlines": [d.as_dict() for d in rep.open] if rep else [],
                      "warnings": rep.warnings if rep else []})
    return {"total": total, "items": items}


def _read_clause(ctx: Ctx, principal: Principal) -> Any:
    return ctx.access.clause(ctx.case_model, "read", p=principal)


def overdue(session: Any, principal: Principal, limit: int = 100, offset: int = 0,
            today: Optional[dt.date] = None, ctx: Optional[Ctx] = None) -> dict[str, Any]:
    ctx = ctx or context()
    as_of = today or dl.today()
    case = ctx.case_model
    d = ctx.tables.deadline
    cond = [d.is_open == 1, d.status == "running", d.due_on < as_of]
    scope = _read_clause(ctx, principal)
    if scope is not None:
        cond.append(scope)
    base = select(d.case_id, case.registry_no, case.state, case.current_org_id, d.deadline, d.due_on) \
        .join(case, case.id == d.case_id).where(*cond)
    rows = session.execute(base.order_by(d.due_on, d.case_id).limit(limit).offset(offset)).all()
    counted = select(func.count()).select_from(d)
    if scope is not None:  # scoped: count the readable cases only (unrestricted: no join)
        counted = counted.join(case, case.id == d.case_id)
    total = session.execute(counted.where(*cond)).scalar()
    items = []
    for cid, no, state, org, name, due in rows:
        dd = ctx.wf.deadlines.get(name)
        items.append({"id": cid, "registry_no": no, **_state_info(ctx, state), "current_org_id": org,
                      "deadline": name,
                      "deadline_label": {"zh": dd.label.zh, "en": dd.label.en} if dd else None,
                      "due_on": due.isoformat(), "days_overdue": (as_of - due).days})
    return {"total": total, "items": items}


def funnel(session: Any, principal: Principal, ctx: Optional[Ctx] = None) -> dict[str, Any]:
    ctx = ctx or context()
    case = ctx.case_model
    h = ctx.tables.history
    scope = _read_clause(ctx, principal)
    finals = [s.name for s in ctx.wf.states.values() if s.final]
    q = select(case.state, func.count()).where(case.state.not_in(finals))
    if scope is not None:
        q = q.where(scope)
    counts = dict(session.execute(q.group_by(case.state)).all())
    open_rows = []
    levels: dict[str, int] = {}
    for st in ctx.wf.states.values():
        if st.final:
            continue
        n = int(counts.get(st.name, 0))
        open_rows.append({**_state_info(ctx, st.name), "count": n})
        if st.level:
            levels[st.level] = levels.get(st.level, 0) + n
    # Resolution events: entering an agreement state from a mediation state (tier of its level),
    # an arbitration conciliation or award (arbitration), a court confirmation of validity or a
    # close after litigation (court).  One count per case and tier.
    agree_states = [s.name for s in ctx.wf.states.values() if s.kind == "agreement"] + ["arb_conciliation"]
    court_ends = ["award", "closed"]
    targets = [s for s in agree_states + court_ends if s in ctx.wf.states]
    hq = select(h.from_state, h.to_state, func.count(func.distinct(h.case_id))).where(h.to_state.in_(targets))
    if scope is not None:
        hq = hq.where(h.case_id.in_(select(case.id).where(scope)))
    resolved = {k: 0 for k in TIER_ORDER}
    for from_state, to_state, n in session.execute(hq.group_by(h.from_state, h.to_state)):
        src = ctx.wf.states.get(from_state)
        if src is not None and src.kind == "mediation" and src.level in TIERS:
            resolved[TIERS[src.level]] += n
        elif to_state == "award" or (to_state == "arb_conciliation" and from_state == "hearing"):
            resolved["arbitration"] += n
        elif to_state == "closed" and from_state == "litigation":
            resolved["court"] += n
    total = sum(resolved.values())
    share = {k: (round(v / total, 4) if total else 0.0) for k, v in resolved.items()}
    return {"open": open_rows, "open_total": sum(r["count"] for r in open_rows), "levels": levels,
            "resolved": resolved, "resolved_total": total, "share": share}
