"""E4xx: the workflow graph is a machine a person can actually drive.

Every state is reachable from ``initial`` (E401); every non-final state can be
left (E402) and no final state can (E405); every transition has at least one
role that both is listed on it and holds its grant in roles.yaml (E403);
a listed role without the grant is flagged as ineffective (W408).
"""

from __future__ import annotations

from ..errors import ConfigError, error
from ..source import dotted
from ..spec import AppSpec
from . import check


@check
def workflow_graph(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for wf in spec.workflows.values():
        if wf.initial not in wf.states:
            continue  # reported by the reference check
        edges: dict[str, set[str]] = {n: set() for n in wf.states}
        for tr in wf.transitions.values():
            for src in tr.sources:
                if src in edges and tr.target in wf.states:
                    edges[src].add(tr.target)
        reached, todo = {wf.initial}, [wf.initial]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt not in reached:
                    reached.add(nxt)
                    todo.append(nxt)
        leaving = {src for tr in wf.transitions.values() for src in tr.sources}
        for st in wf.states.values():
            if st.name not in reached:
                out.append(error("E401", st.src, dotted(st.path), workflow=wf.name, name=st.name,
                                 initial=wf.initial))
            if not st.final and st.name not in leaving:
                out.append(error("E402", st.src, dotted(st.path), name=st.name))
        for tr in wf.transitions.values():
            for i, src in enumerate(tr.sources):
                st = wf.states.get(src)
                if st is not None and st.final:
                    out.append(error("E405", tr.src, dotted(tr.path + ("from",)), name=src, transition=tr.name))
    return out


@check
def transition_roles(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for wf in spec.workflows.values():
        for tr in wf.transitions.values():
            known = [r for r in tr.roles if r in spec.roles]
            able = [r for r in known if spec.roles[r].may_run(wf.name, tr.name)]
            if not able:
                out.append(error("E403", tr.src, dotted(tr.path), workflow=wf.name, name=tr.name,
                                 roles=", ".join(tr.roles)))
                continue
            for i, r in enumerate(tr.roles):
                if r in spec.roles and r not in able:
                    out.append(error("W408", spec.value_at(tr, "roles", i), dotted(tr.path + ("roles", i)),
                                     workflow=wf.name, name=tr.name, role=r))
    return out
