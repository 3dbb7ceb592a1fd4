"""No traceback reaches an officer: each refusal of start-up and ``flask setup`` is one coded line.

``generator check``/``plan``/``apply`` refusals are asserted in tests/generator and
tests/app/test_config_lifecycle.py; here the app itself: production never changes the schema at
start-up (E720) while development keeps its additive sync, a change start-up will not make (E721),
a broken config (E716), demo data that does not fit (E722), each through ``flask --app app setup``
in a real process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.lifecycle.codes import Refused
from tests.app.conftest import ROOT, dispose, make_app, run_setup
from tests.generator.casefiles import MINIMAL, apply_edits
from tests.support.database import private_database

ADD_FAX = ("=== entities.yaml\n---\n      phone: {label: {zh: 联系电话, en: Phone}, type: string, max_length: 20}\n"
           "+++\n      phone: {label: {zh: 联系电话, en: Phone}, type: string, max_length: 20}\n"
           "      fax: {label: {zh: 传真, en: Fax}, type: string, max_length: 20}\n")


def _config(tmp_path: Path, name: str, edits: str = "") -> Path:
    cfg = tmp_path / name
    shutil.copytree(MINIMAL, cfg)
    if edits:
        apply_edits(edits, cfg)
    return cfg


def _columns(uri: str, table: str) -> set[str]:
    engine = sa.create_engine(uri)
    try:
        with engine.connect() as conn:
            return {c["name"] for c in sa.inspect(conn).get_columns(table)}
    finally:
        engine.dispose()


def test_production_start_refuses_to_change_the_schema_and_development_syncs(tmp_path: Path) -> None:
    v1, v2 = _config(tmp_path, "v1"), _config(tmp_path, "v2", ADD_FAX)
    with private_database(tmp_path) as uri:
        app = make_app(uri, CONFIG_DIR=str(v1))
        run_setup(app, "--no-demo")
        dispose(app)
        prod = {"APP_ENV": "production", "SECRET_KEY": "p" * 48, "CONFIG_DIR": str(v2)}
        with pytest.raises(Refused) as exc:
            make_app(uri, **prod)
        message = exc.value.format_message()
        assert message.startswith("E720 数据库结构与配置不一致（1 处），生产环境启动时不自动修改数据库") and "\n" not in message
        assert "python -m generator plan" in message and "fax" not in _columns(uri, "jf_org")
        dispose(make_app(uri, CONFIG_DIR=str(v2)))  # development: the additive change is applied
        assert "fax" in _columns(uri, "jf_org")
        dispose(make_app(uri, **prod))  # and production starts once the schema matches


def test_production_refuses_a_database_without_tables(tmp_path: Path) -> None:
    with private_database(tmp_path) as uri:
        with pytest.raises(Refused) as exc:
            make_app(uri, APP_ENV="production", SECRET_KEY="p" * 48, CONFIG_DIR=str(MINIMAL))
        assert exc.value.format_message().startswith("E720 数据库尚未建立")


def flask_setup(tmp_path: Path, cfg: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    db = os.environ.get("DATABASE_URL") if os.environ.get("DATABASE_URL", "").startswith("postgres") else None
    run_env = {**os.environ, "CONFIG_DIR": str(cfg), "SECRET_KEY": "s" * 40, "PYTHONPATH": str(ROOT),
               "DATABASE_URL": db or f"sqlite:///{tmp_path / 'app.db'}", **(env or {})}
    proc = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "app", "setup", *args],
                          cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    # FAB's own start-up warning ("No user yet created") may come first on a database without accounts.
    out = "\n".join(ln for ln in out.splitlines() if not ln.startswith("No user yet created")) + "\n"
    return proc.returncode, out


@pytest.fixture()
def sqlite_only() -> None:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs `flask setup` in a process against a SQLite file of its own")


def test_setup_refusals_are_one_coded_line(tmp_path: Path, sqlite_only: None) -> None:
    broken = _config(tmp_path, "broken", "=== roles.yaml\n---\n    scope: own\n+++\n    scope: onw\n")
    code, out = flask_setup(tmp_path, broken, "--no-demo")
    assert code == 1 and out.startswith("E716 配置有错误，系统未启动") and "roles.yaml:29:12: E202" in out
    v1 = _config(tmp_path, "v1")
    code, out = flask_setup(tmp_path, v1, "--no-demo")
    assert code == 0, out
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO jf_org (code, name, org_type, phone, version, created_on, changed_on) "
                             "VALUES ('C1', '县中心', 'county_centre', '0714-1', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    engine.dispose()
    no_phone = _config(tmp_path, "v2", "=== entities.yaml\n---\n"
                                       "      phone: {label: {zh: 联系电话, en: Phone}, type: string, max_length: 20}\n+++\n")
    code, out = flask_setup(tmp_path, no_phone, "--no-demo")
    assert code == 1 and out.startswith("E721 数据库结构与配置不一致，有 1 处不能自动同步") and "org.phone" in out
    code, out = flask_setup(tmp_path, _config(tmp_path, "v3", ADD_FAX), "--no-demo",
                            env={"APP_ENV": "production", "SECRET_KEY": "p" * 48})
    assert code == 1 and out.startswith("E720 数据库结构与配置不一致")
    code, out = flask_setup(tmp_path, v1, "--demo")  # the demo county needs the shipped entities
    assert code == 1 and "\nE722 演示数据不适用于本配置" in "\n" + out, out
