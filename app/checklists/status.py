"""The authoritative answer to "does this organisation's 五有 item pass today?".

The case workflow's seal guard (``workflows.yaml``: ``checklist: five_essentials, item: seal,
org_field: sealing_org``) asks it through ``app.workflow.guards.checklist_item_passing``, which
should delegate here::

    from app.checklists.status import item_passing
    item_passing(session, "five_essentials", "seal", org_id, on_date)

Meaning: the org's latest submitted inspection made on or before ``on_date`` rated ``item``
达标 or 基本达标 (none of the item's hard gates failed), and ``on_date`` lies within that
inspection's validity period (``validity_months`` of the checklist version it used).  No
inspection, a draft only, a failed item, an expired inspection, or an item the inspection's
version did not have: not passing.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Optional

from flask import current_app, has_app_context


def tracker(checklist: str) -> Any:
    """The app's tracker for ``checklist`` (``app.extensions['jiefen_checklists']``)."""
    trackers = current_app.extensions.get("jiefen_checklists") or {}
    return trackers.get(checklist)


def item_passing(session: Any, checklist: str, item: str, org_id: Optional[int],
                 on_date: Optional[_dt.date] = None) -> bool:
    if org_id is None or not has_app_context():
        return False
    t = tracker(checklist)
    if t is None:
        return False
    if isinstance(on_date, _dt.datetime):
        on_date = on_date.date()
    return bool(t.item_passing(session, item, int(org_id), on_date or _dt.date.today()))
