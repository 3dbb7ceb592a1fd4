"""What marks demo data, and the demo's "today" (a leaf: the registry and the demo loaders use it)."""

from __future__ import annotations

import datetime as dt
import os
from typing import Optional

DEMO_MARKER_ORG_CODE = "YX-DEMO"        # the demo joint meeting, root of the demo tree; its presence = demo loaded
DEMO_CODE_PREFIX = "YX-DEMO"
DEMO_TAG = "（演示）"


def demo_today(env: Optional[str] = None, today: Optional[dt.date] = None) -> dt.date:
    """The demo's "today": ``DEMO_TODAY`` (YYYY-MM-DD) when set, else the Monday of this week.

    Every demo date counts back from it, so a demo loaded now has a few cases overdue, due soon and
    on time (a fixed date would make every case overdue a month later).  Loaded in the same week
    (or with the same DEMO_TODAY), the demo is the same, record for record.
    """
    raw = os.environ.get("DEMO_TODAY", "") if env is None else env
    if raw.strip():
        return dt.date.fromisoformat(raw.strip())
    today = today or dt.date.today()
    return today - dt.timedelta(days=today.weekday())


BASE_DATE = demo_today()                 # the demo's "today" (a Monday unless DEMO_TODAY says otherwise)
