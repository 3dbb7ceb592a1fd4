"""Side effects of a change that nothing else catches (issue #14), each with its code and a fix.

* E331 a sub-item code used twice in one checklist (results are stored by code: the second
  inspection row would collide at ``setup``);
* W430 a final state a running deadline can reach without passing its ``stop`` or ``pause_in``
  states (the clock keeps running and the case shows as overdue for ever);
* W431 a ``pii`` field no role's ``reveal`` covers (it can be typed in but never read back);
* W432 ``$actor_org`` in a transition a county-wide role may run (such an account may sit in no
  organisation, or in one where the assigned role does not work: the case silently stays).

The checks that compare with the version already in use (E330: a checklist changed without a new
``version``) live in ``generator/baseline.py``: they need the last applied config or the database.
"""

from __future__ import annotations

from ..errors import ConfigError, error
from ..source import dotted
from ..spec import AppSpec, Workflow
from . import check


@check
def sub_item_codes_unique(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for cl in spec.checklists.values():
        seen: dict[str, str] = {}
        for item in cl.items.values():
            for sub in item.sub_items.values():
                if sub.name in seen:
                    out.append(error("E331", sub.src, dotted(sub.path), checklist=cl.name, name=sub.name,
                                     item=item.name, other=seen[sub.name]))
                else:
                    seen[sub.name] = item.name
    return out


def _starts(wf: Workflow, deadline: str) -> set[str]:
    dl = wf.deadlines[deadline]
    out = set(dl.start)
    for t in wf.transitions.values():
        if any(e.start_deadline == deadline for e in t.effects):
            out.add(t.target)
    return out


@check
def deadlines_stop_in_final_states(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for wf in spec.workflows.values():
        edges: dict[str, list] = {}
        for t in wf.transitions.values():
            for s in t.sources:
                edges.setdefault(s, []).append(t)
        for dl in wf.deadlines.values():
            stop, pause = set(dl.stop), set(dl.pause_in)
            running = [s for s in _starts(wf, dl.name) if s in wf.states and s not in stop]
            seen = set(running)
            reported: set[str] = set()
            while running:
                state = running.pop()
                for t in edges.get(state, ()):
                    if any(e.stop_deadline == dl.name for e in t.effects) or t.target in stop:
                        continue
                    target = wf.states.get(t.target)
                    if target is None:
                        continue
                    if target.final and target.name not in pause and target.name not in reported:
                        reported.add(target.name)
                        where = spec.key_at(dl, "stop") if dl.stop else dl.src
                        out.append(error("W430", where, dotted(dl.path + (("stop",) if dl.stop else ())),
                                         deadline=dl.name, state=target.name))
                    if target.name not in seen:
                        seen.add(target.name)
                        running.append(target.name)
    return out


@check
def personal_data_revealable(spec: AppSpec) -> list[ConfigError]:
    revealed: set[tuple[str, str]] = set()
    for role in spec.roles.values():
        for grant in role.reveal:
            entity, _, name = grant.partition(".")
            ent = spec.entities.get(entity)
            if ent is None:
                continue
            revealed |= {(entity, f.name) for f in ent.pii_fields} if name == "*" else {(entity, name)}
    out: list[ConfigError] = []
    for ent in spec.entities.values():
        if ent.scope is None or not ent.scope.is_set or ent.scope.public:
            continue  # E501 already refuses it
        for f in ent.pii_fields:
            if (ent.name, f.name) not in revealed:
                out.append(error("W431", spec.value_at(f, "pii"), dotted(f.path + ("pii",)), entity=ent.name,
                                 name=f.name))
    return out


COUNTY_WIDE = ("all", "county")


@check
def actor_org_of_county_roles(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for wf in spec.workflows.values():
        for t in wf.transitions.values():
            in_assign = t.assign is not None and t.assign.org in ("$actor_org", "$org")
            in_values = any(v in ("$actor_org", "$org") for e in t.effects for v in
                            list(e.values.values()) + list(e.set.values()))
            if not (in_assign or in_values):
                continue
            target = spec.roles.get(t.assign.role) if t.assign is not None else None
            for i, name in enumerate(t.roles):
                role = spec.roles.get(name)
                if role is None or role.scope not in COUNTY_WIDE or not role.may_run(wf.name, t.name):
                    continue
                if not role.org_types:
                    reason = "它的账号可以不属于任何组织，这时 $actor_org 为空，" + \
                        ("assign 不会移动案件" if in_assign else "写入的组织为空")
                    reason_en = "its accounts may belong to no organisation; $actor_org is then empty and " + \
                        ("assign moves nothing" if in_assign else "an empty organisation is written")
                elif in_assign and target is not None and target.org_types and \
                        set(role.org_types) - set(target.org_types):
                    extra = sorted(set(role.org_types) - set(target.org_types))
                    reason = (f"它的账号可以在 {', '.join(extra)} 类组织，而被指派的角色 '{target.name}' 不在这类组织工作，"
                              "案件会转到没有承办人的组织")
                    reason_en = (f"its accounts may sit in {', '.join(extra)}, where the assigned role "
                                 f"'{target.name}' does not work: the case would go to an org with nobody to take it")
                else:
                    continue
                use, use_en = ("指定接收组织（assign）", "as the receiving org (assign)") if in_assign \
                    else ("作为写入的组织", "as a value")
                out.append(error("W432", spec.value_at(t, "roles", i), dotted(t.path + ("roles", i)),
                                 workflow=wf.name, name=t.name, role=name, scope=role.scope, use=use, use_en=use_en,
                                 reason=reason, reason_en=reason_en))
    return out


def _renames(spec: AppSpec, out: list[ConfigError], what: str, what_en: str,
             nodes: dict, current: set[str]) -> None:  # type: ignore[type-arg]
    """E332 for each ``renamed_from`` that names something still there, itself, or twice."""
    seen: dict[str, str] = {}
    for name, (node, old) in nodes.items():
        if not old:
            continue
        src = spec.value_at(node, "renamed_from")
        path = dotted(node.path + ("renamed_from",))

        def bad(zh: str, en: str, fix: str, fix_en: str) -> None:
            out.append(error("E332", src, path, what=what, what_en=what_en, name=name, old=old, reason=zh,
                             reason_en=en, fix=fix, fix_en=fix_en))

        if old == name:
            bad("与现在的名称相同", "is its own name", "删除 renamed_from", "remove renamed_from")
        elif old in current:
            bad(f"仍是一个现有{what}的名称，两者不能同时存在",
                f"is still the name of an existing {what_en}; both cannot exist",
                f"如果是改名，删除或改名原来的 '{old}'；如果不是，删除 renamed_from",
                f"if it is a rename, remove or rename the old '{old}'; if not, remove renamed_from")
        elif old in seen:
            bad(f"与 '{seen[old]}' 的 renamed_from 相同：一个旧名称只能改成一个新名称",
                f"repeats the renamed_from of '{seen[old]}': one old name becomes one new name",
                "只保留其中一个 renamed_from", "keep only one of them")
        else:
            seen[old] = name


@check
def renames_and_moves(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    _renames(spec, out, "实体", "entity", {n: (e, e.renamed_from) for n, e in spec.entities.items()},
             set(spec.entities))
    for ent in spec.entities.values():
        _renames(spec, out, "字段", "field", {n: (f, f.renamed_from) for n, f in ent.fields.items()},
                 set(ent.fields))
    _renames(spec, out, "角色", "role", {n: (r, r.renamed_from) for n, r in spec.roles.items()}, set(spec.roles))
    for en in spec.enums.values():
        seen: dict[str, str] = {}
        for value, old in en.renamed.items():
            src = spec.value_at(en, "values", value, "renamed_from")
            path = dotted(en.path + ("values", value, "renamed_from"))
            reason = None
            if old == value:
                reason = ("与现在的名称相同", "is its own name", "删除 renamed_from", "remove renamed_from")
            elif old in en.values:
                reason = (f"仍是选项集 '{en.name}' 中的一个选项值", f"is still a value of enum '{en.name}'",
                          f"如果是改名，删除原来的 '{old}'；否则删除 renamed_from",
                          f"if it is a rename, remove the old '{old}'; else remove renamed_from")
            elif old in seen:
                reason = (f"与 '{seen[old]}' 的 renamed_from 相同", f"repeats the renamed_from of '{seen[old]}'",
                          "只保留其中一个", "keep only one of them")
            seen.setdefault(old, value)
            if reason:
                out.append(error("E332", src, path, what="选项值", what_en="enum value", name=value, old=old,
                                 reason=reason[0], reason_en=reason[1], fix=reason[2], fix_en=reason[3]))
    for wf in spec.workflows.values():
        _renames(spec, out, "状态", "state", {n: (s, s.renamed_from) for n, s in wf.states.items()},
                 set(wf.states))
        renamed = {s.renamed_from for s in wf.states.values() if s.renamed_from}
        for old, new in wf.moved_to.items():
            src = spec.value_at(wf, "moved_to", old)
            path = dotted(wf.path + ("moved_to", old))

            def bad(zh: str, en: str, fix: str, fix_en: str) -> None:
                out.append(error("E333", src, path, workflow=wf.name, old=old, new=new, reason=zh, reason_en=en,
                                 fix=fix, fix_en=fix_en))

            if old in wf.states:
                bad(f"状态 '{old}' 仍在 states 中，没有删除", f"state '{old}' is still under states",
                    f"删除状态 '{old}'，或删除这一行 moved_to", f"remove state '{old}', or this moved_to line")
            elif old in renamed:
                bad(f"状态 '{old}' 已经通过 renamed_from 改名，案件随改名保留",
                    f"state '{old}' is renamed (renamed_from): its cases follow the rename",
                    "删除这一行 moved_to", "remove this moved_to line")
            elif new not in wf.states:
                bad(f"目标状态 '{new}' 不存在", f"the target state '{new}' does not exist",
                    "写一个 states 中现有的状态名", "name a state listed under states")
    return out
