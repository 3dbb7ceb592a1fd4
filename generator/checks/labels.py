"""E601: users tell things apart by their Chinese labels, so labels must not repeat.

Checked within each scope a user sees together: menus; entities; the fields of
one entity; the values of one enum; the states, transitions and deadlines of
one workflow; roles; the items and sub-items of one checklist.
"""

from __future__ import annotations

from typing import Iterable

from ..errors import ConfigError, error
from ..source import dotted
from ..spec import AppSpec, Node
from . import check


def _dupes(nodes: Iterable[tuple[str, str, Node]], what: str, what_en: str) -> list[ConfigError]:
    first: dict[str, str] = {}
    out: list[ConfigError] = []
    for name, label, node in nodes:
        if label in first:
            out.append(error("E601", node.src, dotted(node.path + ("label",)), what=what, what_en=what_en,
                             label=label, other=first[label]))
        else:
            first[label] = name
    return out


@check
def duplicate_labels(spec: AppSpec) -> list[ConfigError]:
    out = _dupes(((m.name, m.label.zh, m) for m in spec.menus.values()), "菜单", "menu")
    out += _dupes(((e.name, e.label.zh, e) for e in spec.entities.values()), "实体", "entity")
    out += _dupes(((r.name, r.label.zh, r) for r in spec.roles.values()), "角色", "role")
    for ent in spec.entities.values():
        out += _dupes(((f.name, f.label.zh, f) for f in ent.fields.values()), f"实体 {ent.name} 的字段",
                      f"field of {ent.name}")
    for en in spec.enums.values():
        first: dict[str, str] = {}
        for value, label in en.values.items():
            if label.zh in first:
                path = en.path + ("values", value)
                out.append(error("E601", spec.key_at(en, "values", value), dotted(path), what=f"选项集 {en.name} 的选项",
                                 what_en=f"value of {en.name}", label=label.zh, other=first[label.zh]))
            else:
                first[label.zh] = value
    for wf in spec.workflows.values():
        out += _dupes(((s.name, s.label.zh, s) for s in wf.states.values()), f"流程 {wf.name} 的状态",
                      f"state of {wf.name}")
        out += _dupes(((t.name, t.label.zh, t) for t in wf.transitions.values()), f"流程 {wf.name} 的动作",
                      f"transition of {wf.name}")
        out += _dupes(((d.name, d.label.zh, d) for d in wf.deadlines.values()), f"流程 {wf.name} 的期限",
                      f"deadline of {wf.name}")
    for cl in spec.checklists.values():
        out += _dupes(((i.name, i.label.zh, i) for i in cl.items.values()), f"清单 {cl.name} 的检查项",
                      f"item of {cl.name}")
        for item in cl.items.values():
            out += _dupes(((s.name, s.label.zh, s) for s in item.sub_items.values()),
                          f"检查项 {item.name} 的细项", f"sub-item of {item.name}")
    return out
