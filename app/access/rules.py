"""The one access module: who may see and change which rows, decided here and nowhere else.

FAB's permission checks answer "may this user read/create/update/delete/export entity E at
all" (``can_<action>`` on E, granted from roles.yaml).  This module answers the row question:
*which* rows, from the data scopes declared once in the YAML:

* ``roles.yaml``    each role's scope: ``all`` / ``county`` (every row), ``township`` (the
                    user's township centre and everything under it), ``station`` (the user's
                    own organisation), ``own`` (rows assigned to the user; an entity without an
                    owner falls back to the user's own organisation).
* ``entities.yaml`` each entity's scope: ``org: <field>`` (the row belongs to that org),
                    ``parent: <field>`` (the row follows its parent row), ``owner: <path>``
                    (who "own" means), ``tree: true`` (the org tree itself: anyone with read
                    may read it — organisation names are not personal data and every transfer
                    must be able to name its target — but writes stay in scope),
                    ``public: true`` (reference data: readable by every reader, written only by
                    county-wide roles).

A user's effective rows for an action are the union over their roles that grant that action
on the entity.  No organisation, no scoped rows: it fails closed.  Outside a request (the CLI,
demo loading, migrations) nothing is filtered.

Every surface goes through :class:`Access`: the data interface of every generated screen and
API filters each query with :meth:`Access.clause` (list, count, search, filters, show, edit,
delete, list actions, foreign-key pickers, exports, the REST API) and checks each write with
:meth:`Access.check_write` after a flush and before the commit, so a refused write leaves
nothing behind.  A row out of scope answers exactly like a missing one (404).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from flask import g, has_request_context, request
from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from generator import names
from generator.spec import AppSpec, Entity, Role

from app.access.principal import UNRESTRICTED, AccessRefused, Principal, subtree  # noqa: F401 (re-exported)

ACTIONS = ("read", "create", "update", "delete", "export")
# Columns no payload may set: the server owns them.
SERVER_COLUMNS = frozenset({"id", "state", "version", "version_id", "created_by", "created_on",
                            "changed_by", "changed_on", "created_by_fk", "changed_by_fk"})
_MEMO = "_jf_principal"


class Access:
    """Row rules for one compiled spec and its models."""

    def __init__(self, spec: AppSpec, models: Mapping[str, type], user_org: type, user_model: type) -> None:
        self.spec = spec
        self.models = dict(models)
        self.entity_of = {cls: name for name, cls in models.items()}
        self.user_org = user_org
        self.user_model = user_model
        self.org_entity = spec.org_tree.entity
        self.org_model = models[self.org_entity]
        self.township_types = frozenset(spec.org_tree.levels.get("township", ()))

    # ------------------------------------------------------------------ who is asking
    def principal(self) -> Optional[Principal]:
        """The request's principal; None outside a request (system work: nothing filtered).

        Inside a request an anonymous user is a principal with no roles (sees nothing)."""
        if not has_request_context():
            return None
        memo = g.get(_MEMO)
        req = request._get_current_object()
        if memo is not None and memo[0] is req:
            return memo[1]  # type: ignore[no-any-return]
        principal = self._load_principal()
        g._jf_principal = (req, principal)
        return principal

    def _load_principal(self) -> Principal:
        from flask import current_app

        sm = current_app.appbuilder.sm
        try:
            user = sm.current_user  # the session's user, else the JWT's (FAB's own order)
        except Exception:  # noqa: BLE001 - no JWT context: anonymous
            user = None
        if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
            return Principal(None, "", None, ())
        grants = getattr(sm, "_grants", None)  # our manager's per-request memo; FAB's: user.roles
        role_names = grants(user)[0] if grants else {r.name for r in user.roles}
        roles = tuple(self.spec.roles[n] for n in sorted(role_names) if n in self.spec.roles)
        session = sm.session
        tree: dict[int, tuple[Optional[int], Optional[str]]] = {}
        if roles and all(r.admin or r.scope in UNRESTRICTED for r in roles):
            return Principal(user.id, user.username, None, roles, tree)  # every row: no org needed
        org_id = session.execute(select(self.user_org.org_id).where(self.user_org.user_id == user.id)).scalar()
        if org_id is not None:
            parent_col = getattr(self.org_model, names.column_name(self.spec.org_tree.parent_field, "ref"))
            type_col = getattr(self.org_model, self.spec.org_tree.type_field)
            for oid, parent, otype in session.execute(select(self.org_model.id, parent_col, type_col)):
                tree[oid] = (parent, otype)
        return Principal(user.id, user.username, org_id, roles, tree)

    # ------------------------------------------------------------------ org sets
    def orgs_of(self, p: Principal, role: Role) -> frozenset[int]:
        """The organisations a (scoped) role of ``p`` covers."""
        if p.org_id is None:
            return frozenset()
        if role.scope == "township":
            oid: Optional[int] = p.org_id
            seen = set()
            while oid is not None and oid not in seen:
                seen.add(oid)
                parent, otype = p.tree.get(oid, (None, None))
                if otype in self.township_types:
                    return subtree(p.tree, oid)
                oid = parent
            return subtree(p.tree, p.org_id)  # no township above: their own subtree
        return frozenset({p.org_id})  # station, and own's fallback

    # ------------------------------------------------------------------ clauses
    def granting_roles(self, p: Principal, entity: str, action: str) -> tuple[Role, ...]:
        return tuple(r for r in p.roles if r.admin or action in r.actions_on(entity))

    def clause(self, model: type, action: str = "read",
               p: Optional[Principal] = None) -> Optional[ColumnElement[bool]]:
        """The WHERE clause limiting ``model`` to the rows ``action`` may touch; None = all rows."""
        if p is None:
            p = self.principal()
            if p is None:
                return None
        if model is self.user_model:
            return self._user_clause(p)
        entity = self.entity_of.get(model)
        if entity is None:
            return None  # not ours (FAB's own tables): FAB's permission checks govern them
        roles = self.granting_roles(p, entity, action)
        if not roles:
            return false()
        if any(r.admin or r.scope in UNRESTRICTED for r in roles):
            return None
        return or_(*(self._role_clause(self.spec.entities[entity], r, p, action, 0) for r in roles))

    def _role_clause(self, ent: Entity, role: Role, p: Principal, action: str, depth: int) -> ColumnElement[bool]:
        model = self.models[ent.name]
        sc = ent.scope
        if sc is None or depth > 8 or p.org_id is None:
            return false()
        if sc.public:
            return true() if action == "read" else false()
        if sc.tree:
            return true() if action == "read" else model.id.in_(self.orgs_of(p, role))
        if role.scope == "own" and sc.owner:
            return self._owner_clause(ent, sc.owner.split("."), p)
        if sc.org:
            col = getattr(model, names.column_name(sc.org, "ref"))
            return col.in_(self.orgs_of(p, role))
        if sc.parent:
            f = ent.fields[sc.parent]
            parent = self.spec.entities[f.ref]  # type: ignore[index]
            pmodel = self.models[parent.name]
            col = getattr(model, names.column_name(sc.parent, "ref"))
            inner = self._role_clause(parent, role, p, "read" if action == "read" else "update", depth + 1)
            return col.in_(select(pmodel.id).where(inner))
        return false()

    def _owner_clause(self, ent: Entity, path: list[str], p: Principal) -> ColumnElement[bool]:
        model = self.models[ent.name]
        f = ent.fields[path[0]]
        col = getattr(model, names.column_name(f.name, f.type))
        if len(path) == 1:
            return col == p.user_id if f.type == "user" else false()
        target = self.spec.entities[f.ref]  # type: ignore[index]
        tmodel = self.models[target.name]
        return col.in_(select(tmodel.id).where(self._owner_clause(target, path[1:], p)))

    def _user_clause(self, p: Principal) -> Optional[ColumnElement[bool]]:
        """Login accounts (user pickers): accounts placed in an organisation the user covers."""
        if any(r.admin or r.scope in UNRESTRICTED for r in p.roles):
            return None
        orgs: set[int] = set()
        for r in p.roles:
            orgs |= self.orgs_of(p, r)
        if not orgs:
            return false()
        return self.user_model.id.in_(select(self.user_org.user_id).where(self.user_org.org_id.in_(orgs)))

    # ------------------------------------------------------------------ single rows
    def allows(self, session: Any, model: type, pk: Any, action: str) -> bool:
        clause = self.clause(model, action)
        if clause is None:
            return True
        # On the session's connection: no autoflush, so "before" checks see the stored row.
        return session.connection().execute(select(model.id).where(and_(model.id == pk, clause))).first() is not None

    def access_columns(self, entity: str) -> tuple[str, ...]:
        """Columns that place a row in the tree: the org column, the parent FK, the owner ref."""
        ent = self.spec.entities[entity]
        sc = ent.scope
        out = []
        if sc is not None:
            for fname in (sc.org, sc.parent, sc.owner.split(".")[0] if sc.owner else None):
                if fname and fname in ent.fields:
                    f = ent.fields[fname]
                    out.append(names.column_name(f.name, f.type))
        return tuple(out)

    def prepare_create(self, model: type, item: Any) -> None:
        """Before a new row is flushed: its organisation defaults to the user's own."""
        p = self.principal()
        entity = self.entity_of.get(model)
        if p is None or entity is None:
            return
        sc = self.spec.entities[entity].scope
        if sc is not None and sc.org:
            col = names.column_name(sc.org, "ref")
            if getattr(item, col, None) is None and getattr(item, sc.org, None) is None and p.org_id is not None:
                setattr(item, col, p.org_id)

    def refuse_self_reference(self, model: type, item: Any) -> None:
        """A row pointing at itself (an org as its own parent) cannot even be flushed (SQLAlchemy's
        CircularDependencyError): refused before the flush, with the field named."""
        entity = self.entity_of[model]
        for f in self.spec.entities[entity].fields.values():
            if f.type == "ref" and f.ref == entity:
                target = getattr(item, f.name, None)
                fk = getattr(item, names.column_name(f.name, f.type), None)
                if target is item or (fk is not None and item.id is not None and fk == item.id):
                    raise AccessRefused(SELF_REFERENCE.format(field=f.label.zh, field_en=f.label.en), 400,
                                        entity, item.id)

    def check_write(self, session: Any, model: type, item: Any, action: str,
                    before: Optional[Mapping[str, Any]] = None) -> None:
        """After the flush of a create/update (before commit): the row as written must lie in
        the user's scope for ``action``; scoped users may not move a row (change its org or
        parent); every reference it holds must point at a row the user may read."""
        p = self.principal()
        entity = self.entity_of.get(model)
        if p is None or entity is None:
            return
        roles = self.granting_roles(p, entity, action)
        if before is not None and not any(r.admin or r.scope in UNRESTRICTED for r in roles):
            moved = [c for c in self.access_columns(entity)[:2] if before.get(c) != getattr(item, c, None)]
            if moved:
                raise AccessRefused(MOVE_REFUSED, 400, entity, item.id)
        if not self.allows(session, model, item.id, action):
            raise AccessRefused(OUT_OF_SCOPE, 400, entity, item.id)
        ent = self.spec.entities[entity]
        for f in ent.fields.values():
            if f.type not in ("ref", "user"):
                continue
            col = names.column_name(f.name, f.type)
            value = getattr(item, col, None)
            if value is None or (before is not None and before.get(col) == value):
                continue
            target = self.user_model if f.type == "user" else self.models[f.ref]  # type: ignore[index]
            if not self.allows(session, target, value, "read"):
                raise AccessRefused(REF_OUT_OF_SCOPE.format(field=f.label.zh, field_en=f.label.en), 400,
                                    entity, item.id)
        self.write_rules.check(session, p, entity, item, before, roles)

    @property
    def write_rules(self) -> Any:
        found = self.__dict__.get("_write_rules")
        if found is None:
            from app.access.writes import WriteRules

            found = self.__dict__["_write_rules"] = WriteRules(self)
        return found

    def stored_refs(self, session: Any, model: type, pk: Any) -> dict[str, Any]:
        """The row's reference columns (and the columns the write rules compare) as committed,
        read without flushing pending edits."""
        entity = self.entity_of.get(model)
        if entity is None:
            return {}
        cols = [names.column_name(f.name, f.type) for f in self.spec.entities[entity].fields.values()
                if f.type in ("ref", "user")]
        cols = list(dict.fromkeys(cols + list(self.write_rules.columns(entity))))
        if not cols:
            return {}
        table = model.__table__  # type: ignore[attr-defined]
        row = session.connection().execute(select(*(table.c[c] for c in cols)).where(table.c.id == pk)).first()
        return dict(zip(cols, row)) if row is not None else {}

    # ------------------------------------------------------------------ the datamodel hook
    def hook(self, event: str, interface: Any, obj: Any, before: Optional[Mapping[str, Any]] = None) -> Any:
        """Called by every generated data interface (generator/builders/datamodel.py)."""
        model = interface.obj
        if event == "query":
            clause = self.clause(model, "read")
            return obj if clause is None else obj.filter(clause)
        if self.principal() is None or model not in self.entity_of:
            return None
        session = interface.session
        if event in ("before_create", "before_update"):
            self.refuse_self_reference(model, obj)
        if event == "before_create":
            self.prepare_create(model, obj)
        elif event == "after_create":
            self.check_write(session, model, obj, "create")
        elif event == "before_update":
            if not self.allows(session, model, obj.id, "update"):
                raise AccessRefused(NOT_FOUND, 404, self.entity_of[model], obj.id)
            return self.stored_refs(session, model, obj.id)
        elif event == "after_update":
            self.check_write(session, model, obj, "update", before=before or {})
        elif event == "before_delete":
            if not self.allows(session, model, obj.id, "delete"):
                raise AccessRefused(NOT_FOUND, 404, self.entity_of[model], obj.id)
        return None


NOT_FOUND = "记录不存在 / not found"
OUT_OF_SCOPE = "不在您的数据范围内，未保存 / outside your data scope: nothing was saved"
MOVE_REFUSED = ("不能通过修改把记录移到其他组织或上级记录，请走移交流程 / a record cannot be moved to another "
                "organisation or parent by editing: use the transfer workflow")
REF_OUT_OF_SCOPE = "“{field}”指向的记录不在您的数据范围内 / '{field_en}' points outside your data scope"
SELF_REFERENCE = "“{field}”不能指向记录自己 / '{field_en}' cannot point at the record itself"


def current() -> Optional[Access]:
    """The app's access rules (None when the app has none: FAB's own interfaces)."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    return current_app.extensions.get("jiefen_access")  # type: ignore[no-any-return]


def org_of_actor() -> Optional[int]:
    """The acting user's organisation (the audit trail records it with every row)."""
    access = current()
    principal = access.principal() if access is not None else None
    return principal.org_id if principal is not None else None


def dispatch(event: str, interface: Any, obj: Any, **kw: Any) -> Any:
    """The hook installed in the data interfaces: the current app's rules, if it has any."""
    access = current()
    if access is None:
        return obj if event == "query" else None
    return access.hook(event, interface, obj, **kw)
