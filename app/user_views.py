"""FAB's user views, showing values to people instead of Python reprs.

FAB's ``/users/list/``, ``/users/show/<id>`` and ``/users/userinfo/`` print ``True``,
``[jm_office]`` and ``[]``.  Here, through FAB's ``formatters_columns``:

* ``active``        → 是/否 (Yes/No in English),
* ``roles``         → the roles' labels from roles.yaml in the request's language, joined
                      with "、" (", " in English); a role missing from roles.yaml shows its name,
* ``groups``        → the groups' labels (else names), joined the same way,
* an empty list / None → "—".

Wired in by ``JiefenSecurityManager.userdbmodelview`` (app/security.py).

The class keeps FAB's name ``UserDBModelView`` on purpose: FAB derives the blueprint
endpoint and the permission view-menu name from the class name, and our permission
builder grants ``("can_userinfo", "UserDBModelView")`` (generator/builders/permissions.py),
so a new name would orphan the stored grants and change every ``url_for``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from flask import current_app
from flask_appbuilder.security.views import UserDBModelView as _FabUserDBModelView

from generator.builders.views import lang

from .formatting import EMPTY

__all__ = ["JiefenUserDBModelView", "format_active", "format_groups", "format_roles"]

_YES_NO = {"zh": ("是", "否"), "en": ("Yes", "No")}
_JOIN = {"zh": "、", "en": ", "}


def format_active(value: Any) -> str:
    if value is None:
        return EMPTY
    yes, no = _YES_NO[lang()]
    return yes if value else no


def _join(items: Iterable[Any], label_of: Callable[[Any], str]) -> str:
    labels = [label_of(item) for item in items or ()]
    return _JOIN[lang()].join(labels) if labels else EMPTY


def _role_label(role: Any) -> str:
    name = getattr(role, "name", None) or str(role)
    jiefen = current_app.extensions.get("jiefen")
    spec_role = jiefen.spec.roles.get(name) if jiefen is not None else None
    return spec_role.label.get(lang()) if spec_role is not None else name


def _group_label(group: Any) -> str:
    return getattr(group, "label", None) or getattr(group, "name", None) or str(group)


def format_roles(value: Any) -> str:
    return _join(value, _role_label)


def format_groups(value: Any) -> str:
    return _join(value, _group_label)


class UserDBModelView(_FabUserDBModelView):
    """FAB's database user view with readable 是否启用 / 角色 / 用户组 columns."""

    formatters_columns = {
        **(_FabUserDBModelView.formatters_columns or {}),
        "active": format_active,
        "roles": format_roles,
        "groups": format_groups,
    }


JiefenUserDBModelView = UserDBModelView
