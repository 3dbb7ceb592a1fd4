"""Statutory deadlines, computed from a case's history on every read.

A deadline of workflows.yaml runs from the moment a case *enters* one of its ``start`` states
(entering one again restarts it: a new mediation organisation, a new 15 days) until it enters one
of its ``stop`` states; while the case sits in a ``pause_in`` state the clock stands still (the
time in pause is added back, in the deadline's own day type).  A transition's effects may also
``start_deadline`` / ``stop_deadline`` explicitly (recorded in the history row's data).

    due = start date + days + approved extensions + time paused
          natural days: the last day moved to the next working day when it is not one
          working days:  counted after the start date on the Chinese calendar (calendar.py)

Status of each deadline as of ``today``:

    running:  on_time | due_soon (≤ ``due_soon_days`` working days left) | overdue
    paused:   paused
    stopped:  met (stopped on or before the due date) | missed (stopped after it)

Public API (the UI reads these; all pure reads unless stated):

    case_deadlines(session, case_id, today=None) -> DeadlineReport
        every deadline instance of the case (latest run of each), with warnings when a date lies
        outside the calendar's coverage
    deadlines_for(session, case_ids, today=None) -> {case_id: DeadlineReport}
        the same for a page of cases (one history query)
    extend(session, case_id, deadline, days, reason, principal=…, now=None) -> Extension row dict
        approve an extension (role of the deadline's ``extension.roles``, reason, capped at
        ``max_days`` per run); writes jf_deadline_extension + an audit row; commits
    refresh(session, case_ids, today=None)        rewrite the derived jf_case_deadline/jf_case_clock
                                                  rows of these cases (the engine calls it)
    recompute_open(session, all_cases=False)      rewrite them for every case with an open deadline
                                                  (after a calendar change): ``flask recompute-deadlines``
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

from sqlalchemy import delete, insert, select

from generator.spec import Deadline

from .calendar import DayCounter
from .common import (BadInput, CaseNotFound, Ctx, GuardFailed, TransitionForbidden, TransitionNotFound,
                     WrongState, context, roles_scope)

OPEN_STATUSES = ("on_time", "due_soon", "overdue", "paused")


def now() -> dt.datetime:
    """The workflow clock (local naive time, like the case's own timestamps); tests replace it."""
    return dt.datetime.now().replace(microsecond=0)


def today() -> dt.date:
    return now().date()


@dataclass(frozen=True)
class Step:
    """One history entry as the computation needs it."""
    at: dt.datetime
    to_state: str
    start: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()


@dataclass
class Run:
    name: str
    started_at: dt.datetime
    stopped_at: Optional[dt.datetime] = None
    pauses: list[tuple[dt.datetime, Optional[dt.datetime]]] = field(default_factory=list)

    @property
    def paused_now(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None and self.stopped_at is None


@dataclass
class DeadlineInfo:
    name: str
    label_zh: str
    label_en: str
    basis_zh: str
    day_type: str                 # natural / working
    days: int
    started_at: dt.datetime
    due_on: dt.date
    status: str                   # on_time / due_soon / overdue / paused / met / missed
    is_open: bool
    stopped_at: Optional[dt.datetime]
    paused_days: int              # in the deadline's day type
    extended_days: int
    extension_max: int            # 0: not extendable
    extension_roles: tuple[str, ...]
    remaining_days: int           # natural days from today to the due date (negative: overdue)
    remaining_working_days: int
    due_soon_days: int

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("started_at", "stopped_at", "due_on"):
            d[k] = d[k].isoformat() if d[k] is not None else None
        d["extension_roles"] = list(self.extension_roles)
        return d


@dataclass
class DeadlineReport:
    deadlines: list[DeadlineInfo]
    warnings: list[str]

    @property
    def open(self) -> list[DeadlineInfo]:
        return [d for d in self.deadlines if d.is_open]

    def as_dict(self) -> dict[str, Any]:
        return {"deadlines": [d.as_dict() for d in self.deadlines], "warnings": list(self.warnings)}


# ------------------------------------------------------------------ the computation (pure)

def runs(deadline: Deadline, steps: Sequence[Step]) -> Optional[Run]:
    """The latest run of ``deadline`` along ``steps`` (chronological), or None if it never started."""
    run: Optional[Run] = None
    for s in steps:
        if run is not None and run.paused_now and s.to_state not in deadline.pause_in:
            run.pauses[-1] = (run.pauses[-1][0], s.at)
        if s.to_state in deadline.start or deadline.name in s.start:
            run = Run(deadline.name, s.at)
        elif run is not None and run.stopped_at is None:
            if s.to_state in deadline.stop or deadline.name in s.stop:
                run.stopped_at = s.at
            elif s.to_state in deadline.pause_in and not run.paused_now:
                run.pauses.append((s.at, None))
    return run


def evaluate(deadline: Deadline, run: Run, extensions: Iterable[tuple[str, dt.datetime, int]],
             counter: DayCounter, as_of: dt.date) -> DeadlineInfo:
    """Due date and status of one run as of ``as_of``; ``extensions`` as (deadline, run start, days)."""
    extended = sum(days for name, started, days in extensions if name == deadline.name and started == run.started_at)
    paused = 0
    for p1, p2 in run.pauses:
        end = (p2 or run.stopped_at or dt.datetime.combine(as_of, dt.time())).date()
        if deadline.day_type == "working":
            paused += max(0, counter.working_days_between(p1.date(), end))
        else:
            paused += max(0, (end - p1.date()).days)
    start = run.started_at.date()
    total = deadline.days + extended + paused
    due = counter.add_working_days(start, total) if deadline.day_type == "working" \
        else counter.add_natural_days(start, total)
    if run.stopped_at is not None:
        status = "met" if run.stopped_at.date() <= due else "missed"
    elif run.paused_now:
        status = "paused"
    elif as_of > due:
        status = "overdue"
    elif counter.working_days_between(as_of, due) <= deadline.due_soon_days:
        status = "due_soon"
    else:
        status = "on_time"
    ext = deadline.extension
    return DeadlineInfo(
        name=deadline.name, label_zh=deadline.label.zh, label_en=deadline.label.en,
        basis_zh=deadline.basis.zh if deadline.basis else "", day_type=deadline.day_type, days=deadline.days,
        started_at=run.started_at, due_on=due, status=status, is_open=run.stopped_at is None,
        stopped_at=run.stopped_at, paused_days=paused, extended_days=extended,
        extension_max=ext.max_days if ext else 0, extension_roles=ext.roles if ext else (),
        remaining_days=(due - as_of).days, remaining_working_days=counter.working_days_between(as_of, due),
        due_soon_days=deadline.due_soon_days)


def compute(ctx: Ctx, steps: Sequence[Step], extensions: Sequence[tuple[str, dt.datetime, int]],
            as_of: dt.date) -> DeadlineReport:
    counter = DayCounter(ctx.calendar)
    out = []
    for d in ctx.wf.deadlines.values():
        run = runs(d, steps)
        if run is not None:
            out.append(evaluate(d, run, extensions, counter, as_of))
    out.sort(key=lambda i: (not i.is_open, i.due_on, i.name))
    return DeadlineReport(out, counter.warnings)


# ------------------------------------------------------------------ reading the database

def _steps_of(rows: Iterable[Any]) -> dict[int, list[Step]]:
    out: dict[int, list[Step]] = {}
    for case_id, at, to_state, data in rows:
        start: tuple[str, ...] = ()
        stop: tuple[str, ...] = ()
        if data and "deadlines" in data:
            try:
                dl = json.loads(data).get("deadlines") or {}
                start, stop = tuple(dl.get("start") or ()), tuple(dl.get("stop") or ())
            except (ValueError, AttributeError):
                pass
        out.setdefault(case_id, []).append(Step(at, to_state, start, stop))
    return out


def _load(session: Any, ctx: Ctx, case_ids: Sequence[int]) -> tuple[dict[int, list[Step]],
                                                                     dict[int, list[tuple[str, dt.datetime, int]]]]:
    h = ctx.tables.history
    e = ctx.tables.extension
    steps: dict[int, list[Step]] = {}
    exts: dict[int, list[tuple[str, dt.datetime, int]]] = {}
    for start in range(0, len(case_ids), 900):  # stay under SQLite's parameter limit
        chunk = list(case_ids[start:start + 900])
        rows = session.execute(select(h.case_id, h.at, h.to_state, h.data).where(h.case_id.in_(chunk))
                               .order_by(h.case_id, h.seq))
        steps.update(_steps_of(rows))
        for case_id, name, started, days in session.execute(
                select(e.case_id, e.deadline, e.instance_started_at, e.days).where(e.case_id.in_(chunk))):
            exts.setdefault(case_id, []).append((name, started, days))
    return steps, exts


def deadlines_for(session: Any, case_ids: Sequence[int], today_: Optional[dt.date] = None,
                  ctx: Optional[Ctx] = None) -> dict[int, DeadlineReport]:
    """Deadline reports of several cases, from their histories (no access check: callers filter)."""
    ctx = ctx or context()
    as_of = today_ or today()
    steps, exts = _load(session, ctx, list(case_ids))
    return {cid: compute(ctx, steps.get(cid, []), exts.get(cid, []), as_of) for cid in case_ids}


def case_deadlines(session: Any, case_id: int, today_: Optional[dt.date] = None,
                   ctx: Optional[Ctx] = None) -> DeadlineReport:
    return deadlines_for(session, [case_id], today_, ctx)[case_id]


# ------------------------------------------------------------------ the derived tables

def _derived_rows(case_id: int, report: DeadlineReport) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
    rows = []
    for d in report.deadlines:
        stored = "paused" if d.status == "paused" else ("running" if d.is_open else d.status)
        rows.append({"case_id": case_id, "deadline": d.name, "started_at": d.started_at, "due_on": d.due_on,
                     "stopped_at": d.stopped_at, "status": stored, "is_open": 1 if d.is_open else 0,
                     "paused_days": d.paused_days, "extended_days": d.extended_days})
    running = [d for d in report.deadlines if d.is_open and d.status != "paused"]
    first = min(running, key=lambda d: d.due_on) if running else None
    clock = {"case_id": case_id, "next_due_on": first.due_on, "next_deadline": first.name} if first else None
    return rows, clock


def refresh(session: Any, case_ids: Sequence[int], today_: Optional[dt.date] = None,
            ctx: Optional[Ctx] = None) -> int:
    """Rewrite jf_case_deadline and jf_case_clock for ``case_ids`` from their histories (in the
    caller's transaction).  Returns the number of open deadlines written."""
    ctx = ctx or context()
    t = ctx.tables
    reports = deadlines_for(session, case_ids, today_, ctx)
    rows: list[dict[str, Any]] = []
    clocks: list[dict[str, Any]] = []
    for cid, rep in reports.items():
        r, c = _derived_rows(cid, rep)
        rows += r
        if c:
            clocks.append(c)
    ids = list(case_ids)
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        session.execute(delete(t.deadline).where(t.deadline.case_id.in_(chunk)))
        session.execute(delete(t.clock).where(t.clock.case_id.in_(chunk)))
    for start in range(0, len(rows), 5000):
        session.execute(insert(t.deadline), rows[start:start + 5000])
    for start in range(0, len(clocks), 5000):
        session.execute(insert(t.clock), clocks[start:start + 5000])
    return sum(r["is_open"] for r in rows)


def recompute_open(session: Any, *, all_cases: bool = False, batch: int = 2000, ctx: Optional[Ctx] = None,
                   today_: Optional[dt.date] = None) -> int:
    """Recompute the derived rows of every case with an open deadline (``all_cases``: every case
    with a history), committing per batch; returns the number of cases recomputed."""
    ctx = ctx or context()
    t = ctx.tables
    if all_cases:
        q = select(t.history.case_id).distinct()
    else:
        q = select(t.deadline.case_id).where(t.deadline.is_open == 1).distinct()
    ids = sorted(session.scalars(q))
    for start in range(0, len(ids), batch):
        refresh(session, ids[start:start + batch], today_, ctx)
        session.commit()
    return len(ids)


# ------------------------------------------------------------------ extensions

def extend(session: Any, case_id: int, deadline: str, days: Any, reason: Optional[str], *, principal: Any,
           now_: Optional[dt.datetime] = None, ctx: Optional[Ctx] = None, commit: bool = True) -> dict[str, Any]:
    """Approve an extension of the running ``deadline`` of a case.

    Checks, in order: the deadline exists (404) and is extendable (422); the user holds a role of
    its ``extension.roles`` (403) whose scope covers the case (404); ``days`` is a positive integer
    and a reason is given when required (422); the deadline is running (409); all extensions of
    this run stay within ``max_days`` (422).  Writes the extension, the audit row and the derived
    rows in one transaction (committed unless ``commit=False``); any refusal changes nothing.
    """
    from app.audit import log as audit

    ctx = ctx or context()
    at = now_ or now()
    try:
        d = ctx.wf.deadlines.get(deadline)
        if d is None:
            raise TransitionNotFound(f"没有期限 {deadline} / no deadline '{deadline}'")
        if d.extension is None:
            raise BadInput(f"期限“{d.label.zh}”不能延长 / '{d.label.en}' cannot be extended")
        roles = [r for r in principal.roles if r.name in d.extension.roles]
        if not roles:
            raise TransitionForbidden(f"只有 {', '.join(d.extension.roles)} 可以批准延长 / only "
                                      f"{', '.join(d.extension.roles)} may approve an extension")
        case = ctx.case_model
        found = session.execute(select(case.id).where(case.id == case_id, roles_scope(ctx, principal, roles))).first()
        if found is None:
            raise CaseNotFound("案件不存在 / case not found")
        try:
            n = int(days)
            if isinstance(days, bool) or n != days and str(n) != str(days).strip():
                raise ValueError
        except (TypeError, ValueError):
            raise BadInput("延长天数须为正整数 / days must be a positive whole number") from None
        if n <= 0:
            raise BadInput("延长天数须为正整数 / days must be a positive whole number")
        if d.extension.reason_required and not (reason or "").strip():
            raise GuardFailed("须填写延长理由 / a reason is required",
                              [{"kind": "comment", "name": "reason", "label": {"zh": "延长理由", "en": "Reason"}}])
        steps, exts = _load(session, ctx, [case_id])
        run = runs(d, steps.get(case_id, []))
        if run is None or run.stopped_at is not None:
            raise WrongState(f"期限“{d.label.zh}”未在计时 / '{d.label.en}' is not running")
        used = sum(x[2] for x in exts.get(case_id, []) if x[0] == deadline and x[1] == run.started_at)
        if used + n > d.extension.max_days:
            raise BadInput(f"最多可延长 {d.extension.max_days} 天，已延长 {used} 天 / at most {d.extension.max_days} "
                           f"days in total, {used} already granted")
        row = {"case_id": case_id, "deadline": deadline, "instance_started_at": run.started_at, "days": n,
               "reason": (reason or "").strip(), "approved_by_id": principal.user_id,
               "approved_by": principal.username, "approver_role": roles[0].name, "at": at}
        session.execute(insert(ctx.tables.extension), [row])
        audit.record_in(session.connection(), "deadline_extension", entity=ctx.wf.entity, record_id=case_id,
                        changes={"deadline": deadline, "days": [used, used + n]},
                        detail=f"{ctx.wf.name}.{deadline} +{n}: {row['reason']}"[:2000],
                        username=principal.username, user_id=principal.user_id,
                        table=ctx.reg.audit_log.__table__)
        refresh(session, [case_id], at.date(), ctx)
        if commit:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    out = dict(row)
    out["instance_started_at"] = run.started_at.isoformat()
    out["at"] = at.isoformat()
    out["total_extended"] = used + n
    return out


def extensions_of(session: Any, case_id: int, ctx: Optional[Ctx] = None) -> list[dict[str, Any]]:
    ctx = ctx or context()
    e = ctx.tables.extension
    rows = session.execute(select(e).where(e.case_id == case_id).order_by(e.at, e.id)).scalars()
    return [{"deadline": r.deadline, "days": r.days, "reason": r.reason, "approved_by": r.approved_by,
             "approver_role": r.approver_role, "at": r.at.isoformat(),
             "instance_started_at": r.instance_started_at.isoformat()} for r in rows]


def as_steps(rows: Iterable[Mapping[str, Any]]) -> list[Step]:
    """Steps from plain dicts ``{"at", "to_state", "start"?, "stop"?}`` (tests, what-if views)."""
    return [Step(r["at"], r["to_state"], tuple(r.get("start", ())), tuple(r.get("stop", ()))) for r in rows]
