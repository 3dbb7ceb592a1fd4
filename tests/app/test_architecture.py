"""The shape of app/: packages that show the architecture, and no import circles.

An import circle is counted on every import statement, including those inside functions (a
deferred import still ties two modules together: ``access → denials → audit → access`` was one).
Importing ``a.b.c`` also runs ``a/b/__init__.py``, so that counts as an edge to ``a.b`` for a
module outside ``a.b``; the root ``app`` package (the application factory) is left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "app"


def modules() -> dict[str, Path]:
    out = {}
    for path in (ROOT / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _targets(mods: dict[str, Path], module: str, node: ast.AST) -> list[str]:
    is_pkg = mods[module].name == "__init__.py"
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    found: list[str] = []
    if isinstance(node, ast.ImportFrom):
        if node.level:
            stem = ".".join(base[:len(base) - (node.level - 1)] + ([node.module] if node.module else []))
        else:
            stem = node.module or ""
        for alias in node.names:
            sub = f"{stem}.{alias.name}"
            found.append(sub if sub in mods else stem)
    elif isinstance(node, ast.Import):
        found = [alias.name for alias in node.names]
    return [t for t in found if t in mods]


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(mods, module, node):
                parts = target.split(".")
                for k in range(2, len(parts) + 1):
                    dep = ".".join(parts[:k])
                    if dep in mods and dep != module and not module.startswith(dep + "."):
                        graph[module].add(dep)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_app_has_no_import_circles() -> None:
    found = circles(import_graph())
    assert not found, "import circles in app/: " + "; ".join(" → ".join(c) for c in found)


def test_app_is_grouped_into_packages() -> None:
    """The top level of app/ holds the app factory and a few process-wide modules; the rest lives in
    packages named for their concern."""
    top = sorted(p.stem for p in (ROOT / PACKAGE).glob("*.py") if p.stem != "__init__")
    packages = sorted(p.name for p in (ROOT / PACKAGE).iterdir()
                      if p.is_dir() and (p / "__init__.py").exists())
    for expected in ("access", "audit", "ui", "demo", "workflow", "checklists", "hardening"):
        assert expected in packages
    assert len(top) <= 10, f"{len(top)} top-level modules: {top}"


def test_the_access_package_does_not_import_the_ui_and_audit_does_not_import_access() -> None:
    graph = import_graph()
    for module, deps in graph.items():
        if module.startswith("app.access"):
            assert not {d for d in deps if d.startswith("app.ui")}, (module, deps)
        if module.startswith("app.audit"):
            bad = {d for d in deps if d.startswith("app.access") and d != "app.access.formatting"
                   and d != "app.access"}
            assert not bad, (module, bad)
