"""The case workflow's HTML pages: the case panel's forms, 待我处理, overdue, funnel, diagram.

    POST /workflow/case/<id>/act/<name>           take a transition (the case page's action forms)
    POST /workflow/case/<id>/extend/<deadline>    approve a deadline extension
    GET  /workflow/inbox                          cases waiting on my roles and organisation
    GET  /workflow/overdue                        open deadlines past due on cases I may read
    GET  /workflow/funnel                         open cases per level/state, share resolved per tier
    GET  /workflow/diagram                        the workflow's state diagram (vendored mermaid)

The case panel itself is part of the generated detail page of the workflow's entity
(``case_panel`` below, called by app/ui/model_view.py; template jiefen/workflow/case_panel.html).

Permissions: every list page and form needs ``can_read`` on ``dispute_case`` (what roles.yaml
grants for reading cases; the same permission set as the REST API of app/workflow/api.py); the
engine then checks the transition grant, the data scope, the version and the guards, exactly as
for the REST API.  Forms carry the CSRF token (Flask-WTF's global protection).  Refusals come back
as a flash message in the user's language, listing what is missing; nothing was changed.  The
diagram page is a system page: ``grants.system: [access_matrix]`` (like the access matrix).
"""

from __future__ import annotations

from typing import Any, Optional

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from generator import names
from generator.builders.permissions import ACCESS_MATRIX_VIEW, WORKFLOW_DIAGRAM_MENU, WORKFLOW_MENUS, menu_category
from generator.builders.views import lang
from generator.spec import Label

from app.access import present as present_mod
from app.access import rules as access_mod
from . import deadlines as dl
from . import engine, queries
from .common import WorkflowError, context

PERMISSION = "dispute_case"
PAGES = ("inbox", "overdue", "funnel", "act", "extend")
MAX_CHOICES = 300
STATUS_CLASS = {"on_time": "success", "due_soon": "warning", "overdue": "danger", "paused": "default",
                "met": "info", "missed": "danger"}


def _principal() -> Any:
    acc = access_mod.current()
    return acc.principal() if acc is not None else None


def _session() -> Any:
    return current_app.appbuilder.sm.session


def status_label(status: str) -> str:
    return {"on_time": _("On time"), "due_soon": _("Due soon"), "overdue": _("Overdue"), "paused": _("Paused"),
            "met": _("Met"), "missed": _("Missed")}.get(status, status)


def _org_names(session: Any, ctx: Any, ids: Any) -> dict[int, str]:
    """Organisations named as the presenter names them (app/access/present.py)."""
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    org = ctx.model(ctx.spec.org_tree.entity)
    presenter = present_mod.current()
    return {o.id: presenter.label(o) for o in session.execute(select(org).where(org.id.in_(ids))).scalars()}


def _choices(session: Any, ctx: Any, field: dict[str, Any], principal: Any) -> list[tuple[Any, str]]:
    """Options of a ref field of an action form: the records of the target the user may read, each
    named by the presenter (a personal-data name masked unless this user may see it)."""
    ent = ctx.spec.entities.get(field["ref"])
    if ent is None:
        return []
    model = ctx.model(ent.name)
    q = select(model).order_by(model.id).limit(MAX_CHOICES)
    clause = ctx.access.clause(model, "read", p=principal)
    if clause is not None:
        q = q.where(clause)
    presenter = present_mod.current()
    options = [(obj.id, presenter.label(obj)) for obj in session.execute(q).scalars()]
    return sorted(options, key=lambda o: (o[1], o[0]))


def case_panel(case_id: int) -> Optional[dict[str, Any]]:
    """What the case page's workflow panel shows (None when the user may not read the case)."""
    try:
        case_id = int(case_id)  # the show page's pk arrives as text
    except (TypeError, ValueError):
        return None
    session = _session()
    p = _principal()
    if p is None:
        return None
    ctx = context()
    try:
        view = engine.case_view(session, case_id, p, ctx=ctx)
    except WorkflowError:
        return None
    for a in view["actions"]:
        for f in a["fields"]:
            f["value"] = _field_value(session, ctx, case_id, f["name"])
            if f["type"] in ("ref", "user") and f.get("ref"):
                f["options"] = _choices(session, ctx, f, p)
    mine = {r.name for r in p.roles}
    admin = any(r.admin for r in p.roles)
    for d in view["deadlines"]:
        d["can_extend"] = d["is_open"] and d["status"] != "paused" and d["extension_max"] > 0 \
            and (admin or bool(mine & set(d["extension_roles"])))
        d["status_label"] = status_label(d["status"])
        d["status_class"] = STATUS_CLASS.get(d["status"], "default")
    view["lang"] = lang()
    view["extensions"] = dl.extensions_of(session, case_id, ctx)
    view["orgs"] = _org_names(session, ctx, [h["actor_org_id"] for h in view["history"]])
    return view


def _field_value(session: Any, ctx: Any, case_id: int, name: str) -> Any:
    f = ctx.spec.entities[ctx.wf.entity].fields[name]
    case = session.get(ctx.case_model, case_id)
    return getattr(case, names.column_name(f.name, f.type)) if case is not None else None


def missing_text(exc: WorkflowError) -> str:
    lg = lang()
    kinds = {"field": _("field"), "attachment": _("attachment"), "condition": _("condition"),
             "comment": _("comment")}
    items = []
    for m in exc.missing:
        label = (m.get("label") or {}).get(lg) or m.get("name", "")
        items.append(f"{kinds.get(m.get('kind', ''), m.get('kind', ''))}: {label}")
    return "; ".join(items)


def error_message(exc: WorkflowError) -> str:
    """The refusal as one line in the user's language (the engine's messages are "中文 / English")."""
    text = exc.message
    if " / " in text:
        zh, _sep, en = text.partition(" / ")
        text = en if lang() == "en" else zh
    prefix = {403: _("Not allowed"), 404: _("Not found"), 409: _("Conflict"),
              422: _("Requirements missing")}.get(exc.status, _("Refused"))
    out = f"{prefix}: {text}"
    if exc.missing:
        out += " — " + _("missing: %(items)s", items=missing_text(exc))
    return out


class WorkflowView(BaseView):
    route_base = "/workflow"
    class_permission_name = PERMISSION
    method_permission_name = {p: "read" for p in PAGES}
    # The same set the generated dispute_case views hold: FAB's permission update removes, from a
    # view-menu, every permission the last registered view on it does not list.
    base_permissions = ["can_read", "can_create", "can_update", "can_delete", "can_export"]
    default_view = "inbox"

    def _case_url(self, case_id: int) -> str:
        return url_for(f"{names.view_class(context().wf.entity)}.show", pk=case_id)

    def page(self, template: str, **kw: Any) -> Any:
        lg = lang()
        return self.render_template(f"jiefen/workflow/{template}", lang=lg, zh=lg == "zh",
                                    case_url=self._case_url, status_label=status_label,
                                    status_class=STATUS_CLASS, **kw)

    # ------------------------------------------------------------------ forms of the case page
    @expose("/case/<int:pk>/act/<name>", methods=["POST"])
    @has_access
    def act(self, pk: int, name: str) -> Any:
        """Take transition ``name`` on case ``pk`` with the form's fields and comment."""
        session = _session()
        ctx = context()
        t = ctx.wf.transitions.get(name)
        if t is None:
            abort(404)
        try:
            version: Optional[int] = int(request.form.get("version", ""))
        except ValueError:
            version = None
        if version is None:
            flash(_("The form is out of date: reload the case and try again."), "danger")
            return redirect(self._case_url(pk))
        fields: dict[str, Any] = {}
        ent = ctx.spec.entities[ctx.wf.entity]
        for fname in t.required_fields:
            raw = request.form.get(f"f_{fname}")
            if raw is None or not raw.strip():
                continue
            f = ent.fields[fname]
            fields[fname] = (raw.strip().lower() in ("1", "true", "on", "yes")) if f.type == "boolean" else raw.strip()
        try:
            res = engine.perform(session, pk, name, principal=_principal(), expected_version=version,
                                 comment=request.form.get("comment"), data={"fields": fields} if fields else None,
                                 ctx=ctx)
        except WorkflowError as exc:
            if exc.status == 404:
                abort(404)
            flash(error_message(exc), "danger")
            return redirect(self._case_url(pk))
        target = ctx.wf.states[res.to_state].label.get(lang())
        flash(_("Done: %(action)s. The case is now “%(state)s”.", action=t.label.get(lang()), state=target), "success")
        try:  # a case handed on out of the user's scope (an escalation) is no longer theirs to open
            engine.readable_case(session, pk, _principal(), ctx)
        except WorkflowError:
            return redirect(url_for(".inbox"))
        return redirect(self._case_url(pk))

    @expose("/case/<int:pk>/extend/<deadline>", methods=["POST"])
    @has_access
    def extend(self, pk: int, deadline: str) -> Any:
        """Approve an extension of a running deadline (days and reason from the form)."""
        session = _session()
        try:
            row = dl.extend(session, pk, deadline, (request.form.get("days") or "").strip(),
                            request.form.get("reason"), principal=_principal())
        except WorkflowError as exc:
            if exc.status == 404 and deadline in context().wf.deadlines:
                abort(404)
            flash(error_message(exc), "danger")
            return redirect(self._case_url(pk))
        d = context().wf.deadlines[deadline]
        flash(_("Extension approved: %(deadline)s +%(days)d days.", deadline=d.label.get(lang()), days=row["days"]),
              "success")
        return redirect(self._case_url(pk))

    # ------------------------------------------------------------------ lists
    def _paging(self, per_page: int) -> tuple[int, int]:
        try:
            page_no = max(1, int(request.args.get("page", 1)))
        except ValueError:
            page_no = 1
        return page_no, (page_no - 1) * per_page

    def _case_list(self, query: Any, template: str, title: Any, per_page: int) -> Any:
        """One page of a scoped case list (inbox, overdue) with the organisations' names."""
        page_no, offset = self._paging(per_page)
        session = _session()
        ctx = context()
        data = query(session, _principal(), limit=per_page, offset=offset, ctx=ctx)
        orgs = _org_names(session, ctx, [i["current_org_id"] for i in data["items"]])
        return self.page(template, title=title, data=data, orgs=orgs, page_no=page_no,
                         pages=max(1, -(-data["total"] // per_page)))

    @expose("/inbox")
    @has_access
    def inbox(self) -> Any:
        return self._case_list(queries.inbox, "inbox.html", _("My inbox"), 50)

    @expose("/overdue")
    @has_access
    def overdue(self) -> Any:
        return self._case_list(queries.overdue, "overdue.html", _("Overdue cases"), 100)

    @expose("/funnel")
    @has_access
    def funnel(self) -> Any:
        ctx = context()
        data = queries.funnel(_session(), _principal(), ctx=ctx)
        levels = {}
        for st in ctx.wf.states.values():
            if st.level and st.level not in levels:
                levels[st.level] = st.label.get(lang())
        peak = max([r["count"] for r in data["open"]] + [1])
        return self.page("funnel.html", title=_("Case funnel"), data=data, peak=peak, tiers=queries.TIER_ORDER,
                         tier_label=tier_label)


def tier_label(tier: str) -> str:
    return {"enterprise": _("Enterprise level"), "township": _("Township level"), "county": _("County level"),
            "arbitration": _("Arbitration"), "court": _("Court")}.get(tier, tier)


class WorkflowDiagramView(BaseView):
    """The workflow's state diagram (``python -m generator explain --workflow``), drawn in the page
    by the vendored mermaid (app/static/vendor/mermaid)."""

    route_base = "/workflow-diagram"
    class_permission_name = ACCESS_MATRIX_VIEW
    method_permission_name = {"index": "read"}
    base_permissions = ["can_read"]
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        from generator.explain import mermaid

        spec = current_app.extensions["jiefen"].spec
        lg = lang()
        name = request.args.get("workflow") or next(iter(spec.workflows))
        wf = spec.workflows.get(name)
        if wf is None:
            abort(404)
        return self.render_template("jiefen/workflow/diagram.html", wf=wf, lang=lg, source=mermaid(wf, lg),
                                    workflows=list(spec.workflows.values()), title=_("Workflow diagram"))


MENU_LABELS = {
    "WorkflowInbox": (Label("待我处理", "My inbox"), "inbox", "fa-inbox"),
    "WorkflowOverdue": (Label("逾期案件", "Overdue cases"), "overdue", "fa-clock-o"),
    "WorkflowFunnel": (Label("案件漏斗", "Case funnel"), "funnel", "fa-filter"),
}
DIAGRAM_LABEL = Label("流程图", "Workflow diagram")


def register(appbuilder: Any, reg: Any) -> None:
    """The list pages under the workflow entity's menu group (案源登记库), the diagram under 系统管理."""
    from generator.builders.views import L

    spec = reg.spec
    wf = next(iter(spec.workflows.values()))
    menu = spec.entities[wf.entity].menu
    category = menu_category(menu)
    category_label = L(spec.menus[menu].label) if menu in spec.menus else menu
    first = True
    for name in WORKFLOW_MENUS:
        label, endpoint, icon = MENU_LABELS[name]
        if first:
            appbuilder.add_view(WorkflowView, name, href=f"/workflow/{endpoint}", label=L(label), icon=icon,
                                category=category, category_label=category_label)
            first = False
        else:
            appbuilder.add_link(name, href=f"/workflow/{endpoint}", label=L(label), icon=icon, category=category,
                                category_label=category_label)
    appbuilder.add_view(WorkflowDiagramView, WORKFLOW_DIAGRAM_MENU, label=L(DIAGRAM_LABEL), category="Security",
                        icon="fa-sitemap")
    current_app.jinja_env.globals["jf_case_panel"] = case_panel
