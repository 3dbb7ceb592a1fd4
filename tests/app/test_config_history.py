"""系统管理 → 配置历史: applied versions with their plan and diff, the current YAML with its warnings,
a rollback plan (a rehearsal that changes nothing); only for roles granted ``config_history``."""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import sqlalchemy as sa

from generator.__main__ import main
from tests.app.conftest import PASSWORD, dispose, login, make_app
from tests.generator.casefiles import MINIMAL, apply_edits
from tests.support.database import private_database

ADD_FAX = ("=== entities.yaml\n---\n      phone: {label: {zh: 联系电话, en: Phone}, type: string, max_length: 20}\n"
           "+++\n      phone: {label: {zh: 联系电话, en: Phone}, type: string, max_length: 20}\n"
           "      fax: {label: {zh: 传真, en: Fax}, type: string, max_length: 20}\n")


def _apply(cfg: Path, uri: str, *args: str) -> str:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["apply", str(cfg), "--db", uri, "--no-backup", "--yes", *args])
    assert code == 0, buf.getvalue()
    return buf.getvalue()


def test_history_pages_show_versions_diff_plan_current_yaml_and_a_rollback_plan(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    shutil.copytree(MINIMAL, cfg)
    with private_database(tmp_path) as uri:
        _apply(cfg, uri, "--by", "王五")
        apply_edits(ADD_FAX, cfg)
        _apply(cfg, uri, "--by", "李四", "--note", "组织加传真")
        app = make_app(uri, CONFIG_DIR=str(cfg))
        with app.app_context():
            sm = app.appbuilder.sm
            sm.add_user("office", "办公室", "管理员", "office@example.invalid", [sm.find_role("jm_office")], PASSWORD)
            sm.add_user("med", "调解", "员", "med@example.invalid", [sm.find_role("mediator")], PASSWORD)
        client = app.test_client()
        login(client, "office")
        html = client.get("/config-history/").get_data(as_text=True)
        assert "配置历史" in html and "第 2 版" in html and "李四" in html and "组织加传真" in html
        html = client.get("/config-history/2").get_data(as_text=True)
        assert "实体 org 新增字段 fax" in html and "+      fax:" in html and "entities.yaml" in html
        assert "&lt;" not in html or "<script" not in html  # YAML is shown as escaped text
        html = client.get("/config-history/current").get_data(as_text=True)
        assert "与第 2 版一致" in html and "fax: {label: {zh: 传真" in html
        html = client.get("/config-history/1/rollback").get_data(as_text=True)
        assert "回退到第 1 版的计划" in html and "W732" in html and "删除字段 org.fax" in html
        assert "python -m generator apply --rollback-to 1" in html
        assert "fax" in {c["name"] for c in sa.inspect(sa.create_engine(uri)).get_columns("jf_org")}  # a rehearsal
        en = client.get("/config-history/2?_l_=en").get_data(as_text=True)
        assert client.get("/config-history/99").status_code == 404
        assert en  # the English page renders too
        other = app.test_client()
        login(other, "med")
        assert other.get("/config-history/").status_code in (302, 403)
        assert other.get("/config-history/1/rollback").status_code in (302, 403)
        dispose(app)
