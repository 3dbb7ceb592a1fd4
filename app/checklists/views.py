"""The 五有达标 pages: board, coverage, due re-inspections, open rectifications, station history,
inspection recording, evidence upload/download, rectification answer/close/re-inspect, Excel.

Permissions: every page needs ``can_read`` on ``inspection`` (roles.yaml ``inspection: [read]``);
the Excel exports need ``can_export`` on ``inspection``; recording needs the checklist grants
(``five_essentials.inspect`` to record, ``.submit`` to submit, ``.rectify`` to answer a
rectification, ``.close`` to close or re-inspect one).  Rows follow the data scopes of
``app/access/rules.py``: an inspection, rectification or evidence file out of scope answers 404.
"""

from __future__ import annotations

import datetime as _dt
import json
from types import SimpleNamespace
from typing import Any, Optional
from urllib.parse import quote

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select

from generator.spec import CHECKLIST_PAGES
from generator.builders.views import lang

from app.access import rules as access_mod
from app.audit import log as audit
from app.files import rules as upload_rules
from app.files import service as files
from app.files.rules import Limits

from . import exporting, rules
from .service import Refused, Tracker, visible_orgs

PERMISSION = "inspection"
PAGES = ("board", "coverage", "due", "rectifications", "station", "new", "inspection", "save", "evidence_file",
         "rectification", "respond", "close", "reinspect", "board_xlsx", "coverage_xlsx")


class ChecklistView(BaseView):
    route_base = "/checklists"
    class_permission_name = PERMISSION
    method_permission_name = {p: "read" for p in PAGES}
    # The same set the generated inspection views hold: FAB's permission update removes, from a
    # view-menu, every permission the last registered view on it does not list.
    base_permissions = ["can_read", "can_create", "can_update", "can_delete", "can_export"]
    default_view = "board"
    # ------------------------------------------------------------------ helpers
    @property
    def jf_checklist(self) -> str:
        """The checklist these pages follow (``AppSpec.tracked_checklist``: 五有, 六有, …)."""
        return next(iter(current_app.extensions["jiefen_checklists"]))

    @property
    def t(self) -> Tracker:
        return current_app.extensions["jiefen_checklists"][self.jf_checklist]

    def title(self, page: str) -> str:
        """A page's name from checklists.yaml (``pages``, else made from the checklist's label)."""
        return self.t.cl.page_label(page).get(lang())

    @property
    def session(self) -> Any:
        return current_app.appbuilder.sm.session

    def access(self) -> Any:
        return access_mod.current()

    def may(self, action: str) -> bool:
        a = self.access()
        p = a.principal() if a else None
        if p is None:
            return False
        cl = self.jf_checklist
        return any(r.admin or f"{cl}.{action}" in r.checklists or f"{cl}.*" in r.checklists for r in p.roles)

    def require(self, action: str) -> None:
        if not self.may(action):
            audit.record("denied", entity="inspection", detail=f"checklist action {self.jf_checklist}.{action}")
            abort(403)

    def may_export(self) -> bool:
        return bool(current_app.appbuilder.sm.has_access("can_export", PERMISSION))

    def visible(self) -> Optional[frozenset[int]]:
        return visible_orgs(self.access())

    def row_or_404(self, model: type, pk: Any, action: str = "read") -> Any:
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            abort(404)
        a = self.access()
        if a is not None and not a.allows(self.session, model, pk, action):
            abort(404)
        obj = self.session.get(model, pk)
        if obj is None:
            abort(404)
        return obj

    def read_uploads(self, pairs: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
        """``[(item-result row, FileStorage)]`` of a request → ``[(row, Upload)]`` under the checklist's
        ``uploads`` limits (config/checklists.yaml): the request's size and file count, each file's
        size and type, and per row (a sub-item of the inspection) its file count and total size.
        Raises ``upload_rules.Refused`` before anything is stored."""
        limits = Limits.for_checklist(self.t.cl)
        upload_rules.check_request_size(request.content_length)
        sent = [(row, fs) for row, fs in pairs if fs is not None and fs.filename]
        ups = upload_rules.read_all([fs for _row, fs in sent], limits)
        out = [(row, up) for (row, _fs), up in zip(sent, ups)]
        usage = self.t.evidence_usage(self.session, {row.id for row, _up in out})
        for row in {row for row, _up in out}:
            have = usage.get(row.id, (0, 0))
            upload_rules.check_quota(limits, have[0], have[1], [up for r, up in out if r is row])
        return out

    def refused_upload(self, exc: upload_rules.Refused, record_id: Any) -> None:
        self.session.rollback()
        files.audit_refused_upload("evidence", None, f"{self.jf_checklist} {record_id}", exc)

    def page(self, template: str, **kw: Any) -> Any:
        spec = self.t.spec
        lg = lang()
        enums = spec.enums

        def enum_label(enum: str, value: Any) -> str:
            e = enums.get(enum)
            if value is None or e is None or value not in e.values:
                return "—" if value in (None, "") else str(value)
            return e.values[value].get(lg)

        pages = {p: self.t.cl.page_label(p).get(lg) for p in CHECKLIST_PAGES}
        return self.render_template(f"jiefen/checklists/{template}", lang=lg, zh=lg == "zh", t=self.t,
                                    enum_label=enum_label, may=self.may, may_export=self.may_export(),
                                    today=_dt.date.today(), pages=pages, **kw)

    def filters(self) -> tuple[str, Optional[int]]:
        level = request.args.get("level", "")
        if level not in self.t.spec.org_tree.levels:
            level = ""
        try:
            township = int(request.args["township"]) if request.args.get("township") else None
        except ValueError:
            township = None
        return level, township

    def board_data(self) -> dict[str, Any]:
        level, township = self.filters()
        visible = self.visible()
        every = self.t.orgs(self.session)
        scoped, _ = self.t.stations(self.session, visible, every=every)
        stations = [o for o in scoped if (not level or o.level == level)
                    and (township is None or o.township_id == township)]
        cur = self.t.current(self.session, [o.id for o in stations] if len(stations) < 500 else None)
        today = _dt.date.today()
        towns = sorted({o.township_id for o in scoped if o.township_id}, key=lambda i: every[i].code)
        return {"stations": stations, "every": every, "current": cur, "items": self.t.current_def.items,
                "level": level, "township": township, "townships": [every[i] for i in towns],
                "status": {o.id: self.t.status_of(cur.get(o.id), today) for o in stations},
                "open_rects": self.t.orgs_with_open_rectifications(self.session)}

    def board_rows_html(self, data: dict[str, Any]) -> Markup:
        """The board's rows, built here rather than in Jinja (1,000 stations × items)."""
        lg = lang()
        enums = self.t.spec.enums
        res_label = {k: v.get(lg) for k, v in enums["item_result"].values.items()}
        st_label = {k: v.get(lg) for k, v in enums["wuyou_status"].values.items()}
        rect_label = escape(_("rectifying"))
        station_url = url_for(".station", org_id=0)[:-1]
        insp_url = url_for(".inspection", pk=0)[:-1]
        every = data["every"]
        out = []
        for o in data["stations"]:
            c = data["current"].get(o.id)
            cells = []
            for it in data["items"]:
                r = c.items.get(it.name) if c else None
                cells.append(f'<td class="text-center jf-cell jf-r-{r or "none"}">{escape(res_label.get(r, "—")) if r else "—"}</td>')
            st = data["status"][o.id]
            town = escape(every[o.township_id].name) if o.township_id else "—"
            rect = f' <span class="label label-warning">{rect_label}</span>' if o.id in data["open_rects"] else ""
            last = (f'<a href="{insp_url}{c.inspection_id}">{escape(c.conducted or c.inspection_no)}</a> '
                    f'<small class="text-muted">v{c.version}</small>') if c else "—"
            out.append(f'<tr data-org="{escape(o.code)}"><td><a href="{station_url}{o.id}">{escape(o.name)}</a>{rect}</td>'
                       f'<td>{town}</td>{"".join(cells)}'
                       f'<td><span class="jf-r jf-r-{st}">{escape(st_label.get(st, st))}</span></td>'
                       f'<td>{c.valid_until if c and c.valid_until else "—"}</td><td>{last}</td></tr>')
        return Markup("\n".join(out))

    # ------------------------------------------------------------------ tracker pages
    @expose("/board")
    @has_access
    def board(self) -> Any:
        data = self.board_data()
        return self.page("board.html", title=self.title("board"), rows_html=self.board_rows_html(data), **data)

    @expose("/board.xlsx")
    @has_access
    def board_xlsx(self) -> Any:
        if not self.may_export():
            abort(403)
        data = self.board_data()
        body = exporting.board_workbook(self.t, data, lang())
        audit.record("export", entity="inspection",
                     detail=f"board: {len(data['stations'])} stations; args: {request.query_string.decode()[:300]}")
        return _xlsx(body, f"{self.jf_checklist}-board".replace("_", "-"), self.title("board"))

    @expose("/coverage")
    @has_access
    def coverage(self) -> Any:
        data = self.t.coverage(self.session, self.visible(), _dt.date.today())
        return self.page("coverage.html", title=self.title("coverage"), cov=data,
                         charts=exporting.charts(self.t, data, lang()),
                         tables=exporting.coverage_tables(self.t, data, lang()))

    @expose("/coverage.xlsx")
    @has_access
    def coverage_xlsx(self) -> Any:
        if not self.may_export():
            abort(403)
        data = self.t.coverage(self.session, self.visible(), _dt.date.today())
        body = exporting.coverage_workbook(self.t, data, lang())
        audit.record("export", entity="inspection", detail=f"coverage: {data['stations']} stations")
        return _xlsx(body, f"{self.jf_checklist}-coverage".replace("_", "-"), self.title("coverage"))

    @expose("/due")
    @has_access
    def due(self) -> Any:
        stations, _every = self.t.stations(self.session, self.visible())
        rows = self.t.reinspections(self.session, stations, _dt.date.today())
        return self.page("due.html", title=self.title("due"), rows=rows)

    @expose("/rectifications")
    @has_access
    def rectifications(self) -> Any:
        rows = self.t.open_rectifications(self.session, self.visible(), _dt.date.today())
        orgs = self.t.orgs(self.session)
        return self.page("rectifications.html", title=self.title("rectifications"), rows=rows, orgs=orgs)

    @expose("/station/<int:org_id>")
    @has_access
    def station(self, org_id: int) -> Any:
        visible = self.visible()
        if visible is not None and org_id not in visible:
            abort(404)
        orgs = self.t.orgs(self.session)
        org = orgs.get(org_id)
        if org is None:
            abort(404)
        inspections = self.t.history(self.session, org_id, include_drafts=self.may("inspect"))
        R = self.t.Rect
        rects = list(self.session.scalars(select(R).where(R.org_id == org_id).order_by(R.id.desc())))
        defs = {i.id: self.t.definition(self.session, i.checklist_version) for i in inspections}
        cur = self.t.current(self.session, [org_id]).get(org_id)
        return self.page("station.html", title=org.name, org=org, orgs=orgs, inspections=inspections, defs=defs,
                         rects=rects, status=self.t.status_of(cur, _dt.date.today()), current=cur,
                         summaries={i.id: json.loads(i.item_summary) if i.item_summary else {} for i in inspections})

    # ------------------------------------------------------------------ recording
    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self) -> Any:
        self.require("inspect")
        stations, _every = self.t.stations(self.session, visible_orgs(self.access(), "inspection", "create"))
        if request.method == "POST":
            org_id = request.form.get("org", type=int)
            if org_id not in {o.id for o in stations}:
                abort(404)
            org = self.session.get(self.t.Org, org_id)
            kind = request.form.get("inspection_type") or "initial"
            if kind not in self.t.spec.enums["inspection_type"].values:
                kind = "initial"
            try:
                when = _dt.datetime.fromisoformat(request.form.get("conducted_at") or "") \
                    if request.form.get("conducted_at") else _dt.datetime.now().replace(second=0, microsecond=0)
                insp = self.t.start(self.session, org, kind, when, place=request.form.get("place") or None,
                                    inspectors=request.form.get("inspectors") or None)
                self.session.commit()
            except ValueError:
                self.session.rollback()
                flash(_("The time of the inspection is not valid."), "danger")
                return redirect(url_for(".new", org=org_id))
            except Refused as e:
                self.session.rollback()
                flash(e.zh if lang() == "zh" else e.en, "danger")
                return redirect(url_for(".new"))
            return redirect(url_for(".inspection", pk=insp.id))
        return self.page("new.html", title=self.title("new"), stations=stations,
                         selected=request.args.get("org", type=int),
                         types=self.t.spec.enums["inspection_type"].values,
                         now=_dt.datetime.now().strftime("%Y-%m-%dT%H:%M"))

    @expose("/inspection/<pk>")
    @has_access
    def inspection(self, pk: Any) -> Any:
        insp = self.row_or_404(self.t.Insp, pk)
        return self.render_inspection(insp)

    def render_inspection(self, insp: Any, status: int = 200) -> Any:
        d = self.t.definition(self.session, insp.checklist_version)
        rows = self.t.rows(self.session, insp)
        evidence = self.t.evidence_of(self.session, [r.id for r in rows.values()])
        otype = getattr(insp.org, self.t.type_col)
        on = insp.conducted_at.date() if insp.conducted_at else _dt.date.today()
        suggestions = {s.name: rules.suggestion(s, rows[s.name].observed_value, rows[s.name].observed_date, on)
                       for s in d.applicable(otype) if s.name in rows}
        editable = insp.inspection_status == "draft" and self.may("inspect") and \
            self.access().allows(self.session, self.t.Insp, insp.id, "update")
        R = self.t.Rect
        rects = list(self.session.scalars(select(R).where(R.inspection_id == insp.id).order_by(R.sub_item_code)))
        body = self.page("inspection.html", title=insp.inspection_no, insp=insp, d=d, rows=rows, evidence=evidence,
                         org_type=otype, editable=editable, suggestions=suggestions, rects=rects,
                         summary=json.loads(insp.item_summary) if insp.item_summary else {},
                         current_version=self.t.current_def.version)
        return (body, status) if status != 200 else body

    @expose("/inspection/<pk>/save", methods=["POST"])
    @has_access
    def save(self, pk: Any) -> Any:
        self.require("inspect")
        insp = self.row_or_404(self.t.Insp, pk, "update")
        submit = request.form.get("action") == "submit"
        if submit:
            self.require("submit")
        try:
            rows = self.t.rows(self.session, insp)
            uploads = self.read_uploads([(row, fs) for sub, row in rows.items()
                                         for fs in request.files.getlist(f"f_{sub}")])
            values = {}
            for sub in rows:
                v: dict[str, Any] = {}
                for key, name in (("result", "r"), ("value", "v"), ("date", "d"), ("note", "n")):
                    if f"{name}_{sub}" in request.form:
                        v[key] = request.form.get(f"{name}_{sub}")
                values[sub] = v
            self.t.record(self.session, insp, values)
            user_id = getattr(current_app.appbuilder.sm.current_user, "id", None)
            for row, up in uploads:  # written with the flush, removed again if the commit does not happen
                self.t.attach(self.session, row, up, user_id)
            self.session.flush()
            opened = self.t.submit(self.session, insp) if submit else []
            self.session.commit()
        except upload_rules.Refused as e:
            self.refused_upload(e, f"inspection {pk}")
            flash(e.text(lang()), "danger")
            return self.render_inspection(self.session.get(self.t.Insp, int(pk)), status=e.status)
        except Refused as e:
            self.session.rollback()
            flash(e.zh if lang() == "zh" else e.en, "danger")
            return self.render_inspection(self.session.get(self.t.Insp, int(pk)), status=e.status)
        except Exception:
            self.session.rollback()
            raise
        if submit:
            flash(_("Submitted. Rating: %(r)s; rectifications opened: %(n)d.",
                    r=self._enum("rating_result", insp.overall_result), n=len(opened)), "success")
        else:
            flash(_("Saved."), "success")
        return redirect(url_for(".inspection", pk=insp.id))

    def _enum(self, enum: str, value: Any) -> str:
        e = self.t.spec.enums.get(enum)
        return e.values[value].get(lang()) if e and value in e.values else str(value)

    # Not named ``download``: app/__init__.py answers 404 to every ``*.download`` endpoint (FAB's
    # unscoped file route); this one is scoped.
    @expose("/evidence/<pk>/download")
    @has_access
    def evidence_file(self, pk: Any) -> Any:
        """The evidence file, scoped like its row and audited (a refusal too), through app/files."""
        a = self.access()
        try:
            ev_id: Optional[int] = int(pk)
        except (TypeError, ValueError):
            ev_id = None
        ev = self.session.get(self.t.Ev, ev_id) if ev_id is not None else None
        if ev is None or (a is not None and not a.allows(self.session, self.t.Ev, ev.id, "read")):
            files.audit_download("evidence", pk, "evidence_file: no such file, or out of scope", "denied")
            abort(404)
        row = files.row_by_key(self.session, ev.evidence_file) or SimpleNamespace(
            key=ev.evidence_file, name=ev.file_name, content_type=ev.content_type, size=ev.size_bytes,
            sha256=ev.sha256 or "")  # evidence stored before jf_file existed: its own columns say what it is
        try:
            resp = files.send(row)
        except FileNotFoundError:
            files.audit_download("evidence", ev.id, f"evidence_file: {ev.file_name}: missing from the storage", "failed")
            abort(404)
        files.audit_download("evidence", ev.id, f"evidence_file: {row.name} ({row.size} B, sha256 {(row.sha256 or '')[:16]})")
        return resp

    # ------------------------------------------------------------------ rectifications
    @expose("/rectification/<pk>")
    @has_access
    def rectification(self, pk: Any) -> Any:
        rect = self.row_or_404(self.t.Rect, pk)
        return self.render_rect(rect)

    def render_rect(self, rect: Any, status: int = 200) -> Any:
        row = self.t.row_for(self.session, rect)
        evidence = self.t.evidence_of(self.session, [row.id]).get(row.id, []) if row is not None else []
        d = self.t.definition(self.session, rect.inspection.checklist_version)
        body = self.page("rectification.html", title=_("Rectification"), rect=rect, row=row, evidence=evidence,
                         sub=d.subs.get(rect.sub_item_code), d=d,
                         overdue=rect.due_date is not None and rect.due_date < _dt.date.today()
                         and rect.rectification_status != "verified",
                         can_update=self.access().allows(self.session, self.t.Rect, rect.id, "update"))
        return (body, status) if status != 200 else body

    @expose("/rectification/<pk>/respond", methods=["POST"])
    @has_access
    def respond(self, pk: Any) -> Any:
        self.require("rectify")
        rect = self.row_or_404(self.t.Rect, pk, "update")
        try:
            row = self.t.row_for(self.session, rect)
            sent = request.files.getlist("files")
            if row is None and upload_rules.present(sent):
                raise Refused("找不到该整改对应的检查细项，无法保存佐证", "the rectification's sub-item is gone: "
                              "its evidence cannot be stored", 409)
            uploads = self.read_uploads([(row, fs) for fs in sent]) if row is not None else []
            self.t.respond(self.session, rect, request.form.get("response", ""))
            user_id = getattr(current_app.appbuilder.sm.current_user, "id", None)
            for _row, up in uploads:
                self.t.attach(self.session, row, up, user_id, rectification=rect, caption=f"整改佐证 {up.name}")
            self.session.flush()
            self.session.commit()
        except upload_rules.Refused as e:
            self.refused_upload(e, f"rectification {pk}")
            flash(e.text(lang()), "danger")
            return self.render_rect(self.session.get(self.t.Rect, int(pk)), status=e.status)
        except Refused as e:
            self.session.rollback()
            flash(e.zh if lang() == "zh" else e.en, "danger")
            return self.render_rect(self.session.get(self.t.Rect, int(pk)), status=e.status)
        except Exception:
            self.session.rollback()
            raise
        flash(_("Rectification report sent."), "success")
        return redirect(url_for(".rectification", pk=rect.id))

    @expose("/rectification/<pk>/close", methods=["POST"])
    @has_access
    def close(self, pk: Any) -> Any:
        self.require("close")
        rect = self.row_or_404(self.t.Rect, pk, "update")
        try:
            self.t.close(self.session, rect, current_app.appbuilder.sm.current_user.username)
            self.session.commit()
        except Refused as e:
            self.session.rollback()
            flash(e.zh if lang() == "zh" else e.en, "danger")
            return self.render_rect(rect, status=e.status)
        flash(_("Rectification verified and closed."), "success")
        return redirect(url_for(".rectification", pk=rect.id))

    @expose("/rectification/<pk>/reinspect", methods=["POST"])
    @has_access
    def reinspect(self, pk: Any) -> Any:
        self.require("inspect")
        rect = self.row_or_404(self.t.Rect, pk)
        a = self.access()
        visible = visible_orgs(a, "inspection", "create")
        if visible is not None and rect.org_id not in visible:
            abort(404)
        insp = self.t.start(self.session, rect.org, "recheck", _dt.datetime.now().replace(second=0, microsecond=0),
                            copy_from=rect.inspection)
        self.session.commit()
        flash(_("Re-inspection started: results of the previous inspection were copied, failed items must be rated again."),
              "info")
        return redirect(url_for(".inspection", pk=insp.id))


def _xlsx(body: bytes, ascii_name: str, title: str) -> Response:
    name = f"{title}-{_dt.date.today():%Y%m%d}.xlsx"
    resp = Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}.xlsx\"; filename*=UTF-8''{quote(name)}"
    return resp
