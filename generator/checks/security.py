"""E5xx: personal data must sit behind a data scope, and roles must not escalate.

Every entity holding personal data (``pii:``) must be placed in the org tree
(E501), through a chain of ``parent`` scopes that ends at an org field or the
tree itself (E503); ``public`` entities may hold none.  A role whose scope is
``all`` and who can write is flagged unless marked admin (W502), and no role
may hand out a role wider than its own (E504).
"""

from __future__ import annotations

from ..errors import ConfigError, error
from ..source import dotted
from ..spec import AppSpec, Entity
from . import check

SCOPE_RANK = {"own": 0, "station": 1, "township": 2, "county": 3, "all": 4}


@check
def personal_data_scope(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for ent in spec.entities.values():
        pii = ent.pii_fields
        if not pii:
            continue
        names = ", ".join(f.name for f in pii)
        if ent.scope is None or not ent.scope.is_set:
            out.append(error("E501", ent.src, dotted(ent.path), entity=ent.name, fields=names,
                             reason="没有声明数据范围 scope", reason_en="it declares no data scope"))
        elif ent.scope.public and not (ent.scope.org or ent.scope.parent or ent.scope.tree):
            out.append(error("E501", spec.key_at(ent.scope, "public"), dotted(ent.scope.path + ("public",)),
                             entity=ent.name, fields=names, reason="数据范围是 public（所有人可见）",
                             reason_en="its scope is public (visible to everyone)"))
    return out


def _scope_errors(spec: AppSpec, ent: Entity) -> list[ConfigError]:
    sc = ent.scope
    if sc is None:
        return []
    out: list[ConfigError] = []

    def bad(key: str, zh: str, en: str, fix: str, fix_en: str) -> None:
        out.append(error("E503", spec.value_at(sc, key), dotted(sc.path + (key,)), entity=ent.name,
                         reason=zh, reason_en=en, fix=fix, fix_en=fix_en))

    kinds = [k for k in ("org", "parent", "tree", "public") if getattr(sc, k)]
    if len(kinds) > 1:
        bad(kinds[1], f"同时声明了 {' 和 '.join(kinds)}", f"declares both {' and '.join(kinds)}",
            "只保留其中一种", "keep exactly one of them")
    if sc.tree and ent.name != spec.org_tree.entity:
        bad("tree", "tree: true 只能用于组织实体", "tree: true is only for the org entity",
            "改用 org: 指向组织的字段", "use org: <ref to org> instead")
    if sc.org:
        f = ent.fields.get(sc.org)
        if f is None or f.type != "ref" or f.ref != spec.org_tree.entity:
            bad("org", f"'{sc.org}' 不是指向组织（{spec.org_tree.entity}）的关联字段",
                f"'{sc.org}' is not a ref field to the org entity ({spec.org_tree.entity})",
                f"写一个 type: ref, ref: {spec.org_tree.entity} 的字段名", "name a ref-to-org field")
    if sc.parent:
        chain, cur = [ent.name], ent
        while cur.scope is not None and cur.scope.parent:
            f = cur.fields.get(cur.scope.parent)
            target = spec.entities.get(f.ref) if f is not None and f.type == "ref" and f.ref else None
            if target is None:
                if cur is ent:
                    bad("parent", f"'{sc.parent}' 不是关联到其他实体的字段",
                        f"'{sc.parent}' is not a ref to another entity", "写一个 type: ref 的字段名",
                        "name a ref field")
                return out
            if target.name in chain:
                bad("parent", f"形成循环：{' → '.join(chain + [target.name])}",
                    f"forms a cycle: {' → '.join(chain + [target.name])}", "让链条最终落到组织字段上",
                    "make the chain end at an org field")
                return out
            chain.append(target.name)
            cur = target
        if cur.scope is None or not (cur.scope.org or cur.scope.tree):
            bad("parent", f"经 {' → '.join(chain)} 没有落到组织上（'{cur.name}' 没有 org 范围）",
                f"never reaches an org via {' → '.join(chain)} ('{cur.name}' has no org scope)",
                f"给 '{cur.name}' 添加 scope: {{org: …}}", f"give '{cur.name}' a scope: {{org: …}}")
    if sc.owner:
        cur, parts = ent, sc.owner.split(".")
        for i, part in enumerate(parts):
            f = cur.fields.get(part)
            last = i == len(parts) - 1
            if f is not None and f.type == "ref" and f.ref not in spec.entities:
                break  # the unknown target is reported on the ref field itself
            if f is None or (last and f.type != "user") or (not last and (f.type != "ref" or f.ref not in spec.entities)):
                bad("owner", f"路径 '{sc.owner}' 在 '{part}' 处无效（须经关联字段，终点为 user 字段）",
                    f"path '{sc.owner}' breaks at '{part}' (refs, ending in a user field)",
                    "例如 assigned_mediator.user", "e.g. assigned_mediator.user")
                break
            if not last:
                cur = spec.entities[f.ref]  # type: ignore[index]
    return out


@check
def scope_chains(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for ent in spec.entities.values():
        out += _scope_errors(spec, ent)
    return out


@check
def role_safety(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for role in spec.roles.values():
        writes = any(a != "read" and a != "export" for acts in role.entity_grants.values() for a in acts)
        if role.scope == "all" and not role.admin and writes:
            out.append(error("W502", spec.value_at(role, "scope"), dotted(role.path + ("scope",)), role=role.name))
        for i, other in enumerate(role.can_assign):
            o = spec.roles.get(other)
            if o is None or role.admin:
                continue
            if SCOPE_RANK[o.scope] > SCOPE_RANK[role.scope] or (o.admin and not role.admin):
                out.append(error("E504", spec.value_at(role, "can_assign", i), dotted(role.path + ("can_assign", i)),
                                 role=role.name, other=other, scope=role.scope, other_scope=o.scope))
    return out


def owners(spec: AppSpec) -> dict[tuple[str, str], str]:
    """(entity, field) → the process that sets it: declared (``process:``), or a workflow transition's
    ``effects: set:`` on its case entity."""
    out: dict[tuple[str, str], str] = {}
    for wf in spec.workflows.values():
        for t in wf.transitions.values():
            for eff in t.effects:
                for name in eff.set:
                    out.setdefault((wf.entity, name), wf.name)
    for ent in spec.entities.values():
        for f in ent.fields.values():
            if f.process:
                out[(ent.name, f.name)] = f.process
    return out


@check
def process_owned_fields(spec: AppSpec) -> list[ConfigError]:
    """A field a process sets must not be writable by a plain edit, unless the YAML names who may."""
    out: list[ConfigError] = []
    for (entity, name), process in sorted(owners(spec).items()):
        ent = spec.entities.get(entity)
        f = ent.fields.get(name) if ent is not None else None
        if f is None or f.readonly or f.writers is not None:
            continue
        roles = sorted(r.name for r in spec.roles.values()
                       if r.admin or {"create", "update"} & set(r.actions_on(entity)))
        if not roles:
            continue
        src = spec.value_at(f, "process") if f.process else f.src
        out.append(error("E505", src, dotted(f.path), entity=entity, name=name, process=process,
                         roles=", ".join(roles)))
    return out
