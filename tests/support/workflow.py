"""Helpers of the workflow tests: a case in any state with every requirement of a transition met."""

from __future__ import annotations

import json

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import func, select

from generator import names
from generator.spec import Transition

_SEQ = itertools.count(1)
DEMO_PASSWORD = "Demo@2026"


def user_id(session: Any, username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    return session.execute(select(User.id).where(User.username == username)).scalar_one()


def org_of_type(session: Any, ctx: Any, org_type: str) -> int:
    org = ctx.model("org")
    return session.execute(select(org.id).where(org.org_type == org_type, org.org_code.like("YX-DEMO%"))
                           .order_by(org.id)).scalars().first()


def new_case(session: Any, ctx: Any, state: str, org_id: int, **values: Any) -> Any:
    case = ctx.case_model
    n = next(_SEQ)
    row = case(registry_no=f"YX-T-{n:06d}-{id(session) % 1000}", registering_org_id=org_id, current_org_id=org_id,
               source_channel=next(iter(ctx.spec.enums["source_channel"].values)),
               registered_at=dt.datetime(2026, 10, 1, 9, 0), dispute_category="remuneration",
               summary="测试案件（演示）", workers_count=1, state=state)
    for k, v in values.items():
        setattr(row, k, v)
    session.add(row)
    session.flush()
    return row


def value_for(session: Any, ctx: Any, field: str, principal: Any) -> Any:
    f = ctx.spec.entities[ctx.wf.entity].fields[field]
    if f.type == "ref":
        if f.ref == "org":
            kind = {"arb_org": "arb_institute", "court_org": "court"}.get(field)
            return org_of_type(session, ctx, kind) if kind else (principal.org_id or org_of_type(session, ctx, "county_centre"))
        model = ctx.model(f.ref)
        return session.execute(select(model.id).order_by(model.id)).scalars().first()
    if f.type == "enum":
        return next(iter(ctx.spec.enums[f.enum].values))
    if f.type == "decimal":
        return Decimal("1234.00")
    if f.type == "integer":
        return 3
    if f.type == "boolean":
        return True
    if f.type == "date":
        return dt.date(2026, 10, 1)
    if f.type == "datetime":
        return dt.datetime(2026, 10, 1, 9)
    return "测试内容（演示）"


def add_document(session: Any, ctx: Any, case_id: int, doc_type: str) -> Any:
    from tests.support.files import stage

    model = ctx.model("case_document")
    key = stage(session, "case_document", "doc_file", name=f"{doc_type}（演示）.pdf")
    doc = model(dispute_case_id=case_id, doc_type=doc_type, title=f"{doc_type}（演示）", doc_file=key)
    session.add(doc)
    session.flush()
    return doc


def seal_inspection(session: Any, ctx: Any, org_id: int, result: str = "pass") -> Any:
    insp = ctx.model("inspection")
    res = ctx.model("inspection_item_result")
    n = next(_SEQ)
    # The tracker (app/checklists) rates from the latest submitted inspection's item summary,
    # under the checklist version it used: this one is the latest (an hour ago) and rates the seal.
    checklist = ctx.spec.tracked_checklist()  # 五有 in Yangxin, 六有 in examples/xishui
    row = insp(inspection_no=f"YX-T-INSP-{n}-{org_id}", org_id=org_id, inspection_type=next(iter(
        ctx.spec.enums[ctx.spec.entities["inspection"].fields["inspection_type"].enum].values)),
        conducted_at=dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=1),
        inspection_status="submitted", checklist_version=checklist.version,
        item_summary=json.dumps({"seal": result}))
    session.add(row)
    session.flush()
    for sub in ("s1", "s2", "s3"):
        session.add(res(inspection_id=row.id, item_code="seal", sub_item_code=sub, item_result=result))
    session.flush()
    return row


def ready_case(session: Any, ctx: Any, t: Transition, principal: Any, mediator_id: Optional[int] = None) -> Any:
    """A case in ``t``'s first source state, in ``principal``'s scope, meeting all of ``t``'s requirements."""
    org_id = principal.org_id or org_of_type(session, ctx, "county_centre")
    case = new_case(session, ctx, t.sources[0], org_id)
    if mediator_id is not None:
        case.assigned_mediator_id = mediator_id
    for name in t.required_fields:
        f = ctx.spec.entities[ctx.wf.entity].fields[name]
        col = names.column_name(f.name, f.type)
        if getattr(case, col) is None:
            setattr(case, col, value_for(session, ctx, name, principal))
    for kind in t.required_attachments:
        add_document(session, ctx, case.id, kind)
    for cond in t.conditions:
        if cond.checklist:
            f = ctx.spec.entities[ctx.wf.entity].fields[cond.org_field]
            org = getattr(case, names.column_name(f.name, f.type))
            seal_inspection(session, ctx, org)
        elif cond.related == "mediation_agreement":
            ma = ctx.model("mediation_agreement")
            session.add(ma(dispute_case_id=case.id, sealing_org_id=org_id, signed_at=dt.datetime(2026, 10, 2)))
    session.flush()
    return case


def counts(session: Any, ctx: Any, case_id: int) -> dict[str, Any]:
    """What must not change when a transition is refused."""
    case = ctx.case_model
    h = ctx.tables.history
    audit = ctx.reg.audit_log
    row = session.execute(select(case.state, case.version, case.current_org_id).where(case.id == case_id)).one()
    out = {"state": row[0], "version": row[1], "org": row[2],
           "history": session.execute(select(func.count()).select_from(h).where(h.case_id == case_id)).scalar(),
           "audit": session.execute(select(func.count()).select_from(audit).where(
               audit.event == "transition", audit.record_id == str(case_id))).scalar()}
    for ent in ("case_transfer", "mediation_agreement", "arbitration_record", "arbitration_review",
                "judicial_confirmation", "payment_order", "litigation_record"):
        m = ctx.model(ent)
        out[ent] = session.execute(select(func.count()).select_from(m).where(m.dispute_case_id == case_id)).scalar()
    return out
