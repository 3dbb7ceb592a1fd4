"""Issue #14: ``generator plan`` and ``apply`` on a live database, with data, on SQLite and PostgreSQL.

Every scenario starts from the minimal config applied to a private database with a few rows,
changes the YAML as an officer would, and asserts on the one-line coded messages and on the data:
renames with and without ``renamed_from``, an empty field and a field with data removed, a state
removed while cases sit in it (refused, then ``moved_to``), enum values renamed and removed, a
checklist version forgotten and then raised, backups, the recorded versions and a rollback.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from generator.__main__ import main
from tests.generator.casefiles import MINIMAL, apply_edits
from tests.support.database import private_database


def run(*args: str) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(list(args))
    out = buf.getvalue()
    assert "Traceback" not in out
    return code, out


@pytest.fixture()
def live(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The minimal config applied (version 1) to a private database holding two orgs and three cases."""
    cfg = tmp_path / "config"
    shutil.copytree(MINIMAL, cfg)
    with private_database(tmp_path) as url:
        code, out = run("apply", str(cfg), "--db", url, "--yes", "--backup-dir", str(tmp_path / "bk"))
        assert code == 0, out
        assert "已应用第 1 版配置" in out
        engine = sa.create_engine(url)
        now = dt.datetime(2026, 5, 1, 9, 0)
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO jf_org (id, code, name, org_type, version, created_on, changed_on) "
                                 "VALUES (1, 'C1', '县中心', 'county_centre', 1, :t, :t), "
                                 "(2, 'T1', '兴国镇分中心', 'township_centre', 1, :t, :t)"), {"t": now})
            for i, (state, summary) in enumerate((("failed", "拖欠工资"), ("failed", None), ("mediating", "工伤")), 1):
                conn.execute(sa.text("INSERT INTO jf_dispute_case (id, registry_no, current_org_id, summary, state, "
                                     "version, created_on, changed_on) VALUES (:i, :r, 2, :s, :st, 1, :t, :t)"),
                             {"i": i, "r": f"YX-2026-{i:04d}", "s": summary, "st": state, "t": now})
                conn.execute(sa.text("INSERT INTO jf_case_history (case_id, seq, workflow, transition, from_state, "
                                     "to_state, at) VALUES (:i, 1, 'case_flow', 'start_mediation', 'registered', "
                                     "'mediating', :t)"), {"i": i, "t": now})
        engine.dispose()
        yield cfg, url


def edit(cfg: Path, edits: str) -> None:
    apply_edits(edits, cfg)


def query(url: str, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql)).all()]
    finally:
        engine.dispose()


def columns(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {c["name"] for c in sa.inspect(conn).get_columns(table)}
    finally:
        engine.dispose()


RENAME_SUMMARY = """=== entities.yaml
---
      summary: {label: {zh: 案情摘要, en: Summary}, type: text}
+++
      brief: {label: {zh: 案情摘要, en: Summary}, type: text}
=== workflows.yaml
---
editable: [summary]
+++
editable: [brief]
"""


def test_a_rename_without_renamed_from_is_refused_with_the_rename_hint(live: tuple[Path, str]) -> None:
    cfg, url = live
    edit(cfg, RENAME_SUMMARY)
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 1
    assert "[拒绝] E702 删除字段 dispute_case.summary：数据库中仍有 2 条非空数据" in out
    assert "config/entities.yaml:62:" in out or "entities.yaml:62:" in out
    assert "如果是把 summary 改名为 brief，在字段 brief 下写 renamed_from: summary" in out
    code, out = run("apply", str(cfg), "--db", url, "--yes", "--no-backup")
    assert code == 1 and "E702 计划中有 1 项被拒绝，未做任何修改" in out
    assert "summary" in columns(url, "jf_dispute_case") and "brief" not in columns(url, "jf_dispute_case")


def test_a_rename_with_renamed_from_keeps_the_data(live: tuple[Path, str]) -> None:
    cfg, url = live
    edit(cfg, RENAME_SUMMARY.replace("+++\n      brief: {label: {zh: 案情摘要, en: Summary}, type: text}",
                                     "+++\n      brief: {label: {zh: 案情摘要, en: Summary}, type: text, "
                                     "renamed_from: summary}"))
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 0, out
    assert "[安全] 字段改名 dispute_case.summary → brief（保留 2 条非空数据）" in out
    code, out = run("apply", str(cfg), "--db", url, "--no-backup")
    assert code == 0, out
    assert query(url, "SELECT id, brief FROM jf_dispute_case ORDER BY id") == [(1, "拖欠工资"), (2, None), (3, "工伤")]
    assert "summary" not in columns(url, "jf_dispute_case")
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 0 and "没有需要应用的变更" in out, out  # renamed_from may stay: nothing more to do


def test_an_empty_field_is_dropped_once_confirmed_and_a_field_with_data_only_when_allowed(
        live: tuple[Path, str], tmp_path: Path) -> None:
    cfg, url = live
    edit(cfg, "=== entities.yaml\n---\n      phone: {label: {zh: 联系电话, en: Phone}, type: string, max_length: 20}\n"
              "+++\n")
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 0 and "[需确认] W732 删除字段 org.phone（没有数据，不会丢失任何内容）" in out, out
    code, out = run("apply", str(cfg), "--db", url, "--no-backup")  # not a terminal: no confirmation
    assert code == 1 and "E714 有 1 项需要确认，未做任何修改" in out
    assert "phone" in columns(url, "jf_org")
    code, out = run("apply", str(cfg), "--db", url, "--no-backup", "--yes")
    assert code == 0, out
    assert "phone" not in columns(url, "jf_org")
    # a field that holds data: refused, then dropped under --allow-destructive after a backup
    edit(cfg, "=== entities.yaml\n---\n      summary: {label: {zh: 案情摘要, en: Summary}, type: text}\n+++\n"
              "=== workflows.yaml\n---\n, editable: [summary]}\n+++\n}\n")
    code, out = run("apply", str(cfg), "--db", url, "--yes", "--no-backup")
    assert code == 1 and "E702 删除字段 dispute_case.summary：数据库中仍有 2 条非空数据" in out
    code, out = run("apply", str(cfg), "--db", url, "--yes", "--allow-destructive", "--backup-dir", str(tmp_path / "b"))
    assert code == 0, out
    assert "W734 删除字段 dispute_case.summary及其 2 条非空数据" in out
    assert "summary" not in columns(url, "jf_dispute_case")
    assert ("已备份" in out and list((tmp_path / "b").iterdir())) or "W736" in out
    versions = query(url, "SELECT id, destructive FROM jf_config_version ORDER BY id")
    assert versions == [(1, 0), (2, 0), (3, 1)]


REMOVE_FAILED = """=== workflows.yaml
---
      failed: {label: {zh: 调解不成, en: Failed}, kind: mediation}
+++
---
        stop: {enter: [agreed, failed]}
+++
        stop: {enter: [agreed, closed]}
---
        to: failed
+++
        to: closed
---
        from: [agreed, failed]
+++
        from: [agreed]
"""


def test_a_state_with_cases_is_refused_naming_them_then_moved_to_moves_them_with_history(
        live: tuple[Path, str]) -> None:
    cfg, url = live
    edit(cfg, REMOVE_FAILED)
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 1
    assert "[拒绝] E710 删除状态 调解不成（failed）：仍有 2 件案件处于该状态（YX-2026-0001、YX-2026-0002）" in out
    assert "moved_to: {failed: 现有状态名}" in out
    code, out = run("apply", str(cfg), "--db", url, "--yes", "--no-backup")
    assert code == 1 and "E710 计划中有 1 项被拒绝" in out
    assert query(url, "SELECT count(*) FROM jf_dispute_case WHERE state = 'failed'") == [(2,)]
    edit(cfg, "=== workflows.yaml\n---\n    initial: registered\n+++\n    initial: registered\n"
              "    moved_to: {failed: agreed}\n")
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 0, out
    assert "[需确认] W733 删除状态 调解不成（failed）：2 件案件（YX-2026-0001、YX-2026-0002）移入 已达成协议（agreed）" in out
    code, out = run("apply", str(cfg), "--db", url, "--yes", "--no-backup")
    assert code == 0, out
    assert query(url, "SELECT id, state, version FROM jf_dispute_case ORDER BY id") == \
        [(1, "agreed", 2), (2, "agreed", 2), (3, "mediating", 1)]
    hist = query(url, "SELECT case_id, seq, transition, from_state, to_state FROM jf_case_history "
                      "WHERE transition = 'config_moved_to' ORDER BY case_id")
    assert hist == [(1, 2, "config_moved_to", "failed", "agreed"), (2, 2, "config_moved_to", "failed", "agreed")]


def test_enum_values_renamed_follow_and_removed_ones_in_use_are_refused(live: tuple[Path, str]) -> None:
    cfg, url = live
    edit(cfg, "=== entities.yaml\n---\n      township_centre: {zh: 乡镇分中心, en: Township centre}\n+++\n"
              "      township_hub: {zh: 乡镇分中心, en: Township centre}\n---\n    township: [township_centre]\n+++\n"
              "    township: [township_hub]\n---\n    township_centre: [county_centre]\n"
              "    enterprise_station: [township_centre]\n+++\n    township_hub: [county_centre]\n"
              "    enterprise_station: [township_hub]\n"
              "=== checklists.yaml\n---\n    applies_to: [county_centre, township_centre, enterprise_station]\n+++\n"
              "    applies_to: [county_centre, township_hub, enterprise_station]\n"
              "=== roles.yaml\n---\n    org_types: [enterprise_station, township_centre]\n+++\n"
              "    org_types: [enterprise_station, township_hub]\n")
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 1 and "E707" in out and "org_type" in out, out
    edit(cfg, "=== entities.yaml\n---\n      township_hub: {zh: 乡镇分中心, en: Township centre}\n+++\n"
              "      township_hub: {zh: 乡镇分中心, en: Township centre, renamed_from: township_centre}\n")
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 0 and "[安全] 选项值改名 org_type.township_centre → township_hub（1 条记录随之改为新值）" in out, out
    assert run("apply", str(cfg), "--db", url, "--no-backup")[0] == 0
    assert query(url, "SELECT code, org_type FROM jf_org ORDER BY id") == [("C1", "county_centre"), ("T1", "township_hub")]


def test_an_entity_renamed_keeps_its_rows(live: tuple[Path, str]) -> None:
    cfg, url = live
    assert query(url, "SELECT count(*) FROM jf_member_unit") == [(2,)]  # reference.yaml, loaded by apply
    edit(cfg, "=== entities.yaml\n---\n  member_unit:\n    label: {zh: 成员单位, en: Member unit}\n+++\n"
              "  partner_unit:\n    renamed_from: member_unit\n    label: {zh: 成员单位, en: Member unit}\n"
              "=== reference.yaml\n---\n  member_unit:\n+++\n  partner_unit:\n")
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 0 and "[安全] 实体改名 member_unit → partner_unit（表 jf_member_unit → jf_partner_unit，保留 2 条记录）" in out, out
    assert run("apply", str(cfg), "--db", url, "--no-backup")[0] == 0
    assert query(url, "SELECT count(*) FROM jf_partner_unit") == [(2,)]


def test_a_checklist_version_forgotten_then_raised(live: tuple[Path, str]) -> None:
    cfg, url = live
    from generator import load
    from generator.baseline import checklist_shape, structure_hash

    cl = load(str(cfg)).spec.checklists["five_essentials"]
    shape = checklist_shape(cl)
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the version the app stored when inspections used it
        conn.execute(sa.text("INSERT INTO jf_checklist_version (checklist, version, structure_hash, definition, "
                             "stored_on) VALUES ('five_essentials', 1, :h, :d, :t)"),
                     {"h": structure_hash(shape), "d": json.dumps(shape), "t": dt.datetime(2026, 5, 1)})
    engine.dispose()
    edit(cfg, "=== checklists.yaml\n---\n            gate: true\n    rating:\n+++\n            gate: true\n"
              "          s2:\n            label: {zh: 印章登记, en: Seal registration}\n    rating:\n")
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 1
    assert out.startswith("E716 配置有错误，未做任何修改")
    assert "checklists.yaml:6:14: E330" in out and "把 version 改为 2" in out
    code, out = run("apply", str(cfg), "--db", url, "--yes", "--no-backup")
    assert code == 1 and out.startswith("E716")
    edit(cfg, "=== checklists.yaml\n---\n    version: 1\n+++\n    version: 2\n")
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 0, out


def test_versions_are_recorded_and_a_rollback_goes_through_plan_and_apply(live: tuple[Path, str]) -> None:
    cfg, url = live
    edit(cfg, "=== entities.yaml\n---\n      phone: {label: {zh: 联系电话, en: Phone}, type: string, max_length: 20}\n"
              "+++\n      phone: {label: {zh: 联系电话, en: Phone}, type: string, max_length: 20}\n"
              "      fax: {label: {zh: 传真, en: Fax}, type: string, max_length: 20}\n")
    code, out = run("apply", str(cfg), "--db", url, "--no-backup", "--by", "张三", "--note", "加传真")
    assert code == 0 and "[安全] 实体 org 新增字段 fax（已有 2 条记录，新字段为空值）" in out, out
    row = query(url, "SELECT applied_by, note, diff, plan FROM jf_config_version WHERE id = 2")[0]
    assert row[0] == "张三" and row[1] == "加传真" and "+      fax:" in row[2] and "fax" in row[3]
    code, out = run("history", str(cfg), "--db", url)
    assert code == 0 and "第 2 版" in out and "张三" in out
    code, out = run("plan", str(cfg), "--db", url, "--rollback-to", "1")
    assert code == 0 and "W732 删除字段 org.fax（没有数据" in out, out
    code, out = run("apply", str(cfg), "--db", url, "--rollback-to", "1", "--yes", "--no-backup")
    assert code == 0, out
    assert "fax" not in columns(url, "jf_org")
    assert "fax" not in (cfg / "entities.yaml").read_text("utf-8")  # the files went back too
    assert query(url, "SELECT id, rollback_of FROM jf_config_version ORDER BY id")[-1] == (3, 1)
    code, out = run("apply", str(cfg), "--db", url, "--rollback-to", "99", "--yes", "--no-backup")
    assert code == 1 and out.startswith("E719")


def test_apply_backs_up_a_sqlite_file(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    shutil.copytree(MINIMAL, cfg)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert run("apply", str(cfg), "--db", url, "--no-backup")[0] == 0
    code, out = run("apply", str(cfg), "--db", url, "--backup-dir", str(tmp_path / "bk"))
    assert code == 0 and "已备份" in out
    (copy,) = list((tmp_path / "bk").iterdir())
    engine = sa.create_engine(f"sqlite:///{copy}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM jf_config_version")).scalar() == 1
    engine.dispose()


def test_an_unreachable_database_and_a_broken_config_are_one_coded_line(tmp_path: Path) -> None:
    code, out = run("plan", str(MINIMAL), "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert code == 1 and out.startswith("E718 无法连接数据库")
    cfg = tmp_path / "config"
    shutil.copytree(MINIMAL, cfg)
    edit(cfg, "=== roles.yaml\n---\n    scope: own\n+++\n    scope：own\n")
    code, out = run("apply", str(cfg), "--db", f"sqlite:///{tmp_path / 'x.db'}", "--yes")
    assert code == 1 and out.startswith("E716 配置有错误") and "E109" in out


def test_every_plan_code_is_documented_in_the_guide() -> None:
    import re

    from app.lifecycle.codes import PLAN_CODES
    from tests.app.conftest import ROOT

    text = (ROOT / "docs" / "config-guide.md").read_text("utf-8")
    start = text.index("## 修改运行中的系统")
    chapter = text[start:text.index("\n## ", start + 10)]
    missing = [c for c, (zh, _en) in PLAN_CODES.items() if not re.search(rf"^### {c} {re.escape(zh)}$", chapter, re.M)]
    assert missing == []
    for word in ("renamed_from", "moved_to", "--allow-destructive", "--rollback-to", "config_history", "创建账号"):
        assert word in chapter


def test_a_role_renamed_keeps_its_accounts_and_a_removed_one_asks(live: tuple[Path, str]) -> None:
    cfg, url = live
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO ab_user (id, first_name, last_name, username, email, active) "
                             "VALUES (900, '调解', '员', 'med1', 'med1@example.invalid', :a)"), {"a": True})
        conn.execute(sa.text("INSERT INTO ab_user_role (id, user_id, role_id) SELECT 900, u.id, r.id FROM ab_user u, "
                             "ab_role r WHERE u.username = 'med1' AND r.name = 'mediator'"))
    engine.dispose()
    rename = ("=== roles.yaml\n---\n  mediator:\n    label: {zh: 调解员, en: Mediator}\n+++\n"
              "  case_mediator:\n    renamed_from: mediator\n    label: {zh: 调解员, en: Mediator}\n"
              "---\n    can_assign: [station_head, mediator]\n+++\n    can_assign: [station_head, case_mediator]\n"
              "---\n    can_assign: [mediator]\n+++\n    can_assign: [case_mediator]\n"
              "=== workflows.yaml\n---\nowners: [mediator]\n+++\nowners: [case_mediator]\n"
              "---\n        roles: [mediator, station_head]\n+++\n        roles: [case_mediator, station_head]\n"
              "---\n        roles: [mediator]\n+++\n        roles: [case_mediator]\n")
    without = rename.replace("    renamed_from: mediator\n", "")
    edit(cfg, without)
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 0 and "[需确认] W731 角色 mediator 已从 roles.yaml 删除：1 个账号将失去它的全部权限" in out, out
    assert "renamed_from: mediator" in out
    shutil.rmtree(cfg)
    shutil.copytree(MINIMAL, cfg)
    edit(cfg, rename)
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 0 and "[安全] 角色改名 mediator → 调解员（case_mediator）：1 个账号保留该角色" in out, out
    assert run("apply", str(cfg), "--db", url, "--no-backup")[0] == 0
    assert query(url, "SELECT r.name FROM ab_user_role ur JOIN ab_role r ON r.id = ur.role_id "
                      "JOIN ab_user u ON u.id = ur.user_id WHERE u.username = 'med1'") == [("case_mediator",)]


def test_a_new_role_widens_permissions_and_warns_of_demo_logins(live: tuple[Path, str]) -> None:
    cfg, url = live
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the demo's marker organisation: this database holds the demo
        conn.execute(sa.text("INSERT INTO jf_org (id, code, name, org_type, version, created_on, changed_on) "
                             "VALUES (3, 'YX-DEMO', '演示', 'county_centre', 1, :t, :t)"), {"t": dt.datetime(2026, 5, 1)})
    engine.dispose()
    edit(cfg, "=== roles.yaml\n---\n  mediator:\n    label: {zh: 调解员, en: Mediator}\n+++\n"
              "  supervisor:\n    label: {zh: 区域督导, en: Regional supervisor}\n    scope: county\n"
              "    grants:\n      entities:\n        dispute_case: [read, export]\n"
              "  mediator:\n    label: {zh: 调解员, en: Mediator}\n")
    code, out = run("plan", str(cfg), "--db", url)
    assert code == 0, out
    assert "[需确认] W730 区域督导（supervisor） 新增角色，授予：查看 案件、导出 案件" in out
    assert "[需确认] W735 数据库中有演示数据：flask setup 会为新角色 supervisor 各创建演示账号" in out
