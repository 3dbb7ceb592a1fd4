"""FAB's user views, showing values to people instead of Python reprs.

FAB's ``/users/list/``, ``/users/show/<id>`` and ``/users/userinfo/`` print ``True``,
``[jm_office]`` and ``[]``.  Here, through FAB's ``formatters_columns``:

* ``active``        → 是/否 (Yes/No in English),
* ``roles``         → the roles' labels from roles.yaml in the request's language, joined
                      with "、" (", " in English); a role missing from roles.yaml shows its name,
* ``groups``        → the groups' labels (else names), joined the same way,
* an empty list / None → "—".

Wired in by ``JiefenSecurityManager.userdbmodelview`` (app/accounts/security.py).

The class keeps FAB's name ``UserDBModelView`` on purpose: FAB derives the blueprint
endpoint and the permission view-menu name from the class name, and our permission
builder grants ``("can_userinfo", "UserDBModelView")`` (generator/builders/permissions.py),
so a new name would orphan the stored grants and change every ``url_for``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from flask import current_app, g
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.security.views import UserDBModelView as _FabUserDBModelView
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import DataRequired

from generator.builders.views import lang

from app.access.formatting import EMPTY
from app.accounts.passwords import hash_password

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


# ---------------------------------------------------------------- who may place whom where

def _principal() -> Any:
    from app.access.rules import current

    access = current()
    return (access, access.principal()) if access is not None else (None, None)


def assignable_roles() -> set[str]:
    """Role names the signed-in user may grant: the union of their roles' ``can_assign``
    (roles.yaml; the compiler refuses a can_assign wider than the role itself, E504)."""
    _access, p = _principal()
    if p is None:
        return set()
    return {name for r in p.roles for name in r.can_assign}


def assignable_orgs() -> list[tuple[str, str]]:
    """(id, name) of the organisations the signed-in user may place accounts in."""
    access, p = _principal()
    if access is None or p is None:
        return []
    model = access.org_model
    session = current_app.appbuilder.sm.session
    query = session.query(model)
    if not any(r.admin or r.scope in ("all", "county") for r in p.roles):
        allowed: set[int] = set()
        for r in p.roles:
            if r.can_assign:
                allowed |= access.orgs_of(p, r)
        query = query.filter(model.id.in_(allowed))
    return [(str(o.id), str(o)) for o in query.order_by(model.id)]


def _org_choices() -> list[tuple[str, str]]:
    return [("", "—")] + assignable_orgs()


def _assignable_role_objects() -> list[Any]:
    sm = current_app.appbuilder.sm
    names_ = _all_or_assignable()
    return sorted((r for r in sm.get_all_roles() if r.name in names_), key=lambda r: r.name)


def _roles_field() -> Any:
    """The role picker: only the roles the editor may grant, shown by their roles.yaml labels."""
    from flask_appbuilder.fields import QuerySelectMultipleField
    from flask_appbuilder.fieldwidgets import Select2ManyWidget

    return QuerySelectMultipleField(_l("Role"), query_func=_assignable_role_objects,
                                    get_pk_func=lambda role: role.id, get_label=_role_label,
                                    widget=Select2ManyWidget(), validators=[DataRequired()])


def _org_field() -> SelectField:
    return SelectField(_l("Organisation"), choices=_org_choices, widget=Select2Widget(),
                       validators=[DataRequired()],
                       description=_l("Data scopes (station / township) are computed from this organisation"))


class UserDBModelView(_FabUserDBModelView):
    """FAB's database user view with readable 是否启用 / 角色 / 用户组 columns, plus:

    * an **organisation** on every account (``jf_user_org``), chosen among the organisations the
      editor covers;
    * the **role picker offers only the roles the editor may assign** (``can_assign``); a role the
      account already holds and the editor may not grant is kept as it is;
    * the list and every page are limited to accounts in the editor's organisations (the data
      interface is the scoped one, app/access/rules.py ``_user_clause``);
    * the password is stored as FAB's hash (``pre_add`` replaces FAB's, which did the hashing).
    """

    # A stable order: FAB's user list has none, so PostgreSQL returned the accounts in heap order
    # (which every login's update reshuffles) and page 1 changed from one visit to the next.
    base_order = ("username", "asc")
    formatters_columns = {
        **(_FabUserDBModelView.formatters_columns or {}),
        "active": format_active,
        "roles": format_roles,
        "groups": format_groups,
    }
    add_columns = ["first_name", "last_name", "username", "active", "email", "org", "roles",
                   "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "org", "roles"]
    add_form_extra_fields = {**(_FabUserDBModelView.add_form_extra_fields or {}), "org": _org_field(),
                             "roles": _roles_field()}
    edit_form_extra_fields = {"org": _org_field(), "roles": _roles_field()}

    def prefill_form(self, form: Any, pk: Any) -> None:
        link = self._link(int(pk))
        if link is not None:
            form.org.data = str(link.org_id)

    def _link(self, user_id: int) -> Any:
        reg = current_app.extensions["jiefen"]
        return self.datamodel.session.get(reg.user_org, user_id)

    def _check_org(self, form_org: Any) -> int:
        allowed = {oid for oid, _name in assignable_orgs()}
        if str(form_org) not in allowed:
            raise ValueError(str(_l("This organisation is outside your area")))
        return int(form_org)

    def pre_add(self, item: Any) -> None:
        with self.datamodel.session.no_autoflush:
            g._jf_user_org = self._check_org(self._form_org())
        self._check_roles(item, keep=())
        item.password = hash_password(item.password)  # FAB's own pre_add does this; we replace it

    def pre_update(self, item: Any) -> None:
        session = self.datamodel.session
        with session.no_autoflush:  # the roles as stored, before anything flushes the form's
            stored = {r.name for r in session.connection().execute(
                _roles_of_stmt(self.datamodel.obj, item.id)).all()}
            g._jf_user_org = self._check_org(self._form_org())
        self._check_roles(item, keep=stored)

    def _form_org(self) -> Any:
        from flask import request

        return request.form.get("org")

    def _check_roles(self, item: Any, keep: Iterable[str]) -> None:
        """Only assignable roles may be added; roles the editor may not grant are kept as they were."""
        allowed = _all_or_assignable()
        wanted = {r.name for r in item.roles}
        bad = wanted - allowed - set(keep)
        if bad:
            raise ValueError(str(_l("You may not grant these roles:")) + " " + ", ".join(sorted(bad)))
        sm = current_app.appbuilder.sm
        for name in set(keep) - allowed - wanted:
            role = sm.find_role(name)
            if role is not None:
                item.roles.append(role)

    def post_add(self, item: Any) -> None:
        self._save_org(item)

    def post_update(self, item: Any) -> None:
        self._save_org(item)

    def _save_org(self, item: Any) -> None:
        reg = current_app.extensions["jiefen"]
        session = self.datamodel.session
        link = session.get(reg.user_org, item.id)
        if link is None:
            session.add(reg.user_org(user_id=item.id, org_id=g._jf_user_org))
        else:
            link.org_id = g._jf_user_org
        session.commit()


def _all_or_assignable() -> set[str]:
    """Admins may grant every role (FAB's admin role included); others their can_assign.

    Never FAB's Public role: it is what anonymous visitors get, not a role for an account.
    """
    _access, p = _principal()
    sm = current_app.appbuilder.sm
    if p is not None and any(r.admin for r in p.roles):
        names_ = {r.name for r in sm.get_all_roles()}
    else:
        names_ = assignable_roles()
    return names_ - {sm.auth_role_public}


def _roles_of_stmt(user_model: type, user_id: int) -> Any:
    from sqlalchemy import select

    table = user_model.roles.property.secondary
    role_model = user_model.roles.property.mapper.class_
    return (select(role_model.__table__.c.name).join(table, table.c.role_id == role_model.__table__.c.id)
            .where(table.c.user_id == user_id))


JiefenUserDBModelView = UserDBModelView
