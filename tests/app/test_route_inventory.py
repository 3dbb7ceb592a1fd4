"""Every URL the app serves is classified; an unclassified one fails this test.

Classes:

* ``public``       anyone, signed in or not (login, static files, language switch, index);
* ``self``         any signed-in user, about their own account (logout, own password/profile);
* ``entity``       a generated screen or REST endpoint: its method maps onto one entity action
                   (read/create/update/delete/export) that roles.yaml grants, and every row it
                   touches goes through app/access/rules.py;
* ``admin``        FAB's account/role screens and the system pages: permission-checked, granted
                   by roles.yaml (``admin`` roles, ``grants.system``).

Hand-written pages over entity rows (the workflow and the 五有 tracker, ``ENTITY_PAGES``) count
as ``entity``: each method needs one entity permission and reaches rows through app/access/rules.py.

A new route (a new view, an upgrade of FAB adding an endpoint) must be added here on
purpose, with its class, before the suite passes again.  Anonymous requests to every
non-public GET route without parameters are refused.
"""

from __future__ import annotations

import re

from flask import Flask

from app.files.api import FILE_METHODS
from generator import load, names
from generator.builders.views import API_METHODS, VIEW_METHODS
from tests.app.conftest import ROOT

SPEC = load(str(ROOT / "config")).spec
assert SPEC is not None
VIEW_CLASSES = {names.view_class(e): e for e in SPEC.entities}
API_CLASSES = {names.api_class(e): e for e in SPEC.entities}

PUBLIC = {"static", "appbuilder.static", "AuthDBView.login", "LocaleView.index", "JiefenIndexView.index",
          "UtilView.back", "SecurityApi.login", "SecurityApi.refresh"}
SELF = {"AuthDBView.logout", "ResetMyPasswordView.this_form_get", "ResetMyPasswordView.this_form_post",
        "UserInfoEditView.this_form_get", "UserInfoEditView.this_form_post", "UserDBModelView.userinfo",
        "SecurityApi.logout", "MenuApi.get_menu_data"}
ADMIN_CLASSES = {"UserDBModelView", "RoleModelView", "UserGroupModelView", "ResetPasswordView",
                 "AuditLogView", "AccessMatrixView", "OpenApi", "SwaggerView", "WorkflowDiagramView",
                 "ConfigHistoryView"}
# Hand-written pages and APIs over entity rows: each method needs one entity permission
# (``method_permission_name``) and reaches rows only through app/access/rules.py scopes.
ENTITY_PAGES = {
    # the case workflow (app/workflow/api.py, app/workflow/views.py): can_read on dispute_case,
    # then the engine's transition grant, scope, version and guards
    "CaseWorkflowApi": {"transitions", "perform", "history", "deadlines", "extend"},
    "WorkflowListsApi": {"inbox", "overdue", "funnel"},
    "WorkflowView": {"act", "extend", "inbox", "overdue", "funnel"},
    # the 五有 tracker (app/checklists/views.py): can_read on inspection, then the checklist grants
    "ChecklistView": {"board", "coverage", "due", "rectifications", "station", "new", "inspection", "save",
                      "evidence_file", "rectification", "respond", "close", "reinspect", "board_xlsx",
                      "coverage_xlsx"},
}


def classify(endpoint: str) -> str | None:
    if endpoint in PUBLIC:
        return "public"
    if endpoint in SELF:
        return "self"
    cls, _, method = endpoint.partition(".")
    if cls in VIEW_CLASSES:
        return "entity" if method in VIEW_METHODS or method in ("api_read", "api_get") else None
    if cls in API_CLASSES:
        # file routes (app/files/api.py): each needs can_read/create/update on the entity and
        # reaches the record through the scoped interface
        return "entity" if method in API_METHODS or method in FILE_METHODS else None
    if cls in ADMIN_CLASSES:
        return "admin"
    if method in ENTITY_PAGES.get(cls, ()):
        return "entity"
    return None


def test_every_route_is_classified(demo_app: Flask) -> None:
    unknown = sorted(f"{r.rule} → {r.endpoint}" for r in demo_app.url_map.iter_rules()
                     if classify(r.endpoint) is None)
    assert not unknown, "unclassified routes (add them to tests/app/test_route_inventory.py):\n" + "\n".join(unknown)


def test_every_entity_has_its_screens_and_api(demo_app: Flask) -> None:
    endpoints = {r.endpoint for r in demo_app.url_map.iter_rules()}
    for ent in SPEC.entities:
        view, api = names.view_class(ent), names.api_class(ent)
        for method in ("list", "show", "add", "edit", "delete", "export", "reveal"):
            assert f"{view}.{method}" in endpoints, (ent, method)
        for method in ("get", "get_list", "post", "put", "delete"):
            assert f"{api}.{method}" in endpoints, (ent, method)
        # FAB's per-view file download serves files outside every row check: not registered
        assert f"{view}.download" not in endpoints


def test_anonymous_gets_nothing_but_public_routes(demo_app: Flask) -> None:
    client = demo_app.test_client()
    leaks = []
    for rule in demo_app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.arguments or classify(rule.endpoint) == "public" \
                or rule.endpoint == "AuthDBView.logout":  # logging out nobody is harmless
            continue
        resp = client.get(rule.rule)
        location = resp.headers.get("Location", "")
        refused = resp.status_code in (401, 403, 404) or (resp.status_code == 302 and "login" in location)
        if not refused:
            leaks.append(f"{rule.rule} → {resp.status_code} {location}")
    assert not leaks, "anonymous access:\n" + "\n".join(leaks)


def test_generated_method_names_map_onto_roles_yaml_actions() -> None:
    actions = {"read", "create", "update", "delete", "export"}
    assert set(VIEW_METHODS.values()) <= actions and set(API_METHODS.values()) <= actions
    assert set(FILE_METHODS.values()) <= actions


def test_file_routes_only_where_an_entity_has_a_file_field(demo_app: Flask) -> None:
    endpoints = {r.endpoint for r in demo_app.url_map.iter_rules()}
    for ent in SPEC.entities.values():
        has = any(f.type == "file" for f in ent.fields.values())
        for method in FILE_METHODS:
            assert (f"{names.api_class(ent.name)}.{method}" in endpoints) == has, (ent.name, method)
    assert re.fullmatch(r"[a-z_]+", "".join(VIEW_METHODS))
