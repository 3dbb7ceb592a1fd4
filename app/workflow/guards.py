"""Transition guards: what a case still lacks before a transition may run.

``missing(session, ctx, transition, case, comment)`` returns one dict per unmet requirement, all of
them at once (the 422 lists every one):

    {"kind": "field",      "name": "failure_reason",   "label": {"zh": …, "en": …}}
    {"kind": "attachment", "name": "termination_notice", "label": …}   # no case_document of that doc_type
    {"kind": "condition",  "name": "seal@sealing_org",   "label": …}   # checklist or related-record rule
    {"kind": "comment",    "name": "comment",            "label": …}   # comment_required and none given

Checklist conditions (``checklist: five_essentials, item: seal, org_field: sealing_org``) are
decided by the one function :func:`checklist_item_passing`, which asks the 五有 tracker
(app/checklists/status.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import func, select

from generator import names
from generator.spec import Condition, Transition

from .common import Ctx

COMMENT_LABEL = {"zh": "处理意见", "en": "Comment"}


def checklist_item_passing(session: Any, checklist: str, item: str, org_id: Optional[int],
                           on_date: dt.date) -> bool:
    """Does organisation ``org_id`` pass ``item`` of ``checklist`` on ``on_date``?

    The 五有 tracker decides (app/checklists/status.py ``item_passing``): the org's latest
    submitted inspection on or before ``on_date``, rated under the checklist version it used,
    rates the item 达标 or 基本达标 and is still within its validity period.
    """
    from ..checklists.status import item_passing

    return item_passing(session, checklist, item, org_id, on_date)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _field_label(ctx: Ctx, name: str) -> dict[str, str]:
    f = ctx.spec.entities[ctx.wf.entity].fields.get(name)
    return {"zh": f.label.zh, "en": f.label.en} if f else {"zh": name, "en": name}


def field_value(ctx: Ctx, case: Any, name: str) -> Any:
    f = ctx.spec.entities[ctx.wf.entity].fields[name]
    return getattr(case, names.column_name(f.name, f.type))


def attachment_types(session: Any, ctx: Ctx, case_id: int) -> set[str]:
    att = ctx.wf.attachments
    if att is None:
        return set()
    model = ctx.model(att.entity)
    parent = getattr(model, ctx.column(att.entity, att.parent_field))
    kind = getattr(model, ctx.column(att.entity, att.type_field))
    return set(session.scalars(select(kind).where(parent == case_id).distinct()))


def condition_holds(session: Any, ctx: Ctx, cond: Condition, case: Any, on_date: dt.date) -> bool:
    if cond.checklist:
        org_id = field_value(ctx, case, cond.org_field) if cond.org_field else None
        return checklist_item_passing(session, cond.checklist, cond.item or "", org_id, on_date)
    if cond.related:
        model = ctx.model(cond.related)
        via = getattr(model, ctx.column(cond.related, cond.via or ctx.wf.entity))
        return session.execute(select(func.count()).select_from(model).where(via == case.id)).scalar() > 0
    return True


def condition_name(cond: Condition) -> str:
    if cond.checklist:
        return f"{cond.checklist}.{cond.item}@{cond.org_field}"
    return f"{cond.related}.{cond.via}"


def missing(session: Any, ctx: Ctx, t: Transition, case: Any, comment: Optional[str],
            on_date: dt.date, attachments: Optional[set[str]] = None, check_comment: bool = True
            ) -> list[dict[str, Any]]:
    """Every unmet requirement of ``t`` for ``case`` (see the module doc)."""
    out: list[dict[str, Any]] = []
    for name in t.required_fields:
        if _empty(field_value(ctx, case, name)):
            out.append({"kind": "field", "name": name, "label": _field_label(ctx, name)})
    if t.required_attachments:
        have = attachments if attachments is not None else attachment_types(session, ctx, case.id)
        doc_enum = None
        att = ctx.wf.attachments
        if att is not None:
            doc_enum = ctx.spec.entities[att.entity].fields[att.type_field].enum
        values = ctx.spec.enums[doc_enum].values if doc_enum in ctx.spec.enums else {}
        for kind in t.required_attachments:
            if kind not in have:
                lab = values.get(kind)
                out.append({"kind": "attachment", "name": kind,
                            "label": {"zh": lab.zh, "en": lab.en} if lab else {"zh": kind, "en": kind}})
    for cond in t.conditions:
        if not condition_holds(session, ctx, cond, case, on_date):
            out.append({"kind": "condition", "name": condition_name(cond),
                        "label": {"zh": cond.label.zh, "en": cond.label.en}})
    if check_comment and t.comment_required and _empty(comment):
        out.append({"kind": "comment", "name": "comment", "label": dict(COMMENT_LABEL)})
    return out
