"""The 五有 station accreditation tracker (issue #6), built from ``config/checklists.yaml``.

* ``definitions``  checklist versions stored in ``jf_checklist_version`` (history keeps its version)
* ``rules``        rating rules, hard gates, validity and due dates (pure)
* ``service``      inspections, rectifications, board / coverage / due / history read models
* ``status``       ``item_passing(session, checklist, item, org_id, on_date)`` for the workflow guard
* evidence files go through the shared file service (app/files: limits from ``uploads`` in
  checklists.yaml, content sniffing, quotas, atomic writes, scoped and audited downloads)
* ``views``        the pages under the 五有达标 menu group, ``exporting`` their Excel and SVG
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from generator.builders.permissions import CHECKLIST_MENUS
from generator.builders.views import L

# Menu entry -> (page, icon); its label is the page's name from checklists.yaml (``Checklist.page_label``).
MENU_PAGES = {
    "ChecklistBoard": ("board", "fa-th"),
    "ChecklistCoverage": ("coverage", "fa-bar-chart"),
    "ChecklistDue": ("due", "fa-calendar"),
    "ChecklistRectifications": ("rectifications", "fa-wrench"),
    "ChecklistNew": ("new", "fa-plus"),
}


def register(appbuilder: Any, reg: Any) -> None:
    """Trackers per checklist, the stored versions, and the pages under the checklist's menu."""
    from .definitions import VersionConflict, Versions
    from .service import Tracker
    from .views import ChecklistView

    spec = reg.spec
    cl = spec.tracked_checklist()
    if cl is None or "inspection" not in reg.models:
        return
    versions = Versions(spec.checklists, reg.checklist_versions)
    session = appbuilder.sm.session
    try:
        versions.ensure(session)
    except VersionConflict:
        raise
    except Exception:  # noqa: BLE001 - no table yet (SCHEMA_SYNC off before setup): stored on first use
        session.rollback()
    current_app.extensions["jiefen_checklists"] = {cl.name: Tracker(spec, reg.models, versions, cl.name)}
    menu = spec.entities["inspection"].menu
    category_label = L(spec.menus[menu].label) if menu in spec.menus else menu
    first = True
    for name in CHECKLIST_MENUS:
        endpoint, icon = MENU_PAGES[name]
        label = cl.page_label(endpoint)
        if first:
            appbuilder.add_view(ChecklistView, name, href=f"/checklists/{endpoint}", label=L(label), icon=icon,
                                category=menu, category_label=category_label)
            first = False
        else:
            appbuilder.add_link(name, href=f"/checklists/{endpoint}", label=L(label), icon=icon, category=menu,
                                category_label=category_label)
