"""The commands behind ``python -m generator plan`` and ``python -m generator apply``.

Both print one line per plan item (``--format json``: a document), never a traceback: every
refusal is a :class:`~app.lifecycle.codes.Refused` with its code, printed as its lines.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

import sqlalchemy as sa

from generator.baseline import default_database_url, from_database, normalise_url
from generator.errors import summary
from generator.pipeline import load, with_baseline

from app import schema_sync
from . import history
from .codes import Refused, line
from .plan import AREAS, REFUSED, STATUS, Plan, Target, prepare


def _url(option: Optional[str], config_dir: str) -> str:
    return normalise_url(option) if option and option != "auto" else default_database_url(config_dir)


def shown_url(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "?"


def _engine(url: str) -> sa.engine.Engine:
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(url, connect_args={"timeout": 60})
    return sa.create_engine(url, connect_args={"connect_timeout": 5} if u.get_backend_name() == "postgresql" else {})


def compile_target(config_dir: str, url: str, lang: str, allow_destructive: bool) -> tuple[Target, list[str]]:
    """The compiled config (with E330 against the database) or E716 with the check's lines."""
    result = load(config_dir)
    if result.spec is not None:
        try:
            result = with_baseline(result, from_database(url))
        except Exception:  # noqa: BLE001 - the database is reported by the plan itself (E718)
            pass
    if not result.ok or result.spec is None:
        lines = [e.render(lang) for e in result.errors] + [summary(list(result.errors), len(result.files), lang)]
        raise Refused("E716", "配置有错误，未做任何修改：先按 python -m generator check 的提示修改",
                      "the config has errors, nothing changed: fix what python -m generator check reports",
                      tuple(lines))
    from app.registry import registry_for

    warnings = [e.render(lang).splitlines()[0] for e in result.errors if e.is_warning]
    return Target(result.spec, registry_for(result.spec), config_dir, history.read_files(config_dir),
                  allow_destructive=allow_destructive), warnings


def _old_spec(old: Optional[history.Applied]) -> Any:
    if old is None:
        return None
    with tempfile.TemporaryDirectory(prefix="jiefen-applied-") as tmp:
        history.write_dir(old.files, Path(tmp))
        result = load(tmp)
    return result.spec


@contextmanager
def _connection(url: str) -> Iterator[sa.engine.Connection]:
    engine = _engine(url)
    try:
        try:
            conn = engine.connect()
        except Exception as exc:  # noqa: BLE001
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise Refused("E718", f"无法连接数据库 {shown_url(url)}：{reason}", f"cannot connect to {shown_url(url)}")
        try:
            yield conn
        finally:
            conn.close()
    finally:
        engine.dispose()


def rehearse(conn: sa.engine.Connection, t: Target) -> Plan:
    """Under the lock, inside the caller's transaction: the last applied version, then the plan."""
    t.old = history.latest(conn, t.reg.config_versions.__table__)
    t.old_spec = _old_spec(t.old)
    return prepare(conn, t)


# ------------------------------------------------------------------ rendering


def render(p: Plan, t: Target, url: str, lang: str = "zh") -> list[str]:
    zh = lang == "zh"
    out = [f"配置变更计划：{t.config_dir} → {shown_url(url)}" if zh else f"plan: {t.config_dir} → {shown_url(url)}"]
    if t.old is not None:
        when = t.old.applied_at.strftime("%Y-%m-%d %H:%M UTC")
        out.append(f"上次应用：第 {t.old.id} 版，{when}，{t.old.applied_by}" if zh
                   else f"last applied: version {t.old.id}, {when}, {t.old.applied_by}")
    else:
        out.append("上次应用：尚无记录（只与数据库本身比较）" if zh else "last applied: none recorded (compared with the database only)")
    if p.empty:
        out.append("配置与数据库一致，没有需要应用的变更" if zh else "the database matches the config: nothing to apply")
        return out
    for area, (azh, aen) in AREAS.items():
        items = [i for i in p.items if i.area == area]
        if not items:
            continue
        out.append("")
        out.append(azh if zh else aen)
        for i in items:
            tag = STATUS[i.status][0 if zh else 1]
            code = f"{i.code} " if i.code else ""
            where = f"  [{i.src}]" if i.src else ""
            out.append(f"  [{tag}] {code}{i.zh if zh else i.en}{where}")
            hint = i.hint_zh if zh else i.hint_en
            if hint:
                out.append(f"      {'提示' if zh else 'hint'}: {hint}")
    c = p.counts()
    out.append("")
    if zh:
        out.append(f"合计：{c['safe']} 项安全，{c['confirm']} 项需确认，{c['refused']} 项拒绝"
                   + ("；有拒绝项，apply 不会做任何修改" if c["refused"] else ""))
    else:
        out.append(f"total: {c['safe']} safe, {c['confirm']} to confirm, {c['refused']} refused"
                   + ("; with refusals apply changes nothing" if c["refused"] else ""))
    return out


def as_document(p: Plan, t: Target, url: str) -> dict[str, Any]:
    return {"ok": not p.refused, "config_dir": t.config_dir, "database": shown_url(url),
            "last_applied": {"version": t.old.id, "applied_at": t.old.applied_at.isoformat(),
                             "applied_by": t.old.applied_by} if t.old else None,
            "counts": p.counts(), "items": p.as_json()}


def _echo(text: str) -> None:
    sys.stdout.write(text + "\n")


# ------------------------------------------------------------------ commands


@contextmanager
def _version_dir(url: str, config_dir: str, version: Optional[int]) -> Iterator[tuple[str, Optional[history.Applied]]]:
    """``config_dir`` itself, or a temporary directory holding applied version ``version``'s files."""
    if version is None:
        yield config_dir, None
        return
    from app.registry import Registry  # noqa: F401  (the table is built by the registry)

    with _connection(url) as conn:
        table = _history_table()
        row = history.get(conn, table, version)
    if row is None:
        raise Refused("E719", f"数据库中没有第 {version} 版配置", f"no config version {version} in the database")
    with tempfile.TemporaryDirectory(prefix="jiefen-version-") as tmp:
        history.write_dir(row.files, Path(tmp))
        yield tmp, row


def _history_table() -> sa.Table:
    md = sa.MetaData()
    from sqlalchemy.orm import DeclarativeBase

    class _Base(DeclarativeBase):
        metadata = md

    return history.build_config_version_table(_Base).__table__  # type: ignore[attr-defined, no-any-return]


def run_plan(config_dir: str, db: Optional[str], fmt: str = "text", lang: str = "zh",
             allow_destructive: bool = False, version: Optional[int] = None) -> int:
    url = _url(db, config_dir)
    with _version_dir(url, config_dir, version) as (folder, _row):
        t, _warnings = compile_target(folder, url, lang, allow_destructive)
        if version is not None:
            t.config_dir = f"{config_dir}（第 {version} 版 / version {version}）"
        with _connection(url) as conn:
            trans = conn.begin()
            try:
                with schema_sync.transaction(conn, lock=True):
                    p = rehearse(conn, t)
            finally:
                trans.rollback()
    if fmt == "json":
        _echo(json.dumps(as_document(p, t, url), ensure_ascii=False, indent=2))
    else:
        for ln in render(p, t, url, lang):
            _echo(ln)
    return 1 if p.refused else 0


def _confirm(p: Plan, yes: bool, lang: str) -> None:
    if not p.to_confirm or yes:
        return
    if sys.stdin is not None and sys.stdin.isatty():
        prompt = "以上标为“需确认”的变更将被执行。输入 yes 继续：" if lang == "zh" else "Type yes to carry out the items to confirm: "
        if input(prompt).strip().lower() == "yes":
            return
    raise Refused("E714", f"有 {len(p.to_confirm)} 项需要确认，未做任何修改：核对后用 --yes 重新运行",
                  f"{len(p.to_confirm)} items need confirmation, nothing changed: check them, then run again with --yes")


def run_apply(config_dir: str, db: Optional[str], *, yes: bool = False, allow_destructive: bool = False,
              no_backup: bool = False, backup_dir: Optional[str] = None, by: Optional[str] = None,
              note: str = "", lang: str = "zh", rollback_to: Optional[int] = None) -> int:
    url = _url(db, config_dir)
    restore: Optional[Path] = None
    rollback_row: Optional[history.Applied] = None
    if rollback_to is not None:
        with _version_dir(url, config_dir, rollback_to) as (_folder, rollback_row):
            pass
        assert rollback_row is not None
        restore = _write_config(config_dir, rollback_row.files, backup_dir)
        _echo(f"已把第 {rollback_to} 版的配置写回 {config_dir}（原文件备份在 {restore}）/ "
              f"version {rollback_to} written back to {config_dir} (previous files in {restore})")
    try:
        return _apply(config_dir, url, yes=yes, allow_destructive=allow_destructive, no_backup=no_backup,
                      backup_dir=backup_dir, by=by, note=note, lang=lang, rollback_of=rollback_to)
    except BaseException:
        if restore is not None:  # nothing was applied: the config directory goes back as it was
            _write_config(config_dir, history.read_files(str(restore)), None, keep=False)
            for name in history.FILES:
                if not (restore / name).exists() and (Path(config_dir) / name).exists():
                    (Path(config_dir) / name).unlink()
            _echo(f"未应用，{config_dir} 已恢复原样 / not applied, {config_dir} restored")
        raise


def _write_config(config_dir: str, files: dict[str, str], backup_dir: Optional[str], keep: bool = True) -> Path:
    import datetime as _dt

    from generator.baseline import ROOT

    saved = Path(backup_dir or ROOT / "var" / "backups") / f"config-{_dt.datetime.now():%Y%m%d-%H%M%S-%f}"
    if keep:
        saved.mkdir(parents=True, exist_ok=True)
        for name in history.FILES:
            src = Path(config_dir) / name
            if src.exists():
                shutil.copyfile(src, saved / name)
        for name in history.FILES:
            if name not in files and (Path(config_dir) / name).exists():
                (Path(config_dir) / name).unlink()
    history.write_dir(files, Path(config_dir))
    return saved


def _apply(config_dir: str, url: str, *, yes: bool, allow_destructive: bool, no_backup: bool,
           backup_dir: Optional[str], by: Optional[str], note: str, lang: str, rollback_of: Optional[int]) -> int:
    from .apply import backup, execute, record, sync_roles_and_reference

    t, warnings = compile_target(config_dir, url, lang, allow_destructive)
    if not no_backup:
        b = backup(url, Path(backup_dir) if backup_dir else None)
        _echo(b.note)
    who = by or history.who()
    with _connection(url) as conn:
        trans = conn.begin()
        try:
            with schema_sync.transaction(conn, lock=True):
                p = rehearse(conn, t)
                for ln in render(p, t, url, lang):
                    _echo(ln)
                if p.refused:
                    first = p.refused[0]
                    raise Refused(first.code or "E712", f"计划中有 {len(p.refused)} 项被拒绝，未做任何修改（见上）",
                                  f"{len(p.refused)} refused items, nothing changed (see above)")
                _confirm(p, yes, lang)
                execute(conn, t, p)
                version = record(conn, t, p, by=who, warnings=warnings, note=note, rollback_of=rollback_of)
        except Refused:
            trans.rollback()
            raise
        except Exception as exc:  # noqa: BLE001 - a database error: nothing is left half-done
            trans.rollback()
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise Refused("E717", f"应用失败，已全部回滚，未做任何修改：{reason}",
                          "apply failed and was rolled back, nothing changed")
        trans.commit()
    _echo(f"已应用第 {version} 版配置（{who}）/ config version {version} applied by {who}")
    try:
        for ln in sync_roles_and_reference(url, t):
            _echo(ln)
    except Refused:
        raise
    except Exception as exc:  # noqa: BLE001
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise Refused("E717", f"数据库结构已应用（第 {version} 版），但同步角色和参考数据失败：{reason}；"
                              "修正后运行 flask --app app setup --no-demo",
                      "schema applied, but syncing roles and reference data failed; run flask setup --no-demo")
    return 0


def history_lines(config_dir: str, db: Optional[str]) -> list[str]:
    url = _url(db, config_dir)
    with _connection(url) as conn:
        rows = history.listing(conn, _history_table())
    return [f"第 {r.id} 版  {r.applied_at:%Y-%m-%d %H:%M} UTC  {r.applied_by}  {r.config_hash[:12]}"
            + (f"  回退到第 {r.rollback_of} 版" if r.rollback_of else "") for r in rows] or ["尚无已应用的配置版本"]


def main(cmd: str, args: Any) -> int:
    """Entry from generator/__main__.py; a Refused is printed as its lines and exits 1."""
    try:
        if cmd == "plan":
            return run_plan(args.config_dir, args.db, args.format, args.lang, args.allow_destructive,
                            args.rollback_to)
        if cmd == "history":
            for ln in history_lines(args.config_dir, args.db):
                _echo(ln)
            return 0
        return run_apply(args.config_dir, args.db, yes=args.yes, allow_destructive=args.allow_destructive,
                         no_backup=args.no_backup, backup_dir=args.backup_dir, by=args.by, note=args.note or "",
                         lang=args.lang, rollback_to=args.rollback_to)
    except Refused as exc:
        _echo(exc.format_message())
        return exc.exit_code
    except KeyboardInterrupt:
        _echo(line("E714", "已取消，未做任何修改", "cancelled, nothing changed"))
        return 1
