"""The home page: what waits on me, what is late, how the county stands — in the user's scope.

FAB's index is a bare "Welcome".  Here a signed-in user sees, each card only when their roles
grant the underlying entity (``can_read`` on dispute_case / inspection) and each number computed
through the same scoped queries as the pages it links to:

* 待我处理 (my inbox) and 逾期 (overdue) counts, with the five most urgent cases;
* open cases and the share resolved per level (the funnel);
* 五有 build-out: stations built and accredited against the targets per level.

Anonymous visitors are sent to the login page.
"""

from __future__ import annotations

import datetime as _dt
import logging
from typing import Any, Optional

from flask import current_app, redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_login import current_user

log = logging.getLogger(__name__)


def _may(permission: str, view: str) -> bool:
    return bool(current_app.appbuilder.sm.has_access(permission, view))


def _workflow_cards(session: Any, principal: Any) -> Optional[dict[str, Any]]:
    reg = current_app.extensions["jiefen"]
    if reg.workflow is None or not _may("can_read", "dispute_case"):
        return None
    from app.workflow import queries

    inbox = queries.inbox(session, principal, limit=5)
    late = queries.overdue(session, principal, limit=1)
    funnel = queries.funnel(session, principal)
    return {"inbox": inbox, "overdue_total": late.get("total", len(late.get("items", []))), "funnel": funnel}


def _checklist_cards(session: Any) -> Optional[dict[str, Any]]:
    if not _may("can_read", "inspection"):
        return None
    from app.access.rules import current
    from app.checklists.service import visible_orgs
    from app.checklists.status import tracker

    trackers = current_app.extensions.get("jiefen_checklists") or {}
    if not trackers:
        return None
    name = sorted(trackers)[0]
    t = tracker(name)
    cov = t.coverage(session, visible_orgs(current()), _dt.date.today())
    from generator.builders.views import lang

    lg = lang()
    return {"checklist": name, "levels": cov["levels"], "title": t.cl.page_label("coverage").get(lg),
            "accredited": t.cl.page_label("accredited").get(lg)}


class JiefenIndexView(IndexView):
    index_template = "jiefen/home.html"

    @expose("/")
    def index(self) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for(current_app.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        from app.access.rules import current

        access = current()
        principal = access.principal() if access is not None else None
        session = current_app.appbuilder.session
        cards: dict[str, Any] = {}
        try:
            if principal is not None:
                cards["workflow"] = _workflow_cards(session, principal)
            cards["checklist"] = _checklist_cards(session)
        except Exception:  # noqa: BLE001 - the home page must open even if one card cannot
            log.exception("home page card failed")
            session.rollback()
        from generator.builders.views import lang

        from app.workflow.views import tier_label

        from generator import names

        reg = current_app.extensions["jiefen"]
        wf_entity = next((w.entity for w in reg.spec.workflows.values()), None)
        return self.render_template(self.index_template, appbuilder=self.appbuilder, cards=cards, lang=lang(),
                                    tier_label=tier_label,
                                    case_endpoint=f"{names.view_class(wf_entity)}.show" if wf_entity else None)
