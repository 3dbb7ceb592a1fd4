"""Demo inspections (called at the end of ``app.demo.load_demo``): deterministic for a given day.

Every demo organisation the checklist applies to gets a plan by its position (org code order):
accredited, 基本达标 with an open rectification, 不达标 on a hard gate (some rectifications
overdue, one answered by the station), an accreditation that expired, a history of two visits,
or never inspected.  Dates count back from the demo's fixed "today" (``app.demo.BASE_DATE``), like
the rest of the demo: the same data on every load.
``YX-DEMO-E001`` (the station of ``station_head_t1s1``) fails its seal custody log (S3) and has an
open rectification; ``YX-DEMO-E002`` fails the seal gate (S1), so it cannot seal agreements.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import select

from generator.spec import AppSpec

from app.checklists import rules
from app.checklists.definitions import Definition, Versions
from app.checklists.service import Tracker

PLANS = ("pass", "basic", "pass", "fail", "expired", "pass", "history", "basic_answered", "pass", "never",
         "fail_overdue", "pass")
FORCED = {"YX-DEMO-E001": "basic", "YX-DEMO-E002": "fail_seal", "YX-DEMO-E006": "pass", "YX-DEMO-CC": "pass",
          "YX-DEMO-T01": "pass", "YX-DEMO-T02": "expired", "YX-DEMO-I01": "pass"}
INSPECTORS = "县人社局 王建国、县仲裁院 李明（演示）"
# A 1×1 JPEG and a one-page PDF: the demo's evidence files (written under UPLOAD_DIR at fixed keys).
DEMO_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////"
    "////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=")
DEMO_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
EVIDENCE = (("p1", "标牌照片（演示）.jpg", DEMO_JPEG, "image/jpeg"), ("s1", "印模扫描件（演示）.pdf", DEMO_PDF, "application/pdf"))


def _evidence(session: Any, t: Tracker, insp: Any, on: _dt.date) -> None:
    """Two evidence files on the inspection (plaque photo, seal impression) at fixed keys, stored
    through the file service (app/files) with the rows' flush."""
    from flask import has_app_context

    from app.files import service as files

    if not has_app_context():
        return
    rows = t.rows(session, insp)
    for sub, name, data, ctype in EVIDENCE:
        row = rows.get(sub)
        if row is None:
            continue
        digest = hashlib.sha256(f"{insp.inspection_no}/{sub}".encode()).hexdigest()[:32]
        ev = t.Ev(item_result=row, evidence_kind="photo" if ctype.startswith("image/") else "document", caption=name,
                  captured_at=_dt.datetime.combine(on, _dt.time(10, 0)), sha256=hashlib.sha256(data).hexdigest(),
                  file_name=name, content_type=ctype, size_bytes=len(data))
        ext = "jpg" if ctype == "image/jpeg" else "pdf"
        ev.evidence_file = files.stage_bytes(session, "evidence", "evidence_file", name, data, obj=ev,
                                             key=f"ev/{on:%Y}/{on:%m}/{digest}.{ext}")
        session.add(ev)


def _fill(t: Tracker, d: Definition, insp: Any, rows: Mapping[str, Any], fail: tuple[str, ...], on: _dt.date) -> None:
    for code, row in rows.items():
        s = d.subs.get(code)
        if s is None:
            continue
        if code in fail:
            row.item_result = "fail"
            row.note = "现场未能提供（演示）"
            if s.number is not None and s.number.threshold is not None:
                row.observed_value = Decimal(str(s.number.threshold)) - 1
            if s.validity is not None:
                row.observed_date = on - _dt.timedelta(days=40) if not s.validity.within_months \
                    else rules.add_months(on, -(s.validity.within_months + 3))
            continue
        row.item_result = "not_applicable" if code == "s5" else "pass"
        if s.number is not None and s.number.threshold is not None:
            row.observed_value = Decimal(str(s.number.threshold)) + (2 if s.number.compare == "at_least" else -1)
        if s.validity is not None:
            row.observed_date = rules.add_months(on, -6) if s.validity.within_months else rules.add_months(on, 10)


def _visit(session: Any, t: Tracker, org: Any, kind: str, on: _dt.date, fail: tuple[str, ...],
           submitted_on: _dt.date) -> Any:
    insp = t.start(session, org, kind, _dt.datetime.combine(on, _dt.time(9, 30)), place="站点现场（演示）",
                   inspectors=INSPECTORS)
    d = t.current_def
    _fill(t, d, insp, t.rows(session, insp), fail, on)
    _evidence(session, t, insp, on)
    session.flush()
    t.submit(session, insp, today=submitted_on)
    return insp


def load(session: Any, spec: AppSpec, models: Mapping[str, type], today: _dt.date | None = None) -> int:
    if spec.tracked_checklist() is None or "inspection" not in models:
        return 0
    from app.demo.markers import BASE_DATE

    today = today or BASE_DATE
    t = Tracker(spec, models, Versions(spec.checklists, table=None))
    Org = models[spec.org_tree.entity]
    type_col = getattr(Org, spec.org_tree.type_field)
    orgs = list(session.scalars(select(Org).where(Org.org_code.like("YX-DEMO-%"),
                                                 type_col.in_(t.cl.applies_to)).order_by(Org.org_code)))
    made = 0
    for i, org in enumerate(orgs):
        plan = FORCED.get(org.org_code, PLANS[i % len(PLANS)])
        d = t.current_def
        subs = {s.name for s in d.applicable(getattr(org, spec.org_tree.type_field))}
        gate = next((s for s in ("m3", "s2", "r2", "m1") if s in subs), None)
        soft = next((s for s in ("s3", "m4", "f3", "r3") if s in subs), None)
        recent = today - _dt.timedelta(days=20 + (i * 7) % 200)
        if plan == "never":
            continue
        if plan == "pass":
            _visit(session, t, org, "initial", recent, (), recent)
        elif plan in ("basic", "basic_answered"):
            insp = _visit(session, t, org, "annual", recent, (soft,) if soft else (), today - _dt.timedelta(days=5))
            if plan == "basic_answered":
                for rect in session.scalars(select(t.Rect).where(t.Rect.inspection_id == insp.id)):
                    t.respond(session, rect, "已补充建立相关制度并报送材料（演示）")
        elif plan == "fail":
            _visit(session, t, org, "annual", recent, tuple(s for s in (gate, soft) if s), today - _dt.timedelta(days=3))
        elif plan == "fail_seal":
            _visit(session, t, org, "spot", recent, tuple(s for s in ("s1", "s3") if s in subs), today - _dt.timedelta(days=2))
        elif plan == "fail_overdue":
            on = today - _dt.timedelta(days=75)
            _visit(session, t, org, "spot", on, (gate,) if gate else (), on)
        elif plan == "expired":
            on = rules.add_months(today, -14)
            _visit(session, t, org, "initial", on, (), on)
        elif plan == "history":
            old = rules.add_months(today, -11)
            first = _visit(session, t, org, "initial", old, (soft,) if soft else (), old)
            for rect in session.scalars(select(t.Rect).where(t.Rect.inspection_id == first.id)):
                t.respond(session, rect, "已整改（演示）")
                t.close(session, rect, "inspector", today=old + _dt.timedelta(days=20))
            _visit(session, t, org, "recheck", today - _dt.timedelta(days=10), (), today - _dt.timedelta(days=10))
        made += 1
    session.flush()
    return made
