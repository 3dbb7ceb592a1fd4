"""Human-readable explanations of a compiled spec (``python -m generator explain``).

Everything the YAML makes dynamic can be printed: what each entity holds and
how it is scoped, what each role may do and where, and each workflow as a
mermaid state diagram.  The output is plain text, stable and sorted.
"""

from __future__ import annotations

from typing import Any

from .spec import AppSpec, Role, Workflow

SCOPE_TEXT = {"all": ("全部数据", "all data"), "county": ("全县", "the whole county"),
              "township": ("本乡镇及下属站点", "own township and its stations"),
              "station": ("本站点", "own station"), "own": ("仅分配给本人的记录", "records assigned to the user")}
ACTIONS = ("read", "create", "update", "delete", "export")
ACTION_ZH = {"read": "查看", "create": "新增", "update": "修改", "delete": "删除", "export": "导出"}


def _l(label, lang: str) -> str:  # type: ignore[no-untyped-def]
    return label.get(lang) if label else ""


def explain_entities(spec: AppSpec, lang: str = "zh") -> str:
    lines = ["# 实体" if lang == "zh" else "# Entities"]
    for ent in spec.entities.values():
        sc = ent.scope
        scope = ("tree" if sc.tree else f"org={sc.org}" if sc.org else f"parent={sc.parent}" if sc.parent
                 else "public" if sc.public else "-") if sc else "-"
        pii = ", ".join(f"{f.name}({f.pii})" for f in ent.pii_fields) or "-"
        lines.append(f"- {ent.name} {_l(ent.label, lang)}  [{ent.src}]  menu={ent.menu} scope={scope} "
                     f"fields={len(ent.fields)} pii={pii}")
    return "\n".join(lines)


SYSTEM_TEXT = {"audit_log": ("审计日志", "audit log"), "access_matrix": ("权限矩阵", "access matrix"),
               "config_history": ("配置历史", "config history")}


def runnable_transitions(spec: AppSpec, role: Role) -> list[str]:
    """``workflow.transition`` names the role may really run (granted *and* listed on the transition)."""
    return [f"{w.name}.{t.name}" for w in spec.workflows.values() for t in w.transitions.values()
            if role.name in t.roles and role.may_run(w.name, t.name)]


def role_matrix(spec: AppSpec, role: Role) -> dict[str, Any]:
    """What ``explain --role`` prints, as data (the app's access-matrix page shows the same)."""
    return {
        "name": role.name, "label": role.label, "description": role.description, "scope": role.scope,
        "scope_text": SCOPE_TEXT[role.scope], "admin": role.admin, "src": str(role.src),
        "entities": [(ent.name, ent.label, role.actions_on(ent.name)) for ent in spec.entities.values()
                     if role.actions_on(ent.name)],
        "transitions": runnable_transitions(spec, role),
        "checklists": list(role.checklists), "reveal": list(role.reveal),
        "can_assign": list(role.can_assign), "system": list(role.system),
    }


def explain_role(spec: AppSpec, role: Role, lang: str = "zh") -> str:
    zh = lang == "zh"
    m = role_matrix(spec, role)
    scope = m["scope_text"][0 if zh else 1]
    out = [f"# {role.name} {_l(role.label, lang)}  [{role.src}]",
           (f"数据范围：{role.scope}（{scope}）" if zh else f"data scope: {role.scope} ({scope})")
           + ("；系统管理员" if zh and role.admin else "; admin" if role.admin else "")]
    if role.description:
        out.append(_l(role.description, lang))
    header = "实体" if zh else "entity"
    out.append(f"\n{header:<28}" + " ".join(f"{(ACTION_ZH[a] if zh else a):<7}" for a in ACTIONS))
    for name, _label, acts in m["entities"]:
        out.append(f"{name:<28}" + " ".join(f"{('✔' if a in acts else '·'):<7}" for a in ACTIONS))
    out.append(("\n可执行的流程动作：" if zh else "\ntransitions: ") + (", ".join(m["transitions"]) or "-"))
    out.append(("检查清单动作：" if zh else "checklist actions: ") + (", ".join(m["checklists"]) or "-"))
    out.append(("可查看明文的个人信息：" if zh else "may reveal: ") + (", ".join(m["reveal"]) or "-"))
    out.append(("可授予的角色：" if zh else "may assign: ") + (", ".join(m["can_assign"]) or "-"))
    out.append(("系统功能：" if zh else "system pages: ")
               + (", ".join(f"{g}（{SYSTEM_TEXT[g][0]}）" if zh else f"{g} ({SYSTEM_TEXT[g][1]})"
                            for g in m["system"] if g in SYSTEM_TEXT) or "-"))
    return "\n".join(out)


def explain_roles(spec: AppSpec, lang: str = "zh") -> str:
    lines = ["# 角色" if lang == "zh" else "# Roles"]
    for r in spec.roles.values():
        lines.append(f"- {r.name} {_l(r.label, lang)} scope={r.scope}{' admin' if r.admin else ''}  [{r.src}]")
    return "\n".join(lines)


def mermaid(wf: Workflow, lang: str = "zh") -> str:
    """A mermaid ``stateDiagram-v2`` of the workflow, labelled in ``lang``."""
    lines = ["stateDiagram-v2"]
    for st in wf.states.values():
        lines.append(f"    {st.name}: {_l(st.label, lang)}")
    lines.append(f"    [*] --> {wf.initial}")
    for tr in wf.transitions.values():
        for src in tr.sources:
            lines.append(f"    {src} --> {tr.target}: {_l(tr.label, lang)}")
    for st in wf.states.values():
        if st.final:
            lines.append(f"    {st.name} --> [*]")
    return "\n".join(lines)


def explain_workflow(spec: AppSpec, wf: Workflow, lang: str = "zh") -> str:
    zh = lang == "zh"
    out = [f"# {wf.name} {_l(wf.label, lang)}  [{wf.src}]",
           (f"实体：{wf.entity}；初始状态：{wf.initial}；{len(wf.states)} 个状态，{len(wf.transitions)} 个动作，"
            f"{len(wf.deadlines)} 个期限" if zh else
            f"entity: {wf.entity}; initial: {wf.initial}; {len(wf.states)} states, "
            f"{len(wf.transitions)} transitions, {len(wf.deadlines)} deadlines")]
    for dl in wf.deadlines.values():
        unit = ("工作日" if dl.day_type == "working" else "自然日") if zh else f"{dl.day_type} days"
        ext = f" +{dl.extension.max_days} ({','.join(dl.extension.roles)})" if dl.extension else ""
        out.append(f"- {dl.name} {_l(dl.label, lang)}: {dl.days} {unit}{ext}; start={','.join(dl.start)}"
                   f" stop={','.join(dl.stop) or '-'} pause={','.join(dl.pause_in) or '-'}")
    out += ["", "```mermaid", mermaid(wf, lang), "```"]
    return "\n".join(out)


def explain_all(spec: AppSpec, lang: str = "zh") -> str:
    parts = [explain_entities(spec, lang), explain_roles(spec, lang)]
    parts += [explain_workflow(spec, wf, lang) for wf in spec.workflows.values()]
    return "\n\n".join(parts)
