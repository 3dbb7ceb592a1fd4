"""The transition engine: one call, one database transaction, all or nothing.

    perform(session, case_id, transition, *, principal, expected_version, comment=None, data=None,
            now=None) -> TransitionResult

Checks, in this order (the first failure raises, the transaction is rolled back, nothing changed):

    1. the transition exists in the workflow                                   404 TransitionNotFound
    2. a role of the user is listed on it *and* granted it in roles.yaml       403 TransitionForbidden
    3. the case exists and lies in the data scope of one of those roles        404 CaseNotFound
    4. ``expected_version`` equals the case's version                          409 VersionConflict
    5. the case is in one of the transition's source states                    409 WrongState
    6. ``data["fields"]`` only names fields editable in the source state or
       required by the transition, with valid values                          422 BadInput
    7. the guards: required fields, attachments, conditions, comment          422 GuardFailed (every item)

Then: the fields of ``data["fields"]``, the new state, the effects (create / set / deadlines), the
assignment (``current_org`` moves), the UPDATE of the case guarded by its version (a concurrent
writer that got there first makes it match no row: 409, and the unique (case_id, seq) of the
history refuses a second row for the same version), the history row, the audit row
``transition``, the derived deadline rows; commit.

    available(session, case, principal, now=None) -> list[dict]
        the transitions this user may take from the case's state now, each with what it still
        lacks (``missing``, ``ready``) and the fields its form should ask for
    history(session, case_id) -> list[dict]
        the case's timeline, oldest first
    case_view(session, case_id, principal, today=None) -> dict
        what a case page needs in one call: state, version, actions, deadlines, history

``principal`` is an :class:`app.access.Principal`: ``access.current().principal()`` in a request,
``common.principal_for(session, user_id)`` elsewhere.  Data-scope refusals answer 404, like every
other surface of the app.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from sqlalchemy import and_, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from generator import names
from generator.spec import Transition

from app.access.rules import Principal
from . import deadlines as dl
from . import effects, guards
from .common import (BadInput, CaseNotFound, Ctx, GuardFailed, TransitionForbidden, TransitionNotFound,
                     VersionConflict, WorkflowError, WrongState, acting_roles, context, role_scope,
                     roles_scope)

MAX_COMMENT = 4000


@dataclass
class TransitionResult:
    case_id: int
    transition: str
    from_state: str
    to_state: str
    version: int
    history_id: int
    at: dt.datetime
    assigned: Optional[dict[str, Any]] = None
    created: list[dict[str, Any]] = field(default_factory=list)
    deadlines: Optional[dict[str, Any]] = None

    def as_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "transition": self.transition, "from_state": self.from_state,
                "to_state": self.to_state, "version": self.version, "history_id": self.history_id,
                "at": self.at.isoformat(), "assigned": self.assigned, "created": self.created,
                "deadlines": self.deadlines}


def _json(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _transition(ctx: Ctx, name: str) -> Transition:
    t = ctx.wf.transitions.get(name)
    if t is None:
        raise TransitionNotFound(f"没有这个流程动作：{name} / no transition '{name}'")
    return t


def _in_scope(session: Any, ctx: Ctx, principal: Principal, roles: Any, case_id: int) -> bool:
    case = ctx.case_model
    q = select(case.id).where(and_(case.id == case_id, roles_scope(ctx, principal, roles)))
    return session.execute(q).first() is not None


def _fields_from_data(session: Any, ctx: Ctx, t: Transition, state: str, principal: Principal,
                      data: Mapping[str, Any]) -> dict[str, Any]:
    raw = data.get("fields") or {}
    if not isinstance(raw, Mapping):
        raise BadInput("fields 须为对象 / 'fields' must be an object")
    allowed = set(ctx.wf.states[state].editable) | set(t.required_fields)
    ent = ctx.spec.entities[ctx.wf.entity]
    out: dict[str, Any] = {}
    bad = [k for k in raw if k not in allowed or k not in ent.fields]
    if bad:
        raise BadInput("这些字段在当前状态不可修改 / not editable in this state: " + ", ".join(sorted(map(str, bad))),
                       [{"kind": "field", "name": str(k), "label": {"zh": str(k), "en": str(k)}} for k in sorted(map(str, bad))])
    for key, value in raw.items():
        f = ent.fields[key]
        v = effects.coerce(ctx, f, value)
        if f.type in ("ref", "user") and v is not None:
            from flask_appbuilder.security.sqla.models import User

            target = User if f.type == "user" else ctx.model(f.ref)  # type: ignore[arg-type]
            clause = ctx.access.clause(target, "read", p=principal)
            q = select(target.id).where(target.id == v)
            if clause is not None:
                q = q.where(clause)
            if session.execute(q).first() is None:
                raise BadInput(f"“{f.label.zh}”指向的记录不存在或不在您的数据范围内 / '{f.label.en}' points to a "
                               "missing record or outside your data scope",
                               [{"kind": "field", "name": key, "label": {"zh": f.label.zh, "en": f.label.en}}])
        out[key] = v
    return out


def perform(session: Any, case_id: int, transition: str, *, principal: Principal,
            expected_version: Optional[int], comment: Optional[str] = None,
            data: Optional[Mapping[str, Any]] = None, now: Optional[dt.datetime] = None,
            ctx: Optional[Ctx] = None, commit: bool = True) -> TransitionResult:
    """Take ``transition`` on case ``case_id`` as ``principal`` (see the module doc).

    Args:
        expected_version: the case version the client last read (None skips the comparison:
            internal callers that just loaded the case; the UPDATE is still version-guarded).
        comment: the actor's comment (required by ``comment_required`` transitions).
        data: JSON object; ``data["fields"]`` sets case fields editable in the source state or
            required by the transition; everything is recorded in the history row.
        now: the transition time (default: the workflow clock, ``deadlines.now()``).
        commit: commit on success (default); with False the caller commits.  A failure always
            rolls the session back.

    Raises:
        WorkflowError (a subclass with its HTTP ``status``) — nothing was changed.
    """
    ctx = ctx or context()
    at = now or dl.now()
    data = dict(data or {})
    if comment is not None and not isinstance(comment, str):
        raise BadInput("comment 须为文本 / 'comment' must be text")
    comment = (comment or "").strip()[:MAX_COMMENT] or None
    try:
        t = _transition(ctx, transition)
        roles = acting_roles(ctx, principal, t.name)
        if not roles:
            raise TransitionForbidden(f"您的角色不能执行“{t.label.zh}” / your role may not '{t.label.en}'")
        case_model = ctx.case_model
        if not _in_scope(session, ctx, principal, roles, case_id):
            raise CaseNotFound("案件不存在 / case not found")
        case = session.get(case_model, case_id, populate_existing=True)
        if case is None:
            raise CaseNotFound("案件不存在 / case not found")
        if expected_version is not None and case.version != expected_version:
            raise VersionConflict(f"案件已被他人修改（当前版本 {case.version}），请刷新后重试 / the case changed "
                                  f"(now version {case.version}): reload and try again")
        source = case.state
        if source not in t.sources:
            st = ctx.wf.states.get(source)
            raise WrongState(f"案件当前状态“{st.label.zh if st else source}”不能执行“{t.label.zh}” / "
                             f"'{t.label.en}' cannot run from state '{st.label.en if st else source}'")
        set_fields = _fields_from_data(session, ctx, t, source, principal, data)
        with session.no_autoflush:
            for key, value in set_fields.items():
                f = ctx.spec.entities[ctx.wf.entity].fields[key]
                setattr(case, names.column_name(f.name, f.type), value)
            lacking = guards.missing(session, ctx, t, case, comment, at.date())
        if lacking:
            raise GuardFailed(f"“{t.label.zh}”还缺 {len(lacking)} 项 / '{t.label.en}' lacks {len(lacking)} "
                              "requirement(s)", lacking)
        with session.no_autoflush:
            case.state = t.target
            done = effects.apply_effects(session, ctx, t.effects, case, principal, at)
            assigned = effects.apply_assign(session, ctx, t.assign, case, principal)
        session.flush()  # the version-guarded UPDATE and the created rows
        created = [{"entity": name, "id": obj.id} for name, obj in done["created"]]
        record: dict[str, Any] = {}
        if data:
            record["input"] = {k: v for k, v in data.items() if k != "fields"} or None
        if set_fields:
            record["fields"] = {k: _json(v) if v is not None else None for k, v in set_fields.items()}
        if done["set"]:
            record["set"] = {k: _json(v) if v is not None else None for k, v in done["set"].items()}
        if created:
            record["created"] = created
        if done["deadlines"]["start"] or done["deadlines"]["stop"]:
            record["deadlines"] = done["deadlines"]
        if assigned:
            record["assigned"] = assigned
        record = {k: v for k, v in record.items() if v is not None}
        h = ctx.tables.history
        row = {"case_id": case.id, "seq": case.version, "workflow": ctx.wf.name, "transition": t.name,
               "from_state": source, "to_state": t.target, "actor_user_id": principal.user_id,
               "actor_username": principal.username, "actor_org_id": principal.org_id,
               "actor_roles": ",".join(r.name for r in roles)[:256], "at": at, "comment": comment,
               "data": json.dumps(record, ensure_ascii=False, default=_json) if record else None}
        history_id = session.execute(insert(h).returning(h.id), [row]).scalar()
        from app.audit import log as audit

        audit.record_in(session.connection(), "transition", entity=ctx.wf.entity, record_id=case.id,
                        changes={"state": [source, t.target]},
                        detail=(f"{ctx.wf.name}.{t.name}" + (f": {comment}" if comment else ""))[:2000],
                        username=principal.username, user_id=principal.user_id,
                        table=ctx.reg.audit_log.__table__)
        dl.refresh(session, [case.id], at.date(), ctx)
        report = dl.case_deadlines(session, case.id, at.date(), ctx)
        version = case.version
        if commit:
            session.commit()
    except WorkflowError:
        session.rollback()
        raise
    except (StaleDataError, IntegrityError) as exc:
        session.rollback()
        raise VersionConflict("案件已被他人同时修改，请刷新后重试 / the case was changed by someone else at the same "
                              "time: reload and try again") from exc
    except OperationalError as exc:
        session.rollback()
        if "locked" in str(exc).lower() or "deadlock" in str(exc).lower():
            raise VersionConflict("案件正被他人修改，请稍后重试 / the case is being changed: try again") from exc
        raise
    except BaseException:
        session.rollback()
        raise
    return TransitionResult(case_id, t.name, source, t.target, version, history_id, at, assigned, created,
                            report.as_dict())


# ------------------------------------------------------------------ reading

def _field_form(ctx: Ctx, name: str, case: Any) -> dict[str, Any]:
    f = ctx.spec.entities[ctx.wf.entity].fields[name]
    value = getattr(case, names.column_name(f.name, f.type))
    out = {"name": name, "label": {"zh": f.label.zh, "en": f.label.en}, "type": f.type,
           "filled": not guards._empty(value)}
    if f.ref:
        out["ref"] = f.ref
    if f.enum:
        out["enum"] = f.enum
        out["choices"] = [{"value": k, "label": {"zh": v.zh, "en": v.en}}
                          for k, v in ctx.spec.enums[f.enum].values.items()]
    return out


def available(session: Any, case: Any, principal: Principal, now: Optional[dt.datetime] = None,
              ctx: Optional[Ctx] = None) -> list[dict[str, Any]]:
    """The transitions ``principal`` may take on ``case`` (an ORM row) from its current state.

    Each: ``name``, ``label`` {zh, en}, ``target``, ``target_label``, ``comment_required``,
    ``fields`` (the transition's required fields as form inputs: name, label, type, ref/enum
    choices, filled), ``attachments`` (required doc types), ``missing`` (unmet requirements, the
    comment excluded: it is given with the action), ``ready`` (nothing missing).
    """
    ctx = ctx or context()
    at = now or dl.now()
    scoped: dict[str, bool] = {}
    have: Optional[set[str]] = None
    out = []
    for t in ctx.wf.transitions.values():
        if case.state not in t.sources:
            continue
        roles = acting_roles(ctx, principal, t.name)
        if not roles:
            continue
        ok = False
        for r in roles:
            if r.name not in scoped:
                clause = role_scope(ctx, principal, r)
                if clause is None:
                    scoped[r.name] = True
                else:
                    m = ctx.case_model
                    scoped[r.name] = session.execute(select(m.id).where(m.id == case.id, clause)).first() is not None
            ok = ok or scoped[r.name]
        if not ok:
            continue
        if have is None and t.required_attachments:
            have = guards.attachment_types(session, ctx, case.id)
        lacking = guards.missing(session, ctx, t, case, None, at.date(), attachments=have, check_comment=False)
        target = ctx.wf.states[t.target]
        out.append({"name": t.name, "label": {"zh": t.label.zh, "en": t.label.en}, "target": t.target,
                    "target_label": {"zh": target.label.zh, "en": target.label.en},
                    "comment_required": t.comment_required,
                    "fields": [_field_form(ctx, n, case) for n in t.required_fields],
                    "attachments": list(t.required_attachments), "missing": lacking, "ready": not lacking})
    return out


def history(session: Any, case_id: int, ctx: Optional[Ctx] = None) -> list[dict[str, Any]]:
    """The case's timeline, oldest first: seq, transition (+ labels), from/to state (+ labels),
    actor (user id, username, org id, roles), at, comment, data."""
    ctx = ctx or context()
    h = ctx.tables.history
    out = []
    for r in session.execute(select(h).where(h.case_id == case_id).order_by(h.seq)).scalars():
        t = ctx.wf.transitions.get(r.transition)
        fs, ts = ctx.wf.states.get(r.from_state), ctx.wf.states.get(r.to_state)
        out.append({"id": r.id, "seq": r.seq, "transition": r.transition,
                    "label": {"zh": t.label.zh, "en": t.label.en} if t else {"zh": r.transition, "en": r.transition},
                    "from_state": r.from_state, "to_state": r.to_state,
                    "from_label": {"zh": fs.label.zh, "en": fs.label.en} if fs else None,
                    "to_label": {"zh": ts.label.zh, "en": ts.label.en} if ts else None,
                    "actor_user_id": r.actor_user_id, "actor_username": r.actor_username,
                    "actor_org_id": r.actor_org_id, "actor_roles": (r.actor_roles or "").split(",") if r.actor_roles else [],
                    "at": r.at.isoformat(), "comment": r.comment, "data": json.loads(r.data) if r.data else {}})
    return out


def readable_case(session: Any, case_id: int, principal: Principal, ctx: Optional[Ctx] = None) -> Any:
    """The case row if ``principal`` may read it (app/access/rules.py rules), else CaseNotFound."""
    ctx = ctx or context()
    m = ctx.case_model
    clause = ctx.access.clause(m, "read", p=principal)
    q = select(m).where(m.id == case_id)
    if clause is not None:
        q = q.where(clause)
    case = session.execute(q).scalars().first()
    if case is None:
        raise CaseNotFound("案件不存在 / case not found")
    return case


def case_view(session: Any, case_id: int, principal: Principal, today: Optional[dt.date] = None,
              ctx: Optional[Ctx] = None) -> dict[str, Any]:
    """Everything a case page shows, for a case the user may read: ``state`` (+ label, kind, level),
    ``version``, ``actions`` (:func:`available`), ``deadlines`` (+ ``warnings``), ``history``."""
    ctx = ctx or context()
    case = readable_case(session, case_id, principal, ctx)
    st = ctx.wf.states.get(case.state)
    report = dl.case_deadlines(session, case_id, today, ctx)
    return {"case_id": case.id, "state": case.state,
            "state_label": {"zh": st.label.zh, "en": st.label.en} if st else None,
            "kind": st.kind if st else None, "level": st.level if st else None, "final": bool(st and st.final),
            "version": case.version, "actions": available(session, case, principal, ctx=ctx),
            "deadlines": report.as_dict()["deadlines"], "warnings": report.warnings,
            "history": history(session, case_id, ctx)}
