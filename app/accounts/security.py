"""Our FAB security manager.  Issue #4 grows this into the one access module.

Two things so far:

* FAB's "User's Statistics" chart loads Google's chart loader, which cannot work offline.
* **Permissions are loaded once per request** (fab-permission-cost.md §2 (a), "MemoSecurityManager").
  FAB 5.3 caches nothing: every navbar entry, list button and ``@has_access`` sends its own
  ``SELECT EXISTS`` (one per menu item, so it grows with the number of entities), plus the lazy
  ``user.roles`` / ``user.groups`` loads, plus two public-role statements on every REST call.
  Here the first check of a request loads the user's role names and every
  ``(permission, view_menu)`` pair of those roles (direct and via groups) in ONE statement;
  later checks are set lookups.

  The memo lives on ``flask.g``, keyed by the user id and tied to the request object, so it
  never outlives the request and never crosses processes: every request of every worker
  reads the grants afresh, and an edit committed before a request starts is seen by it (no
  invalidation needed).  A per-process cache is deliberately NOT used: FAB's security signals
  are in-process and miss several write paths, so other workers would keep stale grants
  (fab-permission-cost.md §1, §6).  Within one request the answer is fixed.

  The answers are FAB's: builtin (``FAB_ROLES``) roles are matched by regex and their DB
  grants ignored, exactly as ``_has_view_access`` does; the public role's DB grants answer
  ``is_item_public`` as ``get_public_permissions`` does.  Outside a request (CLI, scripts)
  nothing is memoised.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Optional, Set, Tuple

from flask import g, has_request_context, request
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_login import current_user
from sqlalchemy import select, union

_USER_MEMO = "_jf_perm_grants"
_PUBLIC_MEMO = "_jf_perm_public"

Grants = Tuple[frozenset, frozenset]  # (role names, {(permission, view_menu)} of the non-builtin roles)


class JiefenSecurityManager(SecurityManager):
    userstatschartview = None  # google_charts.js fetches www.gstatic.com: no offline chart

    def __init__(self, appbuilder: Any) -> None:
        super().__init__(appbuilder)
        # Account screens through the scoped data interface: a station or township head manages
        # only the accounts placed in their organisations (app/access/rules.py ``_user_clause``).
        from generator.builders.datamodel import JiefenInterface

        self.userdbmodelview.datamodel = JiefenInterface(self.user_model)
        # No path may store a password in clear (app/accounts/passwords.py).
        from .passwords import install as guard_passwords

        guard_passwords()

    # ------------------------------------------------------------------ request memo
    @staticmethod
    def before_request() -> None:
        # FAB registers sm.before_request.  Flask 3.1 reuses an already pushed app context
        # (tests, scripts under ``with app.app_context()``), so g can outlive a request: clear.
        g.pop(_USER_MEMO, None)
        g.pop(_PUBLIC_MEMO, None)
        g.user = current_user

    @staticmethod
    def _memo_get(key: str, user_id: Any = None) -> Optional[Any]:
        if not has_request_context():
            return None
        memo = g.get(key)
        if memo is None or memo[0] is not request._get_current_object() or memo[1] != user_id:
            return None
        return memo[2]

    @staticmethod
    def _memo_set(key: str, value: Any, user_id: Any = None) -> Any:
        if has_request_context():
            setattr(g, key, (request._get_current_object(), user_id, value))
        return value

    # ------------------------------------------------------------------ the two queries
    def _pairs_query(self, role_filter: Any) -> Any:
        """role name, permission name, view-menu name for the roles matching ``role_filter``."""
        role = self.role_model.__table__
        pv_role = self.role_model.permissions.property.secondary
        pv = self.permissionview_model.__table__
        perm = self.permission_model.__table__
        view = self.viewmenu_model.__table__
        return (select(role.c.name, perm.c.name, view.c.name)
                .select_from(role.outerjoin(pv_role, pv_role.c.role_id == role.c.id)
                             .outerjoin(pv, pv.c.id == pv_role.c.permission_view_id)
                             .outerjoin(perm, perm.c.id == pv.c.permission_id)
                             .outerjoin(view, view.c.id == pv.c.view_menu_id))
                .where(role_filter))

    def load_grants(self, user_id: Any) -> Grants:
        """ONE statement: the user's roles (direct and through groups) and their DB grants."""
        role = self.role_model.__table__
        user_role = self.user_model.roles.property.secondary
        user_group = self.user_model.groups.property.secondary
        group_role = self.group_model.roles.property.secondary
        role_ids = union(
            select(user_role.c.role_id).where(user_role.c.user_id == user_id),
            select(group_role.c.role_id).join(user_group, user_group.c.group_id == group_role.c.group_id)
            .where(user_group.c.user_id == user_id),
        )
        rows = self.session.execute(self._pairs_query(role.c.id.in_(role_ids))).all()
        return self._fold(rows)

    def _fold(self, rows: Iterable[Any]) -> Grants:
        builtin = self.builtin_roles
        names, pairs = set(), set()
        for role_name, perm_name, view_name in rows:
            names.add(role_name)
            # FAB: a builtin role is matched by regex only; its DB grants are ignored.
            # Inner joins in FAB's EXISTS: a half-null permission-view grants nothing.
            if role_name not in builtin and perm_name is not None and view_name is not None:
                pairs.add((perm_name, view_name))
        return frozenset(names), frozenset(pairs)

    def _grants(self, user: Any) -> Grants:
        user_id = user.id
        memo = self._memo_get(_USER_MEMO, user_id)
        if memo is None:
            memo = self._memo_set(_USER_MEMO, self.load_grants(user_id), user_id)
        return memo

    def _public_pairs(self) -> frozenset:
        """The public role's DB grants, as ``get_public_permissions`` returns them (one statement)."""
        memo = self._memo_get(_PUBLIC_MEMO)
        if memo is None:
            role = self.role_model.__table__
            rows = self.session.execute(self._pairs_query(role.c.name == self.auth_role_public)).all()
            memo = self._memo_set(_PUBLIC_MEMO, frozenset((p, v) for _r, p, v in rows
                                                          if p is not None and v is not None))
        return memo

    def _builtin_allows(self, role_names: Iterable[str], permission_name: str, view_name: str) -> bool:
        builtin = self.builtin_roles
        return any(name in builtin and self._has_access_builtin_roles(_Named(name), permission_name, view_name)
                   for name in role_names)

    def menu_cache_key(self) -> Optional[Tuple[frozenset, frozenset]]:
        """What ``has_access("menu_access", <any menu>)`` answers from in THIS request, or None.

        For the navbar cache (``app/ui/navbar.py``): the builtin role names the user holds and the
        ``menu_access`` view names of their DB grants, both from this request's grants.  None
        whenever ``has_access`` would take another path than ``_has_view_access`` with our
        grants (no request, API-key user, anonymous/JWT, missing or inactive user).
        """
        if not has_request_context() or getattr(g, "_api_key_user", False):
            return None
        if not current_user.is_authenticated:
            return None
        user = self._get_safe_user(g.user) if hasattr(g, "user") else None
        if not user or not user.is_active or not getattr(user, "is_authenticated", False):
            return None
        roles, pairs = self._grants(user)
        builtin = self.builtin_roles
        return (frozenset(r for r in roles if r in builtin),
                frozenset(v for p, v in pairs if p == "menu_access"))

    # ------------------------------------------------------------------ FAB entry points
    def _has_view_access(self, user: object, permission_name: str, view_name: str) -> bool:
        """``@has_access``, REST ``protect()``, navbar ``is_menu_visible``, list-button ``is_item_visible``."""
        if not getattr(user, "is_authenticated", False):
            return super()._has_view_access(user, permission_name, view_name)  # FAB's public-role path
        roles, pairs = self._grants(user)
        return self._builtin_allows(roles, permission_name, view_name) or (permission_name, view_name) in pairs

    def is_item_public(self, permission_name: str, view_name: str) -> bool:
        """Anonymous pages and the first check of every REST call."""
        return (permission_name, view_name) in self._public_pairs()

    def get_user_permissions(self, user: Any) -> Set[Tuple[str, str]]:
        if not getattr(user, "is_authenticated", False):
            return super().get_user_permissions(user)
        roles, pairs = self._grants(user)
        result = set(pairs)
        for name in roles:  # builtin roles contribute their (permission, view) regexes, as in FAB
            for view_re, perm_re in self.builtin_roles.get(name, []):
                result.add((perm_re, view_re))
        return result

    def _get_user_permission_view_menus(self, user: object, permission_name: str,
                                        view_menus_name: List[str]) -> Set[str]:
        """MenuApi (``/api/v1/menu/``): menu names with ``permission_name``, one memo lookup."""
        if user is None or not getattr(user, "is_authenticated", False):
            return super()._get_user_permission_view_menus(user, permission_name, view_menus_name)
        roles, pairs = self._grants(user)
        result = {v for v in view_menus_name or [] if self._builtin_allows(roles, permission_name, v)}
        result.update(v for p, v in pairs if p == permission_name)
        return result

    # User list/show/userinfo: 是/否 and role labels instead of Python reprs (app/accounts/views.py).
    from .views import JiefenUserDBModelView as userdbmodelview

    # ------------------------------------------------------------------ hardening (app/hardening/)
    # Login form and JWT login with lockout, server-side sessions, safe next, JWT logout.
    from ..hardening.views import AuthDBView as authdbview
    from ..hardening.views import SecurityApi as security_api

    def auth_user_db(self, username: Any, password: Any) -> Any:
        """FAB's password check behind the per-username lockout, audited (hardening/auth.py)."""
        from ..hardening.auth import authenticate

        return authenticate(self, super().auth_user_db, username, password)

    def load_user(self, pk: Any) -> Any:
        """Flask-Login's loader: the user only with a live server-side session (hardening/sessions.py)."""
        from ..hardening.sessions import load_user

        return load_user(self, pk)

    def load_user_jwt(self, _jwt_header: Any, jwt_data: Any) -> Any:
        """JWT requests carry no session cookie: the plain user row (revocation: hardening/tokens.py)."""
        user = self.get_user_by_id(int(jwt_data["sub"]))
        if user and user.is_active:
            g.user = user
            return user
        return None


class _Named:
    """What ``_has_access_builtin_roles`` reads from a role: its name."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name
