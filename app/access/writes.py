"""Write rules from the YAML, checked on every generic write (forms, REST, list actions).

The row rules (``rules.py``) answer "may this user write this row at all"; these answer "may they
write *this* into it":

* **The org tree keeps its shape** (entities.yaml ``org_tree``): an organisation's parent must be
  of a type ``allowed_parents`` lists for its own type (a root type has none), no organisation may
  end up under itself, and its children must still be allowed under it after a type change.
* **Scope-defining columns** (an organisation's parent and type) decide what every scoped role
  sees, so a scoped writer may change them only where their scope covers the organisation, its
  old parent and its new parent, and only if the change leaves their own scope no wider (a
  township head cannot hang their centre under another township, or a station under the county).
* **Per-field writers** (a field's ``writers:``): a field a process owns (a rectification's
  status, a station's gold title) is set by that process, or by a plain edit of the roles the YAML
  names and nobody else.  A new record may leave it at its default.

A refusal raises ``rules.AccessRefused`` (400, nothing written: the caller rolls back).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from sqlalchemy import select

from generator import names
from generator.spec import AppSpec, Entity, Field

from app.access.principal import UNRESTRICTED, AccessRefused, Principal, subtree


def guarded_fields(ent: Entity) -> tuple[Field, ...]:
    """Fields with declared writers: a plain edit by anyone else must leave them unchanged."""
    return tuple(f for f in ent.fields.values() if f.writers is not None and not f.readonly)


class WriteRules:
    def __init__(self, access: Any) -> None:
        self.access = access
        self.spec: AppSpec = access.spec
        tree = self.spec.org_tree
        self.org_entity = tree.entity
        self.parent_col = names.column_name(tree.parent_field, "ref")
        self.type_col = tree.type_field

    def columns(self, entity: str) -> tuple[str, ...]:
        """Columns whose stored value the checks compare against (read before an update)."""
        ent = self.spec.entities[entity]
        cols = [names.column_name(f.name, f.type) for f in guarded_fields(ent)]
        if entity == self.org_entity:
            cols += [self.parent_col, self.type_col]
        return tuple(dict.fromkeys(cols))

    def check(self, session: Any, p: Principal, entity: str, item: Any,
              before: Optional[Mapping[str, Any]], roles: tuple[Any, ...]) -> None:
        ent = self.spec.entities[entity]
        self._writers(p, ent, item, before)
        if entity == self.org_entity:
            self._org_tree(session, p, item, before, roles)

    # ------------------------------------------------------------------ per-field writers
    def _writers(self, p: Principal, ent: Entity, item: Any, before: Optional[Mapping[str, Any]]) -> None:
        mine = {r.name for r in p.roles}
        for f in guarded_fields(ent):
            if mine & set(f.writers or ()):
                continue
            col = names.column_name(f.name, f.type)
            value = getattr(item, col, None)
            unchanged = (value == before.get(col)) if before is not None else value in (None, f.default)
            if not unchanged:
                who = "、".join(self._role_label(r, "zh") for r in f.writers or ()) or "流程"
                who_en = ", ".join(self._role_label(r, "en") for r in f.writers or ()) or "the process"
                raise AccessRefused(f"“{f.label.zh}”只能由{who}设置，您不能修改 / '{f.label.en}' is set by "
                                    f"{who_en} only: you cannot change it", 400, ent.name, getattr(item, "id", None))

    def _role_label(self, name: str, lang: str) -> str:
        role = self.spec.roles.get(name)
        return role.label.get(lang) if role is not None else name

    # ------------------------------------------------------------------ the org tree
    def _org_tree(self, session: Any, p: Principal, item: Any, before: Optional[Mapping[str, Any]],
                  roles: tuple[Any, ...]) -> None:
        model = type(item)
        org_id = item.id
        new_parent = getattr(item, self.parent_col, None)
        new_type = getattr(item, self.type_col, None)
        old_parent = before.get(self.parent_col) if before is not None else None
        old_type = before.get(self.type_col) if before is not None else None
        moved = before is None or new_parent != old_parent or new_type != old_type
        if not moved:
            return
        # the stored tree, as this transaction sees it (the write is flushed, not committed)
        rows = session.execute(select(model.id, getattr(model, self.parent_col), getattr(model, self.type_col))).all()
        tree = {oid: (parent, otype) for oid, parent, otype in rows}
        self._shape(tree, org_id, new_parent, new_type)
        if any(r.admin or r.scope in UNRESTRICTED for r in roles):
            return
        covered: set[int] = set()
        for role in roles:
            covered |= self.access.orgs_of(p, role)  # on the tree as it was before this write
        need = {o for o in (new_parent, old_parent) if o is not None}
        if before is not None:
            need.add(org_id)
        after = Principal(p.user_id, p.username, p.org_id, p.roles, tree)
        widened = set().union(*(self.access.orgs_of(after, r) for r in roles)) - covered if roles else set()
        if not need <= covered or widened:
            raise AccessRefused(TREE_SCOPE, 400, self.org_entity, org_id)

    def _shape(self, tree: Mapping[int, tuple[Optional[int], Optional[str]]], org_id: int,
               parent: Optional[int], otype: Optional[str]) -> None:
        allowed = self.spec.org_tree.allowed_parents
        enum = self.spec.enums[self.spec.entities[self.org_entity].fields[self.type_col].enum or ""]

        def label(t: Optional[str], lang: str) -> str:
            return enum.values[t].get(lang) if t in enum.values else str(t)

        if otype in allowed:
            ok = allowed[otype]
            if not ok and parent is not None:
                raise AccessRefused(f"“{label(otype, 'zh')}”是组织树的根，不能有上级组织 / "
                                    f"'{label(otype, 'en')}' is the root of the tree and has no parent",
                                    400, self.org_entity, org_id)
            if ok and parent is None:
                raise AccessRefused(f"“{label(otype, 'zh')}”必须有上级组织 / '{label(otype, 'en')}' needs a parent",
                                    400, self.org_entity, org_id)
            if parent is not None:
                ptype = tree.get(parent, (None, None))[1]
                if ptype not in ok:
                    raise AccessRefused(
                        f"“{label(otype, 'zh')}”不能挂在“{label(ptype, 'zh')}”下面（允许的上级："
                        f"{'、'.join(label(t, 'zh') for t in ok)}） / '{label(otype, 'en')}' cannot sit under "
                        f"'{label(ptype, 'en')}' (allowed: {', '.join(label(t, 'en') for t in ok)})",
                        400, self.org_entity, org_id)
        seen, cur = {org_id}, parent
        while cur is not None:
            if cur in seen:
                raise AccessRefused("不能把组织挂到它自己或它的下级组织下面 / an organisation cannot sit under "
                                    "itself or one of its own children", 400, self.org_entity, org_id)
            seen.add(cur)
            cur = tree.get(cur, (None, None))[0]
        for child in subtree(tree, org_id) - {org_id}:
            cparent, ctype = tree[child]
            if cparent == org_id and ctype in allowed and otype not in allowed[ctype]:
                raise AccessRefused(
                    f"下级组织（{label(ctype, 'zh')}）不能挂在“{label(otype, 'zh')}”下面，请先调整下级组织 / "
                    f"its children ({label(ctype, 'en')}) cannot sit under '{label(otype, 'en')}': move them first",
                    400, self.org_entity, org_id)


TREE_SCOPE = ("只能在您负责的组织范围内调整组织的上级或类型 / you may change an organisation's parent or type "
              "only within the organisations you are responsible for")
