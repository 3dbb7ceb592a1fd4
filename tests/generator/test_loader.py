"""The loader refuses what YAML would accept silently, each with its own code."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from generator import loader
from generator.loader import load_text

ROOT = Path(__file__).resolve().parents[2]


def codes(text: str | bytes) -> list[str]:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return [e.code for e in load_text(raw, "x.yaml")[2]]


def test_duplicate_key_reports_both_lines() -> None:
    _, _, errs = load_text(b"roles:\n  admin: 1\nroles:\n  viewer: 2\n", "roles.yaml")
    assert [(e.code, e.src.line, e.params["first_line"]) for e in errs] == [("E101", 3, 1)]
    assert "第 1 行" in errs[0].message() and "line 1" in errs[0].message("en")


def test_nested_duplicate_keys_are_all_reported() -> None:
    text = "a:\n  b: 1\n  b: 2\n  b: 3\nc: 1\nc: 2\n"
    assert [(e.code, e.src.line) for e in load_text(text.encode(), "f.yaml")[2]] == \
        [("E101", 3), ("E101", 4), ("E101", 6)]


def test_alias_bomb_is_refused_before_expansion() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 9) + "]" for i in range(1, 9)]
    start = time.perf_counter()
    data, _, errs = load_text("\n".join(lines).encode(), "bomb.yaml")
    assert data is None and errs and {e.code for e in errs} == {"E102"}
    assert time.perf_counter() - start < 5  # a sanity bound, not a performance target


@pytest.mark.parametrize("text", ["a: !!python/object/apply:os.system ['ls']\n",
                                  "a: !!str 12\n", "a: !custom {x: 1}\n"])
def test_explicit_tags_are_refused(text: str) -> None:
    assert codes(text) == ["E106"]


def test_tabs_in_indentation_are_reported_per_line() -> None:
    _, _, errs = load_text(b"a:\n\tb: 1\n\tc: 2\nd: 'tab\tinside is fine'\n", "t.yaml")
    assert [(e.code, e.src.line) for e in errs] == [("E105", 2), ("E105", 3)]


def test_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_BYTES", 100)
    assert codes("a: " + "x" * 200) == ["E103"]
    assert codes("a: " + "x" * 20) == []


def test_node_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_NODES", 50)
    assert codes("a: [" + ", ".join(["1"] * 100) + "]") == ["E103"]


def test_not_utf8_names_the_position() -> None:
    raw = "a: 1\nb: 调解\n".encode("gbk")
    (err,) = load_text(raw, "g.yaml")[2]
    assert (err.code, err.src.line, err.src.col) == ("E107", 2, 4)


def test_utf8_bom_is_accepted() -> None:
    data, _, errs = load_text("\ufeffa: 调解\n".encode("utf-8"), "b.yaml")
    assert data == {"a": "调解"} and errs == []


def test_syntax_error_has_an_excerpt() -> None:
    (err,) = load_text(b"a: [1, 2\nb: 3\n", "s.yaml")[2]
    assert err.code == "E104" and "| a: [1, 2" in err.hint()


@pytest.mark.parametrize("text,value", [("0755", 493), ("NO", False), ("on", True), ("12:30", 750),
                                        ("2025-10-28", None), ("1.10", 1.1)])
def test_yaml11_coercions_are_remembered(text: str, value: object) -> None:
    data, smap, errs = load_text(f"k: {text}\n".encode(), "c.yaml")
    assert errs == [] and smap.coerced == {("k",): text}
    if value is not None:
        assert data["k"] == value


@pytest.mark.parametrize("text", ["true", "false", "15", "0", "1.5", "'0755'", '"NO"', "abc"])
def test_ordinary_values_are_not_flagged(text: str) -> None:
    assert load_text(f"k: {text}\n".encode(), "c.yaml")[1].coerced == {}


def test_source_map_points_at_keys_and_values() -> None:
    data, smap, _ = load_text(b"top:\n  items:\n    - name: a\n      size: 3\n", "m.yaml")
    assert smap.key(("top", "items", 0, "size")).line == 4
    assert (smap.value(("top", "items", 0, "size")).line, smap.value(("top", "items", 0, "size")).col) == (4, 13)
    assert smap.key(("top", "missing", "deeper")).line == 1  # falls back to the nearest parent


def test_no_unsafe_yaml_loading_anywhere() -> None:
    """The only YAML entry point is the strict loader; nothing calls an unsafe loader."""
    offenders = []
    for path in list(ROOT.glob("generator/**/*.py")) + list(ROOT.glob("app/**/*.py")):
        text = path.read_text(encoding="utf-8")
        for bad in ("yaml.load(", "unsafe_load", "Loader=yaml.Loader", "yaml.FullLoader", "UnsafeLoader"):
            if bad in text:
                offenders.append(f"{path.relative_to(ROOT)}: {bad}")
    assert offenders == []


def test_app_never_imports_yaml() -> None:
    offenders = [str(p) for p in ROOT.glob("app/**/*.py")
                 if "import yaml" in p.read_text("utf-8") or "import jsonschema" in p.read_text("utf-8")]
    assert offenders == []


def test_control_characters_are_a_located_syntax_error() -> None:
    (err,) = load_text("a: 1\nb: x\x00y\n".encode(), "n.yaml")[2]
    assert (err.code, err.src.line, err.src.col) == ("E104", 2, 5) and "#x0000" in err.message()
