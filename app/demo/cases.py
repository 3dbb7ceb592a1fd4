"""Demo histories: every workflow state has a demo case, every demo case a plausible history.

Called by app/demo/loader.py at the end of ``load_demo`` (deterministic: its own ``random.Random``, the
demo's fixed "today").  The demo loader makes ~120 cases in the early states; here

* a few of them are moved on into each state no demo case is in yet (arbitration, court,
  agreement follow-up and terminal states), with the organisation and fields that state implies;
* every demo case gets the history rows the engine would have written along the shortest route
  of transitions from ``registered`` to its state (through its own mediation level), spread
  between its registration and the demo's today, so some deadlines are overdue;
* the derived deadline rows are computed (deadlines.refresh).

The rows are written directly (an "equivalent" of driving the engine): the demo loader runs before
the demo accounts exist and its cases do not carry every attachment a guard asks for.  When the
models passed in are not the app registry's (a bare test base), only the states are moved.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import deque
from typing import Any, Mapping, Optional

from sqlalchemy import insert, select, update

from generator.spec import AppSpec, Workflow

# Which existing demo states give up cases to the states the demo loader does not fill.
DONORS = ("registered", "triage", "med_enterprise")
ARB_STATES = {"arb_applied", "arb_accepted", "hearing", "arb_suspended", "arb_conciliation", "award", "post_award",
              "arb_review", "not_accepted", "withdrawn"}
COURT_STATES = {"judicial_confirmation", "payment_order", "litigation", "enforcement"}


def routes(wf: Workflow) -> dict[str, list[str]]:
    """Shortest transition route from ``initial`` to every state (declared order breaks ties)."""
    out: dict[str, list[str]] = {wf.initial: []}
    todo = deque([wf.initial])
    while todo:
        state = todo.popleft()
        for t in wf.transitions.values():
            if state in t.sources and t.target not in out:
                out[t.target] = out[state] + [t.name]
                todo.append(t.target)
    return out


def route_to(wf: Workflow, paths: Mapping[str, list[str]], state: str, level_state: Optional[str]) -> list[str]:
    """The route to ``state``; through ``level_state`` (the case's mediation state) when it is one step away."""
    if level_state and level_state != state and level_state in paths:
        for t in wf.transitions.values():
            if level_state in t.sources and t.target == state:
                return paths[level_state] + [t.name]
    return paths.get(state, [])


def load(session: Any, spec: AppSpec, models: Mapping[str, type], orgs: Mapping[str, Any],
         base_dt: dt.datetime, seed: int = 5) -> int:
    """Move donor cases into the empty states and write every demo case's history; returns the
    number of history rows written (0 on a bare test base)."""
    wf = next((w for w in spec.workflows.values() if w.entity == "dispute_case"), None)
    if wf is None:
        return 0
    rng = random.Random(seed)
    case_model = models[wf.entity]
    session.flush()
    cases = list(session.scalars(select(case_model).order_by(case_model.id)))
    present = {c.state for c in cases}
    missing = [s for s in wf.states if s not in present]
    donors = [c for d in DONORS for c in cases if c.state == d]
    level_state: dict[str, str] = {}
    for st in wf.states.values():
        if st.level:
            level_state.setdefault(st.level, st.name)
    ai, ct, cc = orgs.get("YX-DEMO-AI"), orgs.get("YX-DEMO-CT"), orgs.get("YX-DEMO-CC")
    moved: dict[int, str] = {}
    for state in missing:
        st = wf.states[state]
        if st.level:  # a mediation state (arb_entrusted_med): take a case already at that level
            pool = [c for c in cases if c.state == level_state.get(st.level) and c.id not in moved]
        else:
            pool = [c for c in donors if c.id not in moved and c.state != "med_enterprise"] or \
                   [c for c in donors if c.id not in moved]
        if not pool:
            continue
        c = pool[0] if st.level else pool[(len(moved) * 7) % len(pool)]
        moved[c.id] = state
        days = 30 + rng.randint(10, 90)
        c.registered_at = dt.datetime.combine((base_dt - dt.timedelta(days=days)).date(), dt.time(9, 0))
        if state in ARB_STATES or state in COURT_STATES or state in ("performance", "enforcement"):
            c.arb_org = ai
        if state in ARB_STATES and ai is not None and state != "arb_review":
            c.current_org = ai
            c.arb_case_no = f"阳劳人仲案字〔2026〕第{900 + len(moved)}号（演示）"
        if state in COURT_STATES and ct is not None:
            c.court_org = ct
            c.current_org = ct
        if state == "arb_suspended":
            c.suspension_reason = "需等待工伤认定结论（演示）"
        if state in ("closed", "referred_out", "not_accepted", "withdrawn", "dropped"):
            c.closed_at = base_dt - dt.timedelta(days=rng.randint(1, 20))
            c.closure_mode = {"closed": "consultation", "referred_out": "referred", "not_accepted": "not_accepted",
                              "withdrawn": "settlement_withdrawal", "dropped": "other"}[state]
        if state in ("agreed", "performance", "arb_review", "judicial_confirmation", "payment_order"):
            c.performance_status = "not_due"
        if state == "med_failed" and cc is not None:
            c.failure_reason = "双方分歧较大（演示）"
        c.state = state
    session.flush()

    from app.registry import registry_for

    reg = registry_for(spec)
    if reg.models.get(wf.entity) is not case_model or reg.workflow is None:
        return 0  # a bare base without the workflow tables: states only
    from app.workflow.common import context
    from app.workflow import deadlines

    ctx = context(reg=reg)
    paths = routes(wf)
    h = reg.workflow.history
    rows: list[dict[str, Any]] = []
    versions: dict[int, int] = {}
    for c in cases:
        path = route_to(wf, paths, c.state, level_state.get(c.mediation_level) if c.mediation_level else None)
        if not path:
            continue
        start = c.registered_at
        end = base_dt - dt.timedelta(hours=rng.randint(2, 30))
        if c.state in wf.states and wf.states[c.state].kind in ("mediation", "triage") and rng.random() < 0.3:
            end = start + (end - start) * rng.uniform(0.2, 0.5)  # stuck since early on: overdue
        span = max(end - start, dt.timedelta(hours=len(path)))
        at = start
        state = wf.initial
        for seq, name in enumerate(path, start=2):
            t = wf.transitions[name]
            at = start + span * (seq - 1) / len(path)
            at = at.replace(microsecond=0)
            role = t.roles[0]
            rows.append({"case_id": c.id, "seq": seq, "workflow": wf.name, "transition": name, "from_state": state,
                         "to_state": t.target, "actor_user_id": None, "actor_username": f"{role}（演示）",
                         "actor_org_id": c.current_org_id, "actor_roles": role, "at": at,
                         "comment": "（演示）" if t.comment_required else None,
                         "data": json.dumps({"demo": True}, ensure_ascii=False)})
            state = t.target
        versions[c.id] = len(path) + 1
    if rows:
        session.execute(insert(h.__table__), rows)
        tbl = case_model.__table__  # type: ignore[attr-defined]
        for cid, version in versions.items():
            session.execute(update(tbl).where(tbl.c.id == cid).values(version=version))
        for c in cases:
            session.expire(c, ["version"])
        deadlines.refresh(session, sorted(versions), base_dt.date(), ctx)
    return len(rows)
