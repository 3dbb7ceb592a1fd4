"""E3xx: every name one part of the config uses must exist where it points.

entities → menus, enums, entities, fields; org_tree → entity, fields, types;
roles → entities, transitions, checklist actions, personal-data fields, roles;
workflows → entity, states, fields, roles, deadlines, checklists;
checklists → entity, org types; reference.yaml → entities, fields, enum values.
"""

from __future__ import annotations

from typing import Optional

from ..errors import ConfigError, error
from ..source import dotted
from ..spec import SYSTEM_GRANTS, AppSpec, Entity, Field, Workflow
from . import check, unknown

_STRINGY = {"string", "text"}
_NUMERIC = {"integer", "decimal"}


def org_types(spec: AppSpec) -> tuple[str, ...]:
    """The values of the org tree's type enum (empty when the tree is misconfigured)."""
    org = spec.entities.get(spec.org_tree.entity)
    f = org.fields.get(spec.org_tree.type_field) if org else None
    e = spec.enums.get(f.enum) if f and f.enum else None
    return tuple(e.values) if e else ()


def _field(spec: AppSpec, entity: Entity, name: str, path: tuple, src=None) -> list[ConfigError]:  # type: ignore[no-untyped-def]
    if name in entity.fields:
        return []
    return [unknown("E307", src or spec.value_at(entity, *path[len(entity.path):]), path, name,
                    entity.fields, entity=entity.name)]


@check
def entity_references(spec: AppSpec) -> list[ConfigError]:
    """Menus, enums, refs and column lists of every entity point at things that exist."""
    out: list[ConfigError] = []
    for ent in spec.entities.values():
        if ent.menu not in spec.menus:
            out.append(unknown("E309", spec.value_at(ent, "menu"), ent.path + ("menu",), ent.menu, spec.menus))
        for f in ent.fields.values():
            out += _field_options(spec, ent, f)
        for key in ("list", "api_list", "search", "filters"):
            for i, name in enumerate(getattr(ent, key)):
                out += _field(spec, ent, name, ent.path + (key, i))
        for f in ent.fields.values():
            for i, role in enumerate(f.writers or ()):
                if role not in spec.roles:
                    out.append(unknown("E304", spec.value_at(f, "writers", i), f.path + ("writers", i), role,
                                       spec.roles))
            if f.process and f.process not in spec.workflows and f.process not in spec.checklists:
                out.append(unknown("E318", spec.value_at(f, "process"), f.path + ("process",), f.process,
                                   list(spec.workflows) + list(spec.checklists)))
        if ent.display:
            out += _field(spec, ent, ent.display, ent.path + ("display",))
        if ent.order_by:
            out += _field(spec, ent, ent.order_by.lstrip("-"), ent.path + ("order_by",))
        for i, group in enumerate(ent.unique_together):
            for j, name in enumerate(group):
                out += _field(spec, ent, name, ent.path + ("unique_together", i, j))
    return out


def _field_options(spec: AppSpec, ent: Entity, f: Field) -> list[ConfigError]:
    out: list[ConfigError] = []
    p = f.path

    def bad(key: str, zh: str, en: str, fix: str, fix_en: str) -> None:
        out.append(error("E313", spec.key_at(f, key), dotted(p + (key,)), entity=ent.name, name=f.name,
                         type=f.type, reason=zh, reason_en=en, fix=fix, fix_en=fix_en))

    if f.type == "enum":
        if not f.enum:
            bad("type", "选项字段必须用 enum: 指定选项集", "an enum field needs enum: <name>",
                "添加 enum: 选项集名称", "add enum: <enum name>")
        elif f.enum not in spec.enums:
            out.append(unknown("E308", spec.value_at(f, "enum"), p + ("enum",), f.enum, spec.enums,
                               what="选项集", what_en="enum"))
        elif f.default is not None and str(f.default) not in spec.enums[f.enum].values:
            out.append(unknown("E308", spec.value_at(f, "default"), p + ("default",), str(f.default),
                               spec.enums[f.enum].values, what="选项值", what_en="enum value"))
    elif f.enum:
        bad("enum", "只有 type: enum 的字段才能写 enum", "only enum fields take enum:",
            "删除 enum:，或把 type 改为 enum", "remove enum:, or set type: enum")
    if f.type == "ref":
        if not f.ref:
            bad("type", "关联字段必须用 ref: 指定实体", "a ref field needs ref: <entity>",
                "添加 ref: 实体名", "add ref: <entity>")
        elif f.ref not in spec.entities:
            out.append(unknown("E305", spec.value_at(f, "ref"), p + ("ref",), f.ref, spec.entities))
    else:
        for key in ("ref", "on_delete"):
            if getattr(f, key):
                bad(key, f"只有 type: ref 的字段才能写 {key}", f"only ref fields take {key}:",
                    f"删除 {key}:，或把 type 改为 ref", f"remove {key}:, or set type: ref")
    if f.type not in _STRINGY:
        for key in ("max_length", "min_length", "pattern", "format"):
            if getattr(f, key) is not None:
                bad(key, f"{key} 只适用于 string/text 字段", f"{key} applies to string/text fields only",
                    f"删除 {key}:", f"remove {key}:")
    if f.type != "file":
        for key in ("accept", "max_size_mb", "max_files"):
            if getattr(f, key):
                bad(key, f"{key} 只适用于附件（file）字段", f"{key} applies to file fields only",
                    f"删除 {key}:，或把 type 改为 file", f"remove {key}:, or set type: file")
    if f.type not in _NUMERIC:
        for key in ("min", "max"):
            if getattr(f, key) is not None:
                bad(key, f"{key} 只适用于 integer/decimal 字段", f"{key} applies to integer/decimal only",
                    f"删除 {key}:", f"remove {key}:")
    if f.min is not None and f.max is not None and f.min > f.max:
        bad("min", "min 大于 max", "min is greater than max", "调整 min 或 max", "fix min or max")
    if f.min_length is not None and f.max_length is not None and f.min_length > f.max_length:
        bad("min_length", "min_length 大于 max_length", "min_length is greater than max_length",
            "调整 min_length 或 max_length", "fix min_length or max_length")
    if f.pattern is not None:
        import re

        try:
            re.compile(f.pattern)
        except re.error as exc:
            bad("pattern", f"正则表达式无效（{exc}）", f"invalid regular expression ({exc})",
                "修正正则表达式，记得用单引号括起来", "fix the expression and quote it with single quotes")
    return out


@check
def org_tree_references(spec: AppSpec) -> list[ConfigError]:
    """The org tree names a real entity, a self-reference and an enum that its levels partition."""
    t = spec.org_tree
    out: list[ConfigError] = []
    org = spec.entities.get(t.entity)
    if org is None:
        return [unknown("E305", spec.value_at(t, "entity"), t.path + ("entity",), t.entity, spec.entities)]
    pf = org.fields.get(t.parent_field)
    if pf is None:
        out += _field(spec, org, t.parent_field, t.path + ("parent_field",), spec.value_at(t, "parent_field"))
    elif pf.type != "ref" or pf.ref != t.entity:
        out.append(error("E311", spec.value_at(t, "parent_field"), dotted(t.path + ("parent_field",)),
                         entity=t.entity, name=t.parent_field, use="上级组织字段", use_en="the parent field",
                         reason=f"必须是 ref: {t.entity} 字段", reason_en=f"it must be a ref: {t.entity} field",
                         fix=f"把该字段改为 type: ref, ref: {t.entity}", fix_en=f"make it type: ref, ref: {t.entity}"))
    tf = org.fields.get(t.type_field)
    if tf is None:
        return out + _field(spec, org, t.type_field, t.path + ("type_field",), spec.value_at(t, "type_field"))
    if tf.type != "enum":
        return out + [error("E311", spec.value_at(t, "type_field"), dotted(t.path + ("type_field",)),
                            entity=t.entity, name=t.type_field, use="组织类型字段", use_en="the type field",
                            reason="必须是 enum 字段", reason_en="it must be an enum field",
                            fix="把该字段改为 type: enum", fix_en="make it type: enum")]
    types = org_types(spec)
    if not types:
        return out
    seen: dict[str, str] = {}
    for level, values in t.levels.items():
        for i, v in enumerate(values):
            path = t.path + ("levels", level, i)
            if v not in types:
                out.append(unknown("E308", spec.key_at(t, "levels", level, i), path, v, types,
                                   what="组织类型", what_en="org type"))
            elif v in seen:
                out.append(error("E407", spec.key_at(t, "levels", level, i), dotted(path), name=v,
                                 reason=f"同时列在 {seen[v]} 和 {level} 中",
                                 reason_en=f"is listed under both {seen[v]} and {level}"))
            else:
                seen[v] = level
    for v in types:
        if v not in seen:
            out.append(error("E407", spec.key_at(t, "levels"), dotted(t.path + ("levels",)), name=v,
                             reason="没有列在任何层级中", reason_en="is not listed under any level"))
    for child, parents in t.allowed_parents.items():
        if child not in types:
            out.append(unknown("E308", spec.key_at(t, "allowed_parents", child),
                               t.path + ("allowed_parents", child), child, types,
                               what="组织类型", what_en="org type"))
        for i, p in enumerate(parents):
            if p not in types:
                out.append(unknown("E308", spec.key_at(t, "allowed_parents", child, i),
                                   t.path + ("allowed_parents", child, i), p, types,
                                   what="组织类型", what_en="org type"))
    return out


def _transition_names(spec: AppSpec) -> dict[str, set[str]]:
    return {w: set(wf.transitions) for w, wf in spec.workflows.items()}


@check
def role_references(spec: AppSpec) -> list[ConfigError]:
    """Grants name real entities, transitions, checklist actions and personal-data fields."""
    out: list[ConfigError] = []
    transitions = _transition_names(spec)
    all_transitions = [f"{w}.{t}" for w, ts in transitions.items() for t in ts]
    all_actions = [f"{c}.{a}" for c, cl in spec.checklists.items() for a in cl.actions]
    types = org_types(spec)
    for role in spec.roles.values():
        g = role.path + ("grants",)

        def bad(sub: tuple, name: str, zh: str, en: str, choices) -> None:  # type: ignore[no-untyped-def]
            out.append(unknown("E303", spec.value_at(role, "grants", *sub), g + sub, name, choices,
                               role=role.name, reason=zh, reason_en=en))

        for en in role.entity_grants:
            if en != "*" and en not in spec.entities:
                out.append(unknown("E303", spec.key_at(role, "grants", "entities", en), g + ("entities", en), en,
                                   spec.entities, role=role.name, reason="没有这个实体", reason_en="no such entity"))
        for i, t in enumerate(role.transitions):
            wf, _, name = t.partition(".")
            if wf not in transitions:
                bad(("transitions", i), t, f"没有流程 '{wf}'", f"no workflow '{wf}'", all_transitions)
            elif name != "*" and name not in transitions[wf]:
                bad(("transitions", i), t, f"流程 '{wf}' 没有这个动作", f"workflow '{wf}' has no such transition",
                    all_transitions)
        for i, a in enumerate(role.checklists):
            cl, _, action = a.partition(".")
            if cl not in spec.checklists:
                bad(("checklists", i), a, f"没有检查清单 '{cl}'", f"no checklist '{cl}'", all_actions)
            elif action != "*" and action not in spec.checklists[cl].actions:
                bad(("checklists", i), a, f"清单 '{cl}' 的 actions 中没有 '{action}'",
                    f"checklist '{cl}' has no action '{action}'", all_actions)
        for i, r in enumerate(role.reveal):
            en, _, fname = r.partition(".")
            ent = spec.entities.get(en)
            pii = [f"{en}.{f.name}" for e in spec.entities.values() for f in e.pii_fields] if ent is None else \
                [f"{en}.{f.name}" for f in ent.pii_fields]
            if ent is None:
                bad(("reveal", i), r, f"没有实体 '{en}'", f"no entity '{en}'", pii)
            elif fname != "*" and fname not in ent.fields:
                bad(("reveal", i), r, f"实体 '{en}' 没有字段 '{fname}'", f"entity '{en}' has no field '{fname}'", pii)
            elif fname != "*" and not ent.fields[fname].pii:
                bad(("reveal", i), r, "该字段没有标注 pii，无需解除遮蔽", "the field is not marked pii", pii)
        for i, name in enumerate(role.system):
            if name not in SYSTEM_GRANTS:
                out.append(unknown("E314", spec.value_at(role, "grants", "system", i), g + ("system", i), name,
                                   SYSTEM_GRANTS, role=role.name, allowed=", ".join(SYSTEM_GRANTS)))
        for i, other in enumerate(role.can_assign):
            if other not in spec.roles:
                out.append(unknown("E304", spec.value_at(role, "can_assign", i), role.path + ("can_assign", i),
                                   other, spec.roles))
        for i, ot in enumerate(role.org_types):
            if types and ot not in types:
                out.append(unknown("E308", spec.value_at(role, "org_types", i), role.path + ("org_types", i), ot,
                                   types, what="组织类型", what_en="org type"))
    return out


def _role_ref(spec: AppSpec, node, sub: tuple, name: str) -> list[ConfigError]:  # type: ignore[no-untyped-def]
    if name in spec.roles:
        return []
    return [unknown("E304", spec.value_at(node, *sub), node.path + sub, name, spec.roles)]


def _state_ref(spec: AppSpec, wf: Workflow, node, sub: tuple, name: str) -> list[ConfigError]:  # type: ignore[no-untyped-def]
    if name in wf.states:
        return []
    return [unknown("E302", spec.value_at(node, *sub), node.path + sub, name, wf.states, workflow=wf.name)]


@check
def workflow_references(spec: AppSpec) -> list[ConfigError]:
    """States, roles, fields, deadlines, attachments and conditions named by each workflow exist."""
    out: list[ConfigError] = []
    levels = spec.enums.get("mediation_level")
    for wf in spec.workflows.values():
        ent = spec.entities.get(wf.entity)
        if ent is None:
            out.append(unknown("E301", spec.value_at(wf, "entity"), wf.path + ("entity",), wf.entity,
                               spec.entities, workflow=wf.name))
        out += _state_ref(spec, wf, wf, ("initial",), wf.initial)
        # False: the attachments declaration is broken and already reported, so skip its users.
        doc_types = _attachment_types(spec, wf, ent, out) if ent else False
        for st in wf.states.values():
            for i, r in enumerate(st.owners):
                out += _role_ref(spec, st, ("owners", i), r)
            if ent:
                for i, fname in enumerate(st.editable):
                    out += _field(spec, ent, fname, st.path + ("editable", i), spec.value_at(st, "editable", i))
            if st.level is not None:
                choices = tuple(levels.values) if levels else ()
                if st.level not in choices:
                    out.append(unknown("E308", spec.value_at(st, "level"), st.path + ("level",), st.level, choices,
                                       what="调解层级（mediation_level 选项值）",
                                       what_en="mediation level (mediation_level value)"))
        for dl in wf.deadlines.values():
            for key, names in (("start", dl.start), ("stop", dl.stop)):
                for i, n in enumerate(names):
                    out += _state_ref(spec, wf, dl, (key, "enter", i), n)
            for i, n in enumerate(dl.pause_in):
                out += _state_ref(spec, wf, dl, ("pause_in", i), n)
            if dl.extension:
                for i, r in enumerate(dl.extension.roles):
                    out += _role_ref(spec, dl, ("extension", "roles", i), r)
        for tr in wf.transitions.values():
            out += _transition_refs(spec, wf, ent, tr, doc_types)
    return out


def _attachment_types(spec: AppSpec, wf: Workflow, ent: Optional[Entity],
                      out: list[ConfigError]) -> "tuple[str, ...] | None | bool":
    a = wf.attachments
    if a is None:
        return None
    att = spec.entities.get(a.entity)
    if att is None:
        out.append(unknown("E305", spec.value_at(a, "entity"), a.path + ("entity",), a.entity, spec.entities))
        return False
    pf = att.fields.get(a.parent_field)
    if pf is None:
        out += _field(spec, att, a.parent_field, a.path + ("parent_field",), spec.value_at(a, "parent_field"))
    elif pf.type != "ref" or pf.ref != wf.entity:
        out.append(error("E311", spec.value_at(a, "parent_field"), dotted(a.path + ("parent_field",)),
                         entity=att.name, name=pf.name, use="附件所属案件字段", use_en="the attachment's parent",
                         reason=f"必须是 ref: {wf.entity} 字段", reason_en=f"it must be a ref: {wf.entity} field",
                         fix=f"改为 type: ref, ref: {wf.entity}", fix_en=f"make it type: ref, ref: {wf.entity}"))
    tf = att.fields.get(a.type_field)
    if tf is None:
        out += _field(spec, att, a.type_field, a.path + ("type_field",), spec.value_at(a, "type_field"))
        return False
    if tf.type == "enum" and tf.enum and tf.enum not in spec.enums:
        return False  # the unknown enum is reported on the field itself
    if tf.type != "enum" or tf.enum not in spec.enums:
        out.append(error("E311", spec.value_at(a, "type_field"), dotted(a.path + ("type_field",)),
                         entity=att.name, name=tf.name, use="材料类型字段", use_en="the document type field",
                         reason="必须是有效的 enum 字段", reason_en="it must be a valid enum field",
                         fix="改为 type: enum 并指定 enum:", fix_en="make it type: enum with enum:"))
        return False
    return tuple(spec.enums[tf.enum].values)


def _transition_refs(spec: AppSpec, wf: Workflow, ent: Optional[Entity], tr, doc_types) -> list[ConfigError]:  # type: ignore[no-untyped-def]
    out: list[ConfigError] = []
    multi = len(tr.sources) > 1 or isinstance(_raw(spec, tr, "from"), list)
    for i, src_state in enumerate(tr.sources):
        out += _state_ref(spec, wf, tr, ("from", i) if multi else ("from",), src_state)
    out += _state_ref(spec, wf, tr, ("to",), tr.target)
    for i, r in enumerate(tr.roles):
        out += _role_ref(spec, tr, ("roles", i), r)
    if ent:
        for i, fname in enumerate(tr.required_fields):
            out += _field(spec, ent, fname, tr.path + ("requires", "fields", i),
                          spec.value_at(tr, "requires", "fields", i))
    if isinstance(doc_types, tuple):
        for i, d in enumerate(tr.required_attachments):
            if d not in doc_types:
                out.append(unknown("E308", spec.value_at(tr, "requires", "attachments", i),
                                   tr.path + ("requires", "attachments", i), d, doc_types,
                                   what="材料类型", what_en="document type"))
    elif doc_types is None and tr.required_attachments:
        out.append(error("E311", spec.key_at(tr, "requires", "attachments"),
                         dotted(tr.path + ("requires", "attachments")), entity=wf.entity, name="attachments",
                         use="材料要求", use_en="attachment requirements",
                         reason="流程没有声明 attachments（附件实体）", reason_en="the workflow declares no attachments",
                         fix="在流程中添加 attachments: {entity, parent_field, type_field}",
                         fix_en="add attachments: {entity, parent_field, type_field} to the workflow"))
    for cond in tr.conditions:
        out += _condition_refs(spec, wf, ent, cond)
    for ef in tr.effects:
        out += _effect_refs(spec, wf, ent, ef)
    if tr.assign:
        out += _role_ref(spec, tr.assign, ("role",), tr.assign.role)
        if ent and not tr.assign.org.startswith("$"):
            out += _org_field(spec, ent, tr.assign, ("org",), tr.assign.org, "接收组织", "the receiving org")
    return out


def _raw(spec: AppSpec, node, key: str):  # type: ignore[no-untyped-def]
    smap = spec.sources[node.src.file]
    return (node.path + (key, 0)) in smap.keys


def _org_field(spec: AppSpec, ent: Entity, node, sub: tuple, name: str, use: str, use_en: str) -> list[ConfigError]:  # type: ignore[no-untyped-def]
    f = ent.fields.get(name)
    if f is None:
        return _field(spec, ent, name, node.path + sub, spec.value_at(node, *sub))
    if f.type != "ref" or f.ref != spec.org_tree.entity:
        return [error("E311", spec.value_at(node, *sub), dotted(node.path + sub), entity=ent.name, name=name,
                      use=use, use_en=use_en, reason=f"必须是 ref: {spec.org_tree.entity} 字段",
                      reason_en=f"it must be a ref: {spec.org_tree.entity} field",
                      fix="选一个指向组织的关联字段", fix_en="pick a field that refers to an organisation")]
    return []


def _condition_refs(spec: AppSpec, wf: Workflow, ent: Optional[Entity], c) -> list[ConfigError]:  # type: ignore[no-untyped-def]
    out: list[ConfigError] = []
    if c.checklist is None and c.related is None:
        return [error("E204", c.src, dotted(c.path), key="checklist", description="checklist+item+org_field 或 related+via")]
    if c.checklist is not None:
        cl = spec.checklists.get(c.checklist)
        if cl is None:
            out.append(unknown("E306", spec.value_at(c, "checklist"), c.path + ("checklist",), c.checklist,
                               spec.checklists, what="检查清单", what_en="checklist"))
        elif c.item is None:
            out.append(error("E204", c.src, dotted(c.path), key="item", description="检查项名称"))
        elif c.item not in cl.items:
            out.append(unknown("E306", spec.value_at(c, "item"), c.path + ("item",), c.item, cl.items,
                               what="检查项", what_en="checklist item"))
        if c.org_field is None:
            out.append(error("E204", c.src, dotted(c.path), key="org_field", description="指向被检查组织的字段名"))
        elif ent:
            out += _org_field(spec, ent, c, ("org_field",), c.org_field, "被检查组织", "the inspected org")
    if c.related is not None:
        rel = spec.entities.get(c.related)
        if rel is None:
            out.append(unknown("E305", spec.value_at(c, "related"), c.path + ("related",), c.related, spec.entities))
        elif c.via is None:
            out.append(error("E204", c.src, dotted(c.path), key="via", description="关联实体上指回本案件的字段名"))
        else:
            out += _back_ref(spec, wf, rel, c, ("via",), c.via)
    return out


def _back_ref(spec: AppSpec, wf: Workflow, rel: Entity, node, sub: tuple, name: str) -> list[ConfigError]:  # type: ignore[no-untyped-def]
    f = rel.fields.get(name)
    if f is None:
        return _field(spec, rel, name, node.path + sub, spec.value_at(node, *sub))
    if f.type != "ref" or f.ref != wf.entity:
        return [error("E311", spec.value_at(node, *sub), dotted(node.path + sub), entity=rel.name, name=name,
                      use="指回案件的字段", use_en="the link back to the case",
                      reason=f"必须是 ref: {wf.entity} 字段", reason_en=f"it must be a ref: {wf.entity} field",
                      fix=f"选一个 ref: {wf.entity} 字段", fix_en=f"pick a ref: {wf.entity} field")]
    return []


def _effect_refs(spec: AppSpec, wf: Workflow, ent: Optional[Entity], ef) -> list[ConfigError]:  # type: ignore[no-untyped-def]
    out: list[ConfigError] = []
    for key in ("start_deadline", "stop_deadline"):
        name = getattr(ef, key)
        if name and name not in wf.deadlines:
            out.append(unknown("E310", spec.value_at(ef, key), ef.path + (key,), name, wf.deadlines,
                               workflow=wf.name))
    if ef.create:
        target = spec.entities.get(ef.create)
        if target is None:
            out.append(unknown("E305", spec.value_at(ef, "create"), ef.path + ("create",), ef.create, spec.entities))
        else:
            if ef.link is None:
                out.append(error("E204", ef.src, dotted(ef.path), key="link", description="新记录上指回本案件的字段名"))
            else:
                out += _back_ref(spec, wf, target, ef, ("link",), ef.link)
            for k in ef.values:
                out += _field(spec, target, k, ef.path + ("values", k), spec.key_at(ef, "values", k))
    elif ef.values:
        out.append(error("E311", spec.key_at(ef, "values"), dotted(ef.path + ("values",)), entity=wf.entity,
                         name="values", use="新记录取值", use_en="new-record values",
                         reason="values 只能和 create 一起使用", reason_en="values only goes with create",
                         fix="改用 set: 设置本案件字段，或添加 create:", fix_en="use set: for case fields, or add create:"))
    if ent:
        for k in ef.set:
            out += _field(spec, ent, k, ef.path + ("set", k), spec.key_at(ef, "set", k))
    for key, values, target_ent in (("values", ef.values, spec.entities.get(ef.create or "")), ("set", ef.set, ent)):
        for k, v in values.items():
            if isinstance(v, str) and v.startswith("$case.") and ent:
                out += _field(spec, ent, v[len("$case."):], ef.path + (key, k), spec.value_at(ef, key, k))
    return out


@check
def checklist_references(spec: AppSpec) -> list[ConfigError]:
    """Checklists and targets name the org entity and real org types."""
    out: list[ConfigError] = []
    types = org_types(spec)
    for cl in spec.checklists.values():
        if cl.entity not in spec.entities:
            out.append(unknown("E306", spec.value_at(cl, "entity"), cl.path + ("entity",), cl.entity,
                               spec.entities, what="实体", what_en="entity"))
        for i, t in enumerate(cl.applies_to):
            if types and t not in types:
                out.append(unknown("E308", spec.value_at(cl, "applies_to", i), cl.path + ("applies_to", i), t,
                                   types, what="组织类型", what_en="org type"))
        for item in cl.items.values():
            for sub in item.sub_items.values():
                for i, t in enumerate(sub.applies_to):
                    if t not in cl.applies_to:
                        out.append(unknown("E306", spec.value_at(sub, "applies_to", i), sub.path + ("applies_to", i),
                                           t, cl.applies_to, what="清单适用的组织类型",
                                           what_en="org type the checklist applies to"))
    for tg in spec.targets.values():
        for i, t in enumerate(tg.org_types):
            if types and t not in types:
                out.append(unknown("E308", spec.value_at(tg, "org_types", i), tg.path + ("org_types", i), t, types,
                                   what="组织类型", what_en="org type"))
    return out


@check
def reference_records(spec: AppSpec) -> list[ConfigError]:
    """Reference records fit their entity: declared fields, required values, enum values, unique keys."""
    out: list[ConfigError] = []
    seen: dict[tuple[str, str, str], int] = {}
    for rec in spec.reference:
        ent = spec.entities.get(rec.entity)

        def bad(sub: tuple, zh: str, en: str, fix: str, fix_en: str) -> None:
            out.append(error("E312", spec.key_at(rec, *sub), dotted(rec.path + sub), entity=rec.entity,
                             index=rec.index + 1, reason=zh, reason_en=en, fix=fix, fix_en=fix_en))

        if ent is None:
            out.append(unknown("E305", rec.src, rec.path, rec.entity, spec.entities))
            continue
        if not ent.reference:
            bad((), f"实体 '{rec.entity}' 没有标注 reference: true", f"entity '{rec.entity}' is not reference: true",
                f"在 entities.yaml 的 {rec.entity} 下添加 reference: true", "add reference: true to the entity")
        for k, v in rec.values.items():
            f = ent.fields.get(k)
            if f is None:
                out += _field(spec, ent, k, rec.path + (k,), spec.key_at(rec, k))
                continue
            if f.type == "enum" and f.enum in spec.enums and v is not None and str(v) not in spec.enums[f.enum].values:
                out.append(unknown("E308", spec.value_at(rec, k), rec.path + (k,), str(v),
                                   spec.enums[f.enum].values, what="选项值", what_en="enum value"))
            if f.unique and v is not None:
                key = (rec.entity, k, str(v))
                if key in seen:
                    bad((k,), f"'{k}' 的值 '{v}' 与第 {seen[key]} 条重复", f"'{k}' value '{v}' repeats record {seen[key]}",
                        "唯一字段的值不能重复", "unique values must not repeat")
                else:
                    seen[key] = rec.index + 1
        for f in ent.fields.values():
            if f.required and rec.values.get(f.name) in (None, "") and f.default is None:
                bad((), f"缺少必填字段 '{f.name}'", f"required field '{f.name}' is missing",
                    f"添加 {f.name}: 值", f"add {f.name}: <value>")
    return out
