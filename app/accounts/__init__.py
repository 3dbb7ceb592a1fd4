"""Login accounts: where an account sits in the organisation tree, the user screens, and our
FAB security manager.

    models.py    ``jf_user_org``: one row places one login account in one organisation
                 (``build_user_org``, built per declarative base by app/registry.py)
    views.py     FAB's user screens: organisation field, role picker limited to ``can_assign``,
                 readable 是否启用 / 角色 columns
    security.py  ``JiefenSecurityManager`` (FAB_SECURITY_MANAGER_CLASS): per-request permission
                 memo, the user screens above, the hardened login views (app/hardening/)

Kept light: importing the package does not import FAB's views or the security manager.
"""

from __future__ import annotations

from .models import CLASS_NAME, TABLE, build_user_org

__all__ = ["CLASS_NAME", "TABLE", "build_user_org"]
