"""Inspections, rectifications and the tracker's read models, on the generated entities.

Entities (config/entities.yaml): ``inspection`` (one visit; stores ``checklist_version``, the
computed ``overall_result``, ``valid_until`` and ``item_summary``), ``inspection_item_result``
(one row per applicable sub-item), ``evidence`` (files of an item result, or of a
rectification's answer), ``rectification`` (one per failed sub-item), ``org`` (the station;
``wuyou_status`` and ``wuyou_valid_until`` mirror its current inspection).

The *current accreditation* of a station is its latest submitted inspection (highest id among
non-draft ones).  Its status is shown as ``expired`` once ``valid_until`` has passed.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping, Optional

from sqlalchemy import false, func, select

from generator import names
from generator.spec import AppSpec

from app.files import service as files
from app.files.rules import Upload

from . import rules
from .definitions import Definition, Versions

OPEN_RECT = ("issued", "in_progress", "submitted", "overdue")
EVIDENCE_KIND = {"image": "photo", "pdf": "document"}  # upload kind (app/files) -> evidence_kind


class Refused(Exception):
    def __init__(self, zh: str, en: str, status: int = 400) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en, self.status = zh, en, status


@dataclass
class OrgInfo:
    id: int
    code: str
    name: str
    org_type: str
    parent_id: Optional[int]
    status: Optional[str]
    head_name: Optional[str] = None
    level: Optional[str] = None
    township_id: Optional[int] = None


@dataclass
class Current:
    """A station's current inspection as the board needs it."""
    inspection_id: int
    inspection_no: str
    conducted: Optional[_dt.date]
    version: Optional[int]
    overall: Optional[str]
    valid_until: Optional[_dt.date]
    items: dict[str, str] = field(default_factory=dict)


class Tracker:
    def __init__(self, spec: AppSpec, models: Mapping[str, type], versions: Versions,
                 checklist: Optional[str] = None) -> None:
        self.spec = spec
        self.m = models
        self.versions = versions
        tracked = spec.tracked_checklist()
        self.name = checklist or (tracked.name if tracked else "")
        self.cl = spec.checklists[self.name]
        tree = spec.org_tree
        self.Org = models[tree.entity]
        self.Insp = models["inspection"]
        self.Row = models["inspection_item_result"]
        self.Ev = models["evidence"]
        self.Rect = models["rectification"]
        self.parent_col = names.column_name(tree.parent_field, "ref")
        self.type_col = tree.type_field
        self.township_types = frozenset(tree.levels.get("township", ()))

    @property
    def current_def(self) -> Definition:
        return self.versions.current[self.name]

    def definition(self, session: Any, version: Optional[int]) -> Definition:
        return self.versions.get(session, self.name, version)

    # ================================================================== orgs
    def orgs(self, session: Any) -> dict[int, OrgInfo]:
        O = self.Org
        cols = [O.id, O.org_code, O.official_name, getattr(O, self.type_col), getattr(O, self.parent_col), O.status,
                O.head_name]
        out = {r[0]: OrgInfo(r[0], r[1], r[2], r[3], r[4], r[5], r[6], self.spec.org_tree.level_of(r[3] or ""))
               for r in session.execute(select(*cols))}
        for o in out.values():
            seen, cur = set(), o.id
            while cur is not None and cur not in seen:
                seen.add(cur)
                c = out.get(cur)
                if c is None:
                    break
                if c.org_type in self.township_types:
                    o.township_id = c.id
                    break
                cur = c.parent_id
        return out

    def stations(self, session: Any, visible: Optional[frozenset[int]], level: str = "",
                 township: Optional[int] = None,
                 every: Optional[dict[int, OrgInfo]] = None) -> tuple[list[OrgInfo], dict[int, OrgInfo]]:
        """Orgs the checklist applies to, in scope, not revoked, filtered; and the whole tree."""
        every = every if every is not None else self.orgs(session)
        out = [o for o in every.values()
               if o.org_type in self.cl.applies_to and o.status != "revoked"
               and (visible is None or o.id in visible)
               and (not level or o.level == level)
               and (township is None or o.township_id == township)]
        out.sort(key=lambda o: o.code or "")
        return out, every

    # ================================================================== current inspections
    def current(self, session: Any, org_ids: Optional[Iterable[int]] = None) -> dict[int, Current]:
        I = self.Insp
        latest = (select(func.max(I.id).label("id")).where(I.inspection_status != "draft")
                  .group_by(I.org_id).subquery())
        q = select(I.id, I.org_id, I.inspection_no, I.conducted_at, I.checklist_version, I.overall_result,
                   I.valid_until, I.item_summary).join(latest, latest.c.id == I.id)
        out = {}
        wanted = set(org_ids) if org_ids is not None else None
        for r in session.execute(q):
            if wanted is not None and r.org_id not in wanted:
                continue
            out[r.org_id] = Current(r.id, r.inspection_no, r.conducted_at.date() if r.conducted_at else None,
                                    r.checklist_version, r.overall_result, r.valid_until,
                                    json.loads(r.item_summary) if r.item_summary else {})
        return out

    @staticmethod
    def status_of(cur: Optional[Current], today: _dt.date) -> str:
        if cur is None or not cur.overall:
            return "not_rated"
        if cur.overall in rules.PASSING and (cur.valid_until is None or cur.valid_until < today):
            return "expired"
        return cur.overall

    def item_passing(self, session: Any, item: str, org_id: int, on_date: _dt.date) -> bool:
        """The org's current accreditation for ``item`` passes on ``on_date``: its latest submitted
        inspection made on or before that day rated the item 达标 or 基本达标 (no hard gate of it
        failed) and lies within the validity period of the version it was made under."""
        I = self.Insp
        end = _dt.datetime.combine(on_date, _dt.time.max)
        row = session.execute(
            select(I.conducted_at, I.checklist_version, I.item_summary)
            .where(I.org_id == org_id, I.inspection_status != "draft", I.conducted_at <= end)
            .order_by(I.conducted_at.desc(), I.id.desc()).limit(1)).first()
        if row is None or not row.item_summary:
            return False
        d = self.definition(session, row.checklist_version)
        if on_date > rules.add_months(row.conducted_at.date(), d.validity_months):
            return False
        return json.loads(row.item_summary).get(item) in rules.PASSING

    # ================================================================== inspections
    def next_no(self, session: Any, today: _dt.date) -> str:
        prefix = f"WY-{today:%Y}-"
        last = session.execute(select(func.max(self.Insp.inspection_no))
                               .where(self.Insp.inspection_no.like(prefix + "%"))).scalar()
        n = int(last[len(prefix):]) + 1 if last and last[len(prefix):].isdigit() else 1
        return f"{prefix}{n:05d}"

    def start(self, session: Any, org: Any, inspection_type: str, conducted_at: _dt.datetime,
              place: Optional[str] = None, inspectors: Optional[str] = None,
              copy_from: Optional[Any] = None) -> Any:
        """A draft inspection under the current version, one pending row per applicable sub-item
        (a re-check copies the previous results of the sub-items that still exist)."""
        otype = getattr(org, self.type_col)
        if otype not in self.cl.applies_to:
            raise Refused(f"{self.cl.label.zh}不适用于该类组织（{otype}）", f"the checklist does not apply to org type {otype}")
        d = self.current_def
        insp = self.Insp(inspection_no=self.next_no(session, conducted_at.date()), org=org,
                         checklist_version=d.version, inspection_type=inspection_type, conducted_at=conducted_at,
                         place=place, inspectors=inspectors, inspection_status="draft")
        session.add(insp)
        previous = {}
        if copy_from is not None:
            previous = {r.sub_item_code: r for r in session.scalars(select(self.Row).where(self.Row.inspection_id == copy_from.id))}
        for s in d.applicable(otype):
            p = previous.get(s.name)
            session.add(self.Row(inspection=insp, item_code=s.item, sub_item_code=s.name,
                                 item_result=(p.item_result if p is not None and p.item_result != "fail" else "pending"),
                                 observed_value=p.observed_value if p is not None else None,
                                 observed_date=p.observed_date if p is not None else None,
                                 note=p.note if p is not None else None))
        session.flush()
        return insp

    def rows(self, session: Any, insp: Any) -> dict[str, Any]:
        return {r.sub_item_code: r for r in session.scalars(select(self.Row).where(self.Row.inspection_id == insp.id))}

    def evidence_of(self, session: Any, row_ids: Iterable[int]) -> dict[int, list[Any]]:
        ids = list(row_ids)
        out: dict[int, list[Any]] = {i: [] for i in ids}
        if ids:
            for ev in session.scalars(select(self.Ev).where(self.Ev.item_result_id.in_(ids)).order_by(self.Ev.id)):
                out.setdefault(ev.item_result_id, []).append(ev)
        return out

    def record(self, session: Any, insp: Any, values: Mapping[str, Mapping[str, Any]]) -> None:
        """Write the form's values: ``{sub: {result, value, date, note}}`` (missing keys untouched)."""
        if insp.inspection_status != "draft":
            raise Refused("检查已提交，不能再修改", "the inspection is submitted: it can no longer change", 409)
        rows = self.rows(session, insp)
        for sub, v in values.items():
            row = rows.get(sub)
            if row is None:
                continue
            if v.get("result") in rules.RESULTS:
                row.item_result = v["result"]
            if "value" in v:
                raw = (v.get("value") or "").strip() if isinstance(v.get("value"), str) else v.get("value")
                try:
                    row.observed_value = Decimal(str(raw)) if raw not in (None, "") else None
                except InvalidOperation:
                    raise Refused(f"“{sub}”的实测值不是数字：{raw}", f"observed value of {sub} is not a number: {raw}")
            if "date" in v:
                row.observed_date = _date(v.get("date"))
            if "note" in v:
                row.note = (v.get("note") or "").strip() or None

    def attach(self, session: Any, row: Any, up: Upload, user_id: Optional[int],
               rectification: Any = None, caption: Optional[str] = None) -> tuple[Any, str]:
        """An evidence row for ``up`` through the file service (app/files): the file is written with
        the row's flush and removed again if the transaction does not commit.  (row, key)"""
        ev = self.Ev(item_result=row, evidence_kind=EVIDENCE_KIND.get(up.kind, "document"),
                     caption=(caption or up.name)[:200], captured_at=_dt.datetime.now().replace(microsecond=0),
                     sha256=up.sha256, file_name=up.name, content_type=up.content_type, size_bytes=up.size,
                     captured_by_id=user_id, rectification=rectification)
        ev.evidence_file = key = files.stage(session, up, "evidence", "evidence_file", obj=ev, prefix="ev")
        session.add(ev)
        return ev, key

    def evidence_usage(self, session: Any, row_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """Per item-result row: (evidence files, their bytes) — the per-record upload quota."""
        ids = list(row_ids)
        if not ids:
            return {}
        E = self.Ev
        q = (select(E.item_result_id, func.count(E.id), func.coalesce(func.sum(E.size_bytes), 0))
             .where(E.item_result_id.in_(ids)).group_by(E.item_result_id))
        return {rid: (int(n), int(size)) for rid, n, size in session.execute(q)}

    def submit(self, session: Any, insp: Any, today: Optional[_dt.date] = None) -> list[Any]:
        """Rate the inspection, open a rectification per failed sub-item, update the station."""
        if insp.inspection_status != "draft":
            raise Refused("检查已提交", "the inspection is already submitted", 409)
        today = today or _dt.date.today()
        d = self.definition(session, insp.checklist_version)
        org = insp.org
        otype = getattr(org, self.type_col)
        rows = self.rows(session, insp)
        pending = [s.label.zh for s in d.applicable(otype) if getattr(rows.get(s.name), "item_result", "pending") == "pending"]
        if pending:
            raise Refused(f"还有 {len(pending)} 个细项未评定：{'、'.join(pending[:6])}{'…' if len(pending) > 6 else ''}",
                          f"{len(pending)} sub-items have no result yet")
        on = insp.conducted_at.date() if insp.conducted_at else today
        data = {k: {"result": r.item_result, "value": r.observed_value, "date": r.observed_date} for k, r in rows.items()}
        bad = rules.contradictions(d, otype, data, on)
        if bad:
            raise Refused("；".join(b[1] for b in bad), "; ".join(b[2] for b in bad))
        results = {k: r.item_result for k, r in rows.items()}
        result = rules.overall(d, otype, results)
        insp.overall_result = result
        insp.valid_until = rules.valid_until(d, on, result)
        insp.item_summary = json.dumps(rules.item_results(d, otype, results), ensure_ascii=False, sort_keys=True)
        insp.submitted_at = _dt.datetime.now().replace(microsecond=0)
        opened = []
        due = rules.rectification_due(d, today)
        subs = d.subs
        for code, r in sorted(rows.items()):
            if r.item_result != "fail":
                continue
            s = subs.get(code)
            req = (s.requirement.zh if s and s.requirement else (s.label.zh if s else code))
            if r.note:
                req = f"{req}\n检查说明：{r.note}"
            rect = self.Rect(inspection=insp, org=org, item_code=r.item_code, sub_item_code=code, requirement=req,
                             due_date=due, rectification_status="issued")
            session.add(rect)
            opened.append(rect)
        insp.inspection_status = "rectifying" if opened else "published"
        session.flush()
        latest = session.execute(select(func.max(self.Insp.id)).where(
            self.Insp.org_id == org.id, self.Insp.inspection_status != "draft")).scalar()
        if latest == insp.id:
            org.wuyou_status = result
            org.wuyou_valid_until = insp.valid_until
        return opened

    # ================================================================== rectifications
    def respond(self, session: Any, rect: Any, text: str) -> None:
        if rect.rectification_status == "verified":
            raise Refused("整改已验收销号", "the rectification is already closed", 409)
        if not (text or "").strip():
            raise Refused("请填写整改情况说明", "describe what was done")
        rect.response = text.strip()
        rect.rectification_status = "submitted"

    def close(self, session: Any, rect: Any, verifier: str, today: Optional[_dt.date] = None) -> None:
        if rect.rectification_status == "verified":
            raise Refused("整改已验收销号", "the rectification is already closed", 409)
        rect.rectification_status = "verified"
        rect.verified_by = verifier[:100]
        rect.closed_at = today or _dt.date.today()
        session.flush()
        insp = rect.inspection
        still = session.execute(select(func.count(self.Rect.id)).where(
            self.Rect.inspection_id == insp.id, self.Rect.rectification_status != "verified")).scalar()
        if not still:
            insp.inspection_status = "closed"

    def row_for(self, session: Any, rect: Any) -> Any:
        return session.execute(select(self.Row).where(self.Row.inspection_id == rect.inspection_id,
                                                      self.Row.sub_item_code == rect.sub_item_code)).scalar_one_or_none()

    # ================================================================== lists
    def orgs_with_open_rectifications(self, session: Any) -> set[int]:
        R = self.Rect
        return set(session.scalars(select(R.org_id).where(R.rectification_status.in_(OPEN_RECT)).distinct()))

    def open_rectifications(self, session: Any, visible: Optional[frozenset[int]], today: _dt.date) -> list[dict[str, Any]]:
        R = self.Rect
        q = select(R).where(R.rectification_status.in_(OPEN_RECT)).order_by(R.due_date, R.id)
        if visible is not None:
            q = q.where(R.org_id.in_(visible) if visible else false())
        out = []
        for r in session.scalars(q):
            out.append({"rect": r, "overdue": r.due_date is not None and r.due_date < today})
        return out

    def reinspections(self, session: Any, stations: list[OrgInfo], today: _dt.date) -> list[dict[str, Any]]:
        """Stations whose re-inspection is overdue, due within ``due_soon_days``, or never inspected."""
        cur = self.current(session, [o.id for o in stations])
        soon = today + _dt.timedelta(days=self.current_def.due_soon_days)
        out = []
        for o in stations:
            c = cur.get(o.id)
            if c is None or c.conducted is None:
                out.append({"org": o, "current": None, "due": None, "state": "never"})
                continue
            due = rules.add_months(c.conducted, self.definition(session, c.version).reinspect_months)
            if c.valid_until is not None:
                due = min(due, c.valid_until)
            if due < today:
                out.append({"org": o, "current": c, "due": due, "state": "overdue"})
            elif due <= soon:
                out.append({"org": o, "current": c, "due": due, "state": "due"})
        order = {"overdue": 0, "never": 1, "due": 2}
        out.sort(key=lambda x: (order[x["state"]], x["due"] or _dt.date.max, x["org"].code))
        return out

    def history(self, session: Any, org_id: int, include_drafts: bool) -> list[Any]:
        I = self.Insp
        q = select(I).where(I.org_id == org_id).order_by(I.conducted_at.desc(), I.id.desc())
        if not include_drafts:
            q = q.where(I.inspection_status != "draft")
        return list(session.scalars(q))

    # ================================================================== coverage
    def coverage(self, session: Any, visible: Optional[frozenset[int]], today: _dt.date) -> dict[str, Any]:
        stations, every = self.stations(session, visible)
        cur = self.current(session, [o.id for o in stations])
        status = {o.id: self.status_of(cur.get(o.id), today) for o in stations}
        levels = []
        for t in self.spec.targets.values():
            of = [o for o in stations if o.org_type in t.org_types]
            built = [o for o in of if o.status in ("operating", "suspended")]
            passed = [o for o in built if status[o.id] == "pass"]
            basic = [o for o in built if status[o.id] == "basic"]
            levels.append({"name": t.name, "label": t.label, "target": t.count, "built": len(built),
                           "accredited": len(passed), "basic": len(basic),
                           "share": (len(passed) / len(built)) if built else None,
                           "gap": max(t.count - len(passed), 0)})
        towns: dict[Optional[int], dict[str, Any]] = {}
        for o in stations:
            key = o.township_id
            t = towns.setdefault(key, {"org": every.get(key) if key else None, "total": 0, "pass": 0, "basic": 0,
                                       "fail": 0, "expired": 0, "not_rated": 0})
            t["total"] += 1
            t[status[o.id]] = t.get(status[o.id], 0) + 1
        township_rows = sorted(towns.values(), key=lambda t: (t["org"] is None, t["org"].code if t["org"] else ""))
        for t in township_rows:
            t["share"] = t["pass"] / t["total"] if t["total"] else None
        item_fail: dict[str, int] = {}
        for c in cur.values():
            for item, res in c.items.items():
                if res == "fail":
                    item_fail[item] = item_fail.get(item, 0) + 1
        sub_fail: dict[str, int] = {}
        ids = [c.inspection_id for c in cur.values()]
        if ids:
            R = self.Row
            q = (select(R.sub_item_code, func.count()).where(R.item_result == "fail")
                 .where(R.inspection_id.in_(select(self.Insp.id).where(self.Insp.id.in_(ids))))
                 .group_by(R.sub_item_code))
            sub_fail = {code: n for code, n in session.execute(q)}
        totals = {k: sum(1 for v in status.values() if v == k) for k in ("pass", "basic", "fail", "expired", "not_rated")}
        return {"levels": levels, "townships": township_rows, "item_fail": item_fail,
                "sub_fail": sorted(sub_fail.items(), key=lambda kv: (-kv[1], kv[0]))[:10],
                "totals": totals, "stations": len(stations)}


def _date(v: Any) -> Optional[_dt.date]:
    if v in (None, ""):
        return None
    if isinstance(v, _dt.date):
        return v
    try:
        return _dt.date.fromisoformat(str(v).strip())
    except ValueError:
        raise Refused(f"日期格式应为 YYYY-MM-DD：{v}", f"dates are YYYY-MM-DD: {v}")


def visible_orgs(access: Any, entity: str = "inspection", action: str = "read") -> Optional[frozenset[int]]:
    """Org ids the signed-in user's roles cover for ``action`` on ``entity``; None = every org."""
    if access is None:
        return None
    p = access.principal()
    if p is None:
        return None
    roles = access.granting_roles(p, entity, action)
    if any(r.admin or r.scope in ("all", "county") for r in roles):
        return None
    out: set[int] = set()
    for r in roles:
        out |= access.orgs_of(p, r)
    return frozenset(out)
