"""Our FAB security manager.  Issue #4 grows this into the one access module; for now it only
removes what cannot work offline: FAB's "User's Statistics" chart loads Google's chart loader."""

from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager


class JiefenSecurityManager(SecurityManager):
    userstatschartview = None  # google_charts.js fetches www.gstatic.com: no offline chart
