"""``python -m generator apply``: back up, then carry out the plan in one transaction, and record it.

1. Backup: SQLite is copied with SQLite's online backup (a consistent file next to the
   database's folder, ``var/backups/``); PostgreSQL is dumped with ``pg_dump`` when the binary
   exists (``W736`` says so when it does not; ``--no-backup`` skips it on purpose).
2. One transaction under the schema sync's lock: the plan's renames and moves
   (app/lifecycle/plan.py), the schema operations, dropping what ``--allow-destructive`` or an
   empty column allows, the deadlines of moved cases recomputed, the sync's fingerprint, the
   ``jf_config_version`` row (hash, diff, who, when, plan) and an audit row.  The schema is then
   compared again and must match the config exactly, else everything rolls back (``E717``).
   PostgreSQL and SQLite (``BEGIN IMMEDIATE``) both roll back DDL.
3. After the commit, roles and reference data are synced as ``flask setup`` does (without demo
   data), and new checklist versions are stored.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.engine import Connection

from generator.baseline import ROOT

from app import schema_state, schema_sync
from . import history
from .codes import Refused, line
from .plan import Plan, Target


@dataclass
class Backup:
    path: Optional[Path]
    note: str  # one line for the officer (a W736 line when none was taken)


def backup(url: str, folder: Optional[Path] = None) -> Backup:
    folder = folder or ROOT / "var" / "backups"
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        db = u.database
        if not db or db == ":memory:" or not Path(db).exists():
            return Backup(None, line("W736", "数据库文件尚不存在，无需备份", "no database file yet, nothing to back up"))
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{Path(db).stem}-{stamp}.db"
        try:
            src = sqlite3.connect(db)
            try:
                out = sqlite3.connect(str(dest))
                with out:
                    src.backup(out)
                out.close()
            finally:
                src.close()
        except sqlite3.Error as exc:
            raise Refused("E715", f"备份 {db} 失败，未做任何修改：{exc}", f"backing up {db} failed, nothing changed")
        return Backup(dest, f"已备份 / backed up: {dest}")
    if u.get_backend_name() == "postgresql":
        exe = shutil.which("pg_dump")
        if exe is None:
            return Backup(None, line("W736", "未找到 pg_dump，未备份数据库；请先用数据库自己的备份手段备份，或安装 PostgreSQL 客户端",
                                     "pg_dump not found: no backup taken; back up by other means first"))
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{u.database}-{stamp}.dump"
        plain = u.set(drivername="postgresql")
        env = {"PGPASSWORD": plain.password or ""}
        args = [exe, "--format=custom", "--file", str(dest), "--no-password",
                plain.set(password=None, query={}).render_as_string(hide_password=False)]
        schema = _search_path(u)
        if schema:
            args[1:1] = ["--schema", schema]
        import os

        proc = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **env}, timeout=3600)
        if proc.returncode != 0:
            reason = (proc.stderr.strip().splitlines() or ["pg_dump failed"])[-1][:200]
            raise Refused("E715", f"pg_dump 备份失败，未做任何修改：{reason}", "pg_dump failed, nothing changed")
        return Backup(dest, f"已备份 / backed up: {dest}")
    return Backup(None, line("W736", f"不支持自动备份 {u.get_backend_name()} 数据库，未备份",
                             f"no automatic backup for {u.get_backend_name()}"))


def _search_path(u: sa.engine.URL) -> Optional[str]:
    """The schema a test URL pins with ``options=-csearch_path=…`` (only that schema is dumped)."""
    opt = u.query.get("options")
    opt = opt[0] if isinstance(opt, tuple) else opt
    if opt and "search_path=" in opt:
        return opt.split("search_path=", 1)[1].split()[0]
    return None


# ------------------------------------------------------------------ the transaction


def execute(conn: Connection, t: Target, p: Plan) -> None:
    """Carry out what :func:`app.lifecycle.plan.prepare` left to do, on the same connection."""
    metadata = t.reg.metadata
    if p.fresh:
        ours = [tb for tb in metadata.sorted_tables if tb.name.startswith("jf_")]
        live = set(sa.inspect(conn).get_table_names())
        schema_sync._create_missing_targets(conn, ours, live)
        metadata.create_all(conn, tables=[tb for tb in ours if tb.name not in live])
    else:
        if p.sync is not None:
            schema_sync.apply(conn, p.sync)
        _drops(conn, p)
        left = schema_sync.plan(conn, metadata)
        if not left.empty:
            raise Refused("E717", "应用后数据库结构仍与配置不一致，已全部回滚，未做任何修改",
                          "the schema still differs after applying; everything rolled back",
                          tuple(f"  {d}" for d in left.describe() + [r.zh for r in left.refused]))
        _deadlines(conn, t, p)
    state_table = schema_state.STATE
    state_table.create(conn, checkfirst=True)
    conn.execute(state_table.delete())
    conn.execute(state_table.insert().values(id=1, fingerprint=schema_state.fingerprint(metadata, conn.engine)))


def _drops(conn: Connection, p: Plan) -> None:
    op = Operations(MigrationContext.configure(conn))
    for kind, table, column in p.drops:
        insp = sa.inspect(conn)
        if kind == "table":
            op.drop_table(table)
            continue
        if conn.dialect.name == "sqlite" and any(column in fk["constrained_columns"]
                                                 for fk in insp.get_foreign_keys(table)):
            raise Refused("E706", f"SQLite 不能直接删除关联字段 {table}.{column}（需要重建整张表），未做任何修改；"
                                  "请由管理员备份后手工迁移，或改用 PostgreSQL",
                          f"SQLite cannot drop the reference column {table}.{column} without a rebuild")
        for ix in insp.get_indexes(table):
            if column in (ix.get("column_names") or []):
                op.drop_index(ix["name"], table_name=table)
        op.drop_column(table, column)


def _deadlines(conn: Connection, t: Target, p: Plan) -> None:
    """Moved cases, and every open deadline when deadline rules changed, follow the new config."""
    if t.reg.workflow is None or not (p.moved or p.deadlines_changed):
        return
    from sqlalchemy.orm import Session

    from app.workflow.common import context
    from app.workflow.deadlines import refresh

    ids: set[int] = {i for v in p.moved.values() for i in v}
    if p.deadlines_changed:
        ids |= set(conn.execute(sa.text("SELECT DISTINCT case_id FROM jf_case_deadline WHERE is_open = 1")).scalars())
    if not ids:
        return
    session = Session(bind=conn)
    try:
        ctx = context(reg=t.reg)
        ordered = sorted(ids)
        for start in range(0, len(ordered), 2000):
            refresh(session, ordered[start:start + 2000], None, ctx)
        session.flush()
    finally:
        session.close()


def record(conn: Connection, t: Target, p: Plan, *, by: str, warnings: list[str], note: str = "",
           rollback_of: Optional[int] = None) -> int:
    table = t.reg.config_versions.__table__
    files = t.files
    res = conn.execute(table.insert().values(
        applied_at=_dt.datetime.utcnow(), applied_by=by, config_hash=history.config_hash(files),
        config_dir=str(Path(t.config_dir).resolve()), files=json.dumps(files, ensure_ascii=False),
        diff=history.unified_diff(t.old.files if t.old else None, files),
        plan=json.dumps(p.as_json(), ensure_ascii=False), warnings="\n".join(warnings), note=note,
        rollback_of=rollback_of, destructive=1 if t.allow_destructive else 0))
    version = int(res.inserted_primary_key[0])
    from app.audit.log import record_in

    c = p.counts()
    record_in(conn, "config_apply", entity="config", record_id=version, username=by,
              detail=f"config version {version}: {c['safe']} safe, {c['confirm']} confirmed items",
              table=t.reg.audit_log.__table__)
    return version


def sync_roles_and_reference(url: str, t: Target) -> list[str]:
    """What ``flask setup`` does after the schema, without demo data: permissions, roles, reference."""
    from app import create_app
    from app.cli import sync_roles
    from app.demo.loader import load_reference

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SCHEMA_SYNC": False, "JIEFEN_MAINTENANCE": True,
                      "CONFIG_DIR": t.config_dir, "TESTING": True}, spec=t.spec)
    out = []
    with app.app_context():
        appbuilder = app.appbuilder
        session = appbuilder.sm.session
        try:
            appbuilder.add_permissions(update_perms=True)
            result = sync_roles(appbuilder)
            out.append(f"权限与角色已同步 / roles synced: {sum(result['added'].values())} grants added, "
                       f"{len(result['removed'])} removed")
            ref = load_reference(session, t.spec, t.reg.models)
            session.commit()
            out.append(f"参考数据 / reference data: {ref}")
        finally:
            session.remove()
            session.get_bind().dispose()
    from app.audit.log import ensure_append_only

    engine = sa.create_engine(url)
    try:
        ensure_append_only(engine)
    finally:
        engine.dispose()
    return out
