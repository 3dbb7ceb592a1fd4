"""The audit screens under 系统管理: the global log (read-only), per-record history, the access matrix.

* ``AuditLogView`` (``/auditlog/list/``, ``/auditlog/show/<id>``): FAB ModelView on
  ``jf_audit_log`` with *only* the list and show routes (``include_route_methods``): there is no
  add/edit/delete/action route at all, for any role, the admin included.  Filters: user name,
  user id, roles, entity, event, outcome (ok / denied / failed), time range (``at`` greater/smaller
  than), record id; newest first.
  Permission ``can_read`` on ``AuditLog``, given by ``grants.system: [audit_log]``.
* ``history(entity, record_id)``: the rows of one record, newest first; the template macro
  ``jiefen/audit_history.html`` → ``audit_history(entity, record_id)`` shows them on a show page
  (only to users who may read the log).
* ``AccessMatrixView`` (``/access-matrix/``): per role of roles.yaml its scope, per-entity
  查/增/改/删/导, runnable transitions, checklist actions, reveal grants and system pages: the
  data of ``python -m generator explain --role X`` (``generator.explain.role_matrix``).
  Permission ``can_read`` on ``AccessMatrix``, given by ``grants.system: [access_matrix]``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from markupsafe import Markup, escape
from sqlalchemy import select

from generator.builders.permissions import ACCESS_MATRIX_VIEW, AUDIT_LOG_VIEW
from generator.builders.views import L, lang
from generator.explain import ACTIONS, SYSTEM_TEXT, role_matrix
from generator.spec import Label

EVENT_LABELS = {
    "create": Label("新增", "Create"), "update": Label("修改", "Update"), "delete": Label("删除", "Delete"),
    "login": Label("登录", "Login"), "login_failed": Label("登录失败", "Login failed"),
    "lockout": Label("账号锁定", "Lockout"), "logout": Label("退出", "Logout"),
    "denied": Label("拒绝访问", "Denied"), "export": Label("导出", "Export"),
    "reveal": Label("查看明文", "Reveal"), "config_sync": Label("配置同步", "Config sync"),
    "transition": Label("流程动作", "Transition"),
    "deadline_extension": Label("期限延长", "Deadline extension"),
    "upload": Label("上传文件", "Upload"), "download": Label("下载文件", "Download"),
    "file_delete": Label("删除文件", "File removed"), "audit_purge": Label("清理审计日志", "Audit purge"),
    "config_apply": Label("应用配置", "Config applied"),
}
OUTCOME_LABELS = {"ok": Label("成功", "OK"), "denied": Label("拒绝", "Denied"), "failed": Label("失败", "Failed")}
COLUMN_LABELS = {
    "id": Label("编号", "ID"), "at": Label("时间", "Time"), "event": Label("事件", "Event"),
    "user_id": Label("用户编号", "User ID"), "username": Label("用户名", "User name"),
    "org_id": Label("组织编号", "Org ID"), "entity": Label("对象", "Entity"),
    "record_id": Label("记录编号", "Record ID"), "changes": Label("变更（旧 → 新）", "Changes (old → new)"),
    "detail": Label("说明", "Detail"), "ip": Label("IP 地址", "IP address"),
    "roles": Label("角色", "Roles"), "outcome": Label("结果", "Outcome"),
}
ACTION_SHORT = {"read": Label("查", "R"), "create": Label("增", "C"), "update": Label("改", "U"),
                "delete": Label("删", "D"), "export": Label("导", "E")}
LOG_TITLE = Label("审计日志", "Audit log")
MATRIX_TITLE = Label("权限矩阵", "Access matrix")


def _entity_label(name: Any) -> str:
    if not name:
        return "—"
    reg = current_app.extensions.get("jiefen")
    ent = reg.spec.entities.get(name) if reg is not None else None
    return f"{ent.label.get(lang())} ({name})" if ent is not None else str(name)


def _event_label(value: Any) -> str:
    label = EVENT_LABELS.get(value)
    return label.get(lang()) if label is not None else str(value or "—")


def _outcome_label(value: Any) -> str:
    label = OUTCOME_LABELS.get(value)
    return label.get(lang()) if label is not None else str(value or "—")


def _changes_html(value: Any) -> Markup:
    """``{"field": [old, new]}`` as a small escaped table (values are user data: always escaped)."""
    if not value:
        return Markup("—")
    try:
        changes = json.loads(value)
    except ValueError:
        return Markup(escape(value))
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{escape(_cell(v[0] if isinstance(v, list) else v))}</td>"
        f"<td>{escape(_cell(v[1] if isinstance(v, list) and len(v) > 1 else None))}</td></tr>"
        for k, v in changes.items())
    return Markup(f'<table class="table table-condensed jf-audit-changes">{rows}</table>')


def local_time(value: Any) -> str:
    """An audit time (stored as naive UTC) in the county's time zone (setting TIME_ZONE)."""
    import datetime as _dt
    from zoneinfo import ZoneInfo

    if not value:
        return "—"
    zone = ZoneInfo(current_app.config.get("TIME_ZONE", "Asia/Shanghai"))
    return value.replace(tzinfo=_dt.timezone.utc).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _cell(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


class AuditLogView(ModelView):
    """The whole audit trail, read-only (list + show only)."""

    route_base = "/auditlog"
    include_route_methods = {"list", "show"}
    class_permission_name = AUDIT_LOG_VIEW
    method_permission_name = {"list": "read", "show": "read"}
    base_permissions = ["can_read"]
    list_columns = ["at", "event", "outcome", "username", "roles", "entity", "record_id", "ip"]
    show_columns = ["id", "at", "event", "outcome", "username", "user_id", "roles", "org_id", "entity", "record_id",
                    "changes", "detail", "ip"]
    search_columns = ["username", "user_id", "roles", "entity", "event", "outcome", "at", "record_id"]
    order_columns = ["at", "event", "outcome", "username", "entity"]
    base_order = ("id", "desc")
    page_size = 50
    label_columns = {k: L(v) for k, v in COLUMN_LABELS.items()}
    formatters_columns = {"event": _event_label, "entity": _entity_label, "changes": _changes_html,
                          "outcome": _outcome_label, "roles": lambda v: v or "—",
                          "at": lambda v: local_time(v)}
    list_title = show_title = L(LOG_TITLE)


def history(entity: str, record_id: Any, limit: int = 200) -> list[dict[str, Any]]:
    """The audit rows of one record, newest first: ``at``, ``event``, ``username``, ``changes`` (a dict).

    Rows written before the entity was renamed (``renamed_from`` in entities.yaml) are its history too."""
    reg = current_app.extensions["jiefen"]
    t = reg.audit_log.__table__
    session = current_app.appbuilder.sm.session
    ent = reg.spec.entities.get(entity)
    known = [entity] + ([ent.renamed_from] if ent is not None and ent.renamed_from else [])
    rows = session.execute(select(t.c.id, t.c.at, t.c.event, t.c.username, t.c.changes, t.c.detail)
                           .where(t.c.entity.in_(known), t.c.record_id == str(record_id))
                           .order_by(t.c.id.desc()).limit(limit)).all()
    return [{"id": r.id, "at": r.at, "event": r.event, "event_label": _event_label(r.event),
             "username": r.username, "changes": json.loads(r.changes) if r.changes else {},
             "detail": r.detail} for r in rows]


def may_read_log() -> bool:
    return bool(current_app.appbuilder.sm.has_access("can_read", AUDIT_LOG_VIEW))


class AccessMatrixView(BaseView):
    """Who may do what, per role of roles.yaml (the data of ``generator explain --role``)."""

    route_base = "/access-matrix"
    class_permission_name = ACCESS_MATRIX_VIEW
    method_permission_name = {"index": "read"}
    base_permissions = ["can_read"]
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        spec = current_app.extensions["jiefen"].spec
        lg = lang()
        roles = [role_matrix(spec, role) for role in spec.roles.values()]
        return self.render_template(
            "jiefen/access_matrix.html", roles=roles, lang=lg, actions=ACTIONS,
            action_short={a: ACTION_SHORT[a].get(lg) for a in ACTIONS},
            system_text={k: v[0 if lg == "zh" else 1] for k, v in SYSTEM_TEXT.items()},
            title=MATRIX_TITLE.get(lg))


def register(appbuilder: Any, reg: Any) -> None:
    """Add both pages under the Security (系统管理) category and the template helpers."""
    # Subclassed per app (the mapped class belongs to the registry); the name keeps the endpoint.
    log_view = type("AuditLogView", (AuditLogView,), {"datamodel": SQLAInterface(reg.audit_log),
                                                     "__module__": __name__})
    appbuilder.add_view(log_view, AUDIT_LOG_VIEW, label=L(LOG_TITLE), category="Security",
                        icon="fa-history")
    appbuilder.add_view(AccessMatrixView, ACCESS_MATRIX_VIEW, label=L(MATRIX_TITLE), category="Security",
                        icon="fa-th")

