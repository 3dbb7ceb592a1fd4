"""Property: no mutation of the real config makes the compiler raise.

Hypothesis mutates the shipped ``config/`` (deleting keys, swapping types,
misspelling names, truncating text, injecting tabs) and checks that every
result either compiles or yields only catalogued, located errors — never a
traceback, never an error without a code.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import CODES, load
from generator.pipeline import KINDS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FILES = [f"{k}.yaml" for k in KINDS]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


def _parent(doc: Any, path: tuple) -> Any:
    for p in path[:-1]:
        doc = doc[p]
    return doc


def _misspell(word: str, i: int) -> str:
    if len(word) < 2:
        return word + "x"
    i %= len(word) - 1
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def assert_compiles_or_coded(cfg: Path) -> None:
    result = load(str(cfg))  # must not raise
    for e in result.errors:
        assert e.code in CODES
        assert e.src.line >= 1 and e.src.col >= 1 and e.src.file.endswith(".yaml")
        assert e.message() and e.message("en")
        e.render()
        e.render("en")
    if not result.ok:
        assert any(not e.is_warning for e in result.errors)


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(CONFIG, tmp_path / "config")
    return tmp_path / "config"


def _docs() -> dict[str, Any]:
    return {f: yaml.safe_load((CONFIG / f).read_text("utf-8")) for f in FILES if (CONFIG / f).exists()}


DOCS = _docs()

SWAPS = [0, 1.5, True, "text", [], {}, ["a", 1], {"zh": 1}, None, "UPPER Case", "-1"]


@SETTINGS
@given(st.data())
def test_structural_mutations(workdir: Path, data: st.DataObject) -> None:
    fname = data.draw(st.sampled_from(sorted(DOCS)))
    doc = yaml.safe_load(yaml.safe_dump(DOCS[fname], allow_unicode=True))
    paths = _paths(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        kind = data.draw(st.sampled_from(["delete", "swap", "misspell_key", "misspell_value"]))
        try:
            if kind == "delete":
                del parent[path[-1]]
            elif kind == "swap":
                parent[path[-1]] = data.draw(st.sampled_from(SWAPS))
            elif kind == "misspell_key" and isinstance(parent, dict):
                parent[_misspell(str(path[-1]), data.draw(st.integers(0, 50)))] = parent.pop(path[-1])
            elif kind == "misspell_value" and isinstance(parent[path[-1]], str):
                parent[path[-1]] = _misspell(parent[path[-1]], data.draw(st.integers(0, 50)))
        except (KeyError, IndexError, TypeError):
            pass
        paths = _paths(doc)
    (workdir / fname).write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    assert_compiles_or_coded(workdir)


@SETTINGS
@given(st.data())
def test_text_mutations(workdir: Path, data: st.DataObject) -> None:
    fname = data.draw(st.sampled_from(sorted(DOCS)))
    text = (CONFIG / fname).read_text("utf-8")
    lines = text.splitlines(keepends=True)
    kind = data.draw(st.sampled_from(["truncate", "tab", "garbage", "dup_line", "swap_lines"]))
    i = data.draw(st.integers(0, len(lines) - 1))
    if kind == "truncate":
        text = text[: data.draw(st.integers(0, len(text)))]
    elif kind == "tab":
        lines[i] = "\t" + lines[i].lstrip(" ")
        text = "".join(lines)
    elif kind == "garbage":
        junk = data.draw(st.sampled_from(["&a", "*a", "!!python/name:os.system", "{", "]", ": :", "- -",
                                          "'", "\"", "%YAML 1.1", "---", "...", "? x", "\x00"]))
        lines[i] = lines[i].rstrip("\n") + " " + junk + "\n"
        text = "".join(lines)
    elif kind == "dup_line":
        lines.insert(i, lines[i])
        text = "".join(lines)
    else:
        j = data.draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
        text = "".join(lines)
    (workdir / fname).write_text(text, "utf-8")
    assert_compiles_or_coded(workdir)


@SETTINGS
@given(raw=st.binary(max_size=300))
def test_random_bytes(workdir: Path, raw: bytes) -> None:
    (workdir / "roles.yaml").write_bytes(raw)
    assert_compiles_or_coded(workdir)


def test_errors_from_all_files_in_one_stable_run(workdir: Path) -> None:
    for f in FILES:
        text = (workdir / f).read_text("utf-8").replace("version: 1", "version: 1\nversion: 1", 1)
        (workdir / f).write_text(text, "utf-8")
    first = load(str(workdir)).errors
    assert [e.code for e in first] == ["E101"] * len(FILES)
    assert sorted({e.src.file for e in first}) == [e.src.file for e in first]
    assert load(str(workdir)).errors == first


@SETTINGS
@given(st.data())
def test_fast_and_detailed_schema_checks_agree(data: st.DataObject) -> None:
    """The fast path may only skip jsonschema when jsonschema would find nothing."""
    from generator.fastschema import is_valid
    from generator.validate import validator

    fname = data.draw(st.sampled_from(sorted(DOCS)))
    doc = yaml.safe_load(yaml.safe_dump(DOCS[fname], allow_unicode=True))
    paths = _paths(doc)
    path = data.draw(st.sampled_from(paths))
    parent = _parent(doc, path)
    if data.draw(st.booleans()):
        parent[path[-1]] = data.draw(st.sampled_from(SWAPS + [-5, 0.0, "", "a.b", "2026-01-01"]))
    elif isinstance(parent, dict):
        parent[_misspell(str(path[-1]), data.draw(st.integers(0, 50)))] = parent.pop(path[-1])
    kind = fname.split(".")[0]
    fast = is_valid(kind, doc)
    assert fast is not None, "the fast validator could not be built"
    assert fast == validator(kind).is_valid(doc)
