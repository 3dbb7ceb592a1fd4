"""Issue #14, check time: a forgotten checklist version, traps of typing YAML, hints that never widen."""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import sqlalchemy as sa

from generator import load
from generator.__main__ import main
from generator.baseline import checklist_shape, default_sqlite_path, resolve_db, structure_hash
from generator.errors import CODES, WIDENING_CODES
from generator.loader import load_text

from .casefiles import CASES, MINIMAL, apply_edits

ROOT = Path(__file__).resolve().parents[2]
NEW_SEAL_ITEM = """=== checklists.yaml
---
          s1:
            label: {zh: 印章, en: Seal}
            gate: true
+++
          s1:
            label: {zh: 印章, en: Seal}
            gate: true
          s2:
            label: {zh: 印章登记, en: Seal registration}
"""


def check(*args: str) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["check", *args])
    return code, buf.getvalue()


def _database_with_version_in_use(tmp_path: Path) -> str:
    """A database as the app leaves it: version 1 of the minimal checklist stored (jf_checklist_version)."""
    spec = load(str(MINIMAL)).spec
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE jf_checklist_version (id INTEGER PRIMARY KEY, checklist VARCHAR(64), "
                             "version INTEGER, structure_hash VARCHAR(64), definition TEXT, stored_on DATETIME)")
        for cl in spec.checklists.values():
            shape = checklist_shape(cl)
            conn.execute(sa.text("INSERT INTO jf_checklist_version (checklist, version, structure_hash, definition) "
                                 "VALUES (:c, :v, :h, :d)"),
                         {"c": cl.name, "v": cl.version, "h": structure_hash(shape),
                          "d": json.dumps(shape, ensure_ascii=False)})
    engine.dispose()
    return url


def test_a_forgotten_version_bump_is_an_error_of_check_and_the_bump_clears_it(tmp_path: Path) -> None:
    url = _database_with_version_in_use(tmp_path)
    cfg = tmp_path / "config"
    shutil.copytree(MINIMAL, cfg)
    assert check(str(cfg), "--db", url)[0] == 0
    apply_edits(NEW_SEAL_ITEM, cfg)
    code, out = check(str(cfg), "--db", url)
    assert code == 1
    assert "checklists.yaml:6:14: E330" in out and "新增细项 seal.s2" in out and "把 version 改为 2" in out
    assert check(str(cfg), "--no-db")[0] == 0  # without the database nothing says what is in use
    apply_edits("=== checklists.yaml\n---\n    version: 1\n    entity: org\n+++\n    version: 2\n    entity: org\n", cfg)
    assert check(str(cfg), "--db", url) == (0, "配置检查通过：5 个文件，0 个错误，0 个警告\n")


def test_wording_alone_needs_no_new_version(tmp_path: Path) -> None:
    url = _database_with_version_in_use(tmp_path)
    cfg = tmp_path / "config"
    shutil.copytree(MINIMAL, cfg)
    apply_edits("=== checklists.yaml\n---\n            label: {zh: 印章, en: Seal}\n+++\n"
                "            label: {zh: 公章, en: Official seal}\n", cfg)
    assert check(str(cfg), "--db", url)[0] == 0


def test_an_unreadable_database_is_a_note_not_an_error(tmp_path: Path) -> None:
    code, out = check(str(MINIMAL), "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert code == 0 and "未能读取数据库" in out and "Traceback" not in out


def test_auto_reads_only_a_database_that_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert resolve_db("auto", str(tmp_path / "nowhere")) is None
    assert default_sqlite_path(str(ROOT / "config")).name == "jiefen.db"
    assert default_sqlite_path(str(ROOT / "examples" / "xishui")).name == "xishui.db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert resolve_db("auto", "config") == "postgresql+psycopg://u@h/db"


def test_app_and_generator_hash_a_checklist_alike() -> None:
    from app.checklists.definitions import Definition

    spec = load(str(ROOT / "config")).spec
    for cl in spec.checklists.values():
        d = Definition.from_spec(cl)
        assert d.as_json() == checklist_shape(cl)
        assert d.structure_hash() == structure_hash(checklist_shape(cl))


@pytest.mark.parametrize("text, code, line", [
    ("a:\n  b：1\n  c: 2\n", "E109", 2),                       # reported on its line, not a line late
    ("a: [x，y]\n", "E109", 1),
    ("a:\n　b: 1\n", "E109", 2),                                # a full-width space as indentation
    ("label: {zh: 调解员, 专职, en: M}\n", "E110", 1),
    ("note: *重要\n", "E111", 1),
    ("note: *important\n", "E111", 1),                          # no anchor of that name: text, not an alias
    ("note: !重要\n", "E111", 1),
    ("a:\n  b: 1\n   c: 2\n", "E112", 3),
    ("a:\n  b: 1\n    c: 2\n", "E112", 3),
])
def test_typing_traps_name_their_cause_and_line(text: str, code: str, line: int) -> None:
    _, _, errs = load_text(text.encode(), "f.yaml")
    assert [(e.code, e.src.line) for e in errs] == [(code, line)], [e.render() for e in errs]


@pytest.mark.parametrize("text", [
    "d: {zh: 说明：这是文字, en: x}\n",          # full-width punctuation inside text is text
    "list:\n  - 某事：说明\n",
    "roles: [a, b]\nx: '[甲，乙]'\n",
    "label: {zh: '调解员, 专职', en: M}\n",
    "note: '*重要'\n",
])
def test_traps_leave_good_text_alone(text: str) -> None:
    assert load_text(text.encode(), "f.yaml")[2] == []


def test_no_hint_ever_proposes_a_name_for_a_permission(tmp_path: Path) -> None:
    """E303/E304/E314 and the scope/grant values of roles.yaml never say "did you mean" (issue #14)."""
    cfg = tmp_path / "config"
    shutil.copytree(MINIMAL, cfg)
    apply_edits("=== roles.yaml\n---\n      transitions: [case_flow.sign_agreement, case_flow.fail]\n+++\n"
                "      transitions: [case_flow.sign_agreemnt, case_flow.fai]\n"
                "---\n    scope: own\n+++\n    scope: onw\n"
                "---\n        dispute_case: [read, update]\n+++\n        dispute_case: [read, updat]\n"
                "=== workflows.yaml\n---\n        roles: [mediator]\n+++\n        roles: [mediatr]\n", cfg)
    for args in ((), ("--lang", "en")):
        code, out = check(str(cfg), "--no-db", *args)
        assert code == 1 and "E2" in out
        assert "是不是" not in out and "did you mean" not in out, out
    assert {"E303", "E304", "E314"} == WIDENING_CODES <= set(CODES)
    for case in CASES.iterdir():
        text = (case / "expected.txt").read_text("utf-8")
        for block in text.split("\nconfig/"):
            if any(f": {c} " in block.splitlines()[0] for c in WIDENING_CODES):
                assert "是不是" not in block, case.name
    for c in ("W408", "E403"):
        assert "添加" not in CODES[c].hint_zh and "授予" not in CODES[c].hint_zh
