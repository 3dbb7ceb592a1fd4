"""The compile cache of the app's start: same answers as ``load``, recompiled on any change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator import load
from generator.speccache import load_cached

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JIEFEN_CACHE_DIR", str(tmp_path / "cache"))
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    return cfg


def cached_files(config: Path) -> list[Path]:
    return sorted((config.parent / "cache").glob("jiefen_spec_*.pickle"))


def test_cached_result_equals_the_compile(config: Path) -> None:
    first = load_cached(str(config))
    assert first.ok and len(cached_files(config)) == 1
    again = load_cached(str(config))
    fresh = load(str(config))
    assert again is not first  # read back from the file
    assert again.spec == fresh.spec and again.errors == fresh.errors and again.files == fresh.files
    assert type(again.spec.entities) is type(fresh.spec.entities)  # read-only maps stay read-only


def test_a_config_change_compiles_again_and_replaces_the_entry(config: Path) -> None:
    before = load_cached(str(config))
    entities = config / "entities.yaml"
    text = entities.read_text(encoding="utf-8")
    assert "en: Mediator roster}" in text
    entities.write_text(text.replace("en: Mediator roster}", "en: Mediators}"), encoding="utf-8")
    after = load_cached(str(config))
    assert after.ok and after.spec == load(str(config)).spec and after.spec != before.spec
    assert len(cached_files(config)) == 1  # the entry of the earlier version is gone
    assert before.files == after.files


def test_errors_are_never_cached(config: Path) -> None:
    load_cached(str(config))
    (config / "roles.yaml").write_text("roles: [\n", encoding="utf-8")
    bad = load_cached(str(config))
    assert not bad.ok and [e.code for e in bad.errors] == [e.code for e in load(str(config)).errors]
    assert len(cached_files(config)) == 1  # still only the clean version's entry
    assert not load_cached(str(config)).ok


def test_a_broken_cache_file_falls_back_to_the_compile(config: Path) -> None:
    load_cached(str(config))
    (entry,) = cached_files(config)
    entry.write_bytes(b"not a pickle")
    result = load_cached(str(config))
    assert result.ok and result.spec == load(str(config)).spec
    assert entry.read_bytes() != b"not a pickle"  # written again
