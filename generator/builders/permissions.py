"""Role → FAB permissions, computed from ``roles.yaml`` (pure; the app applies it).

Entity grants map onto the vocabulary the generated views and APIs use
(``can_read``/``can_create``/``can_update``/``can_delete``/``can_export`` on the
entity's name); a readable entity also gives access to its menu entry and
menu group.  Every signed-in role may see and edit its own account.  ``grants.system``
opens the read-only audit log (``audit_log``), the access matrix page (``access_matrix``, which also
opens the workflow diagram page) and the applied config versions (``config_history``).  Reading a workflow's entity opens its 待我处理/overdue/funnel menu entries.
"""

from __future__ import annotations

from ..spec import AppSpec

Permission = tuple[str, str]  # (permission name, view-menu name)

SELF_SERVICE: frozenset[Permission] = frozenset({
    ("can_userinfo", "UserDBModelView"), ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"), ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"), ("menu_access", "Security"),
})


# ``grants.system`` → the FAB permissions of the system pages (app/audit/views.py registers them
# under these names; the names are CamelCase so no snake_case entity can ever collide with them).
AUDIT_LOG_VIEW = "AuditLog"
ACCESS_MATRIX_VIEW = "AccessMatrix"
CONFIG_HISTORY_VIEW = "ConfigHistory"  # 系统管理 → 配置历史 (app/lifecycle/views.py)
SYSTEM_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "audit_log": frozenset({("can_read", AUDIT_LOG_VIEW), ("menu_access", AUDIT_LOG_VIEW)}),
    "access_matrix": frozenset({("can_read", ACCESS_MATRIX_VIEW), ("menu_access", ACCESS_MATRIX_VIEW),
                                ("menu_access", "WorkflowDiagram")}),
    "config_history": frozenset({("can_read", CONFIG_HISTORY_VIEW), ("menu_access", CONFIG_HISTORY_VIEW)}),
}


# The 五有 tracker pages (app/checklists): menu entries opened by an action on ``inspection``
# (the pages themselves check ``can_read`` on ``inspection``; rows follow the data scopes).
CHECKLIST_MENUS = {"ChecklistBoard": "read", "ChecklistCoverage": "read", "ChecklistDue": "read",
                   "ChecklistRectifications": "read", "ChecklistNew": "create"}

# The case workflow pages (app/workflow/views.py): menu entries under the workflow entity's menu
# group, opened by ``read`` on that entity (the pages check ``can_read`` on it; rows follow scopes).
WORKFLOW_MENUS = {"WorkflowInbox": "read", "WorkflowOverdue": "read", "WorkflowFunnel": "read"}
# The workflow diagram, a system page next to the access matrix (same grant: ``access_matrix``).
WORKFLOW_DIAGRAM_MENU = "WorkflowDiagram"


def menu_category(menu: str) -> str:
    """The FAB category a YAML menu group registers under (system merges with FAB's Security)."""
    return "Security" if menu == "system" else menu


# A role that may grant roles (``can_assign``) manages the accounts of its organisations:
# list, show, add and edit on FAB's user screens (never delete; rows limited by app/access/rules.py).
ACCOUNT_ADMIN: frozenset[Permission] = frozenset({
    ("can_list", "UserDBModelView"), ("can_show", "UserDBModelView"), ("can_add", "UserDBModelView"),
    ("can_edit", "UserDBModelView"), ("menu_access", "List Users"),
})


def role_permissions(spec: AppSpec, role_name: str) -> set[Permission]:
    role = spec.roles[role_name]
    out: set[Permission] = set(SELF_SERVICE)
    if role.can_assign:
        out |= ACCOUNT_ADMIN
    for ent in spec.entities.values():
        actions = role.actions_on(ent.name)
        for action in actions:
            out.add((f"can_{action}", ent.name))
        if "read" in actions:
            out.add(("menu_access", f"menu_{ent.name}"))
            out.add(("menu_access", menu_category(ent.menu)))
    if spec.checklists and "inspection" in spec.entities:
        granted = role.actions_on("inspection")
        for page, action in CHECKLIST_MENUS.items():
            if action in granted:
                out.add(("menu_access", page))
    for wf in spec.workflows.values():
        if wf.entity in spec.entities and "read" in role.actions_on(wf.entity):
            out |= {("menu_access", page) for page in WORKFLOW_MENUS}
            out.add(("menu_access", menu_category(spec.entities[wf.entity].menu)))
    for grant in role.system:
        out |= SYSTEM_PERMISSIONS.get(grant, frozenset())
    return out


def desired_permissions(spec: AppSpec) -> dict[str, set[Permission]]:
    return {name: role_permissions(spec, name) for name in spec.roles}
