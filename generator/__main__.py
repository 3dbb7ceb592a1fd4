"""Command line: ``python -m generator check|explain|schema``.

    python -m generator check [CONFIG_DIR] [--lang en] [--format json]
    python -m generator explain [CONFIG_DIR] [--role X | --workflow X | --entities]
    python -m generator schema [--out DIR]
    python -m generator plan [CONFIG_DIR] [--db URL] [--format json] [--allow-destructive] [--rollback-to N]
    python -m generator apply [CONFIG_DIR] [--db URL] [--yes] [--allow-destructive] [--no-backup] [--rollback-to N]
    python -m generator history [CONFIG_DIR] [--db URL]

``check`` exits 0 when the config is clean (warnings allowed) and 1 on errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import explain as ex
from .errors import summary
from .pipeline import load, with_baseline
from .schemas import FILES, schema_for

SCHEMA_DIR = os.path.join(os.path.dirname(__file__), "schemas")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m generator", description="解纷配置编译器 / Jiefen config compiler")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="检查配置 / check the config")
    c.add_argument("config_dir", nargs="?", default="config")
    c.add_argument("--lang", choices=["zh", "en"], default="zh")
    c.add_argument("--format", choices=["text", "json"], default="text")
    c.add_argument("--against", metavar="DIR",
                   help="与另一份配置（例如已上线的版本）比较检查清单版本 / compare checklist versions with another config")
    c.add_argument("--db", default="auto", metavar="URL",
                   help="与该数据库中已使用的检查清单版本比较（auto：DATABASE_URL 或本配置的 SQLite 文件）"
                        " / compare with the checklist versions stored in this database")
    c.add_argument("--no-db", dest="db", action="store_const", const=None,
                   help="不读取数据库 / do not read any database")
    e = sub.add_parser("explain", help="说明实体、角色和流程 / explain entities, roles, workflows")
    e.add_argument("config_dir", nargs="?", default="config")
    e.add_argument("--lang", choices=["zh", "en"], default="zh")
    g = e.add_mutually_exclusive_group()
    g.add_argument("--role")
    g.add_argument("--workflow")
    g.add_argument("--entities", action="store_true")
    for name, text in (("plan", "与数据库比较，列出应用配置会做的变更 / what applying the config would change"),
                       ("apply", "备份后在一个事务中应用配置并记录版本 / back up, apply in one transaction, record"),
                       ("history", "列出已应用的配置版本 / list the applied config versions")):
        a = sub.add_parser(name, help=text)
        a.add_argument("config_dir", nargs="?", default=os.environ.get("CONFIG_DIR") or "config")
        a.add_argument("--db", metavar="URL", help="数据库（默认 DATABASE_URL，否则本配置的 SQLite 文件）/ the database")
        a.add_argument("--lang", choices=["zh", "en"], default="zh")
        if name == "history":
            continue
        a.add_argument("--allow-destructive", action="store_true",
                       help="允许删除有数据的字段和实体（先备份）/ allow dropping fields and entities that hold data")
        a.add_argument("--rollback-to", type=int, metavar="N",
                       help="回退到已应用的第 N 版 / roll back to applied version N")
        if name == "plan":
            a.add_argument("--format", choices=["text", "json"], default="text")
        else:
            a.add_argument("--yes", action="store_true", help="不再询问，执行“需确认”的项 / carry out items to confirm")
            a.add_argument("--no-backup", action="store_true", help="不备份 / take no backup")
            a.add_argument("--backup-dir", metavar="DIR", help="备份目录（默认 var/backups）/ where backups go")
            a.add_argument("--by", metavar="NAME", help="记录的操作人（默认当前系统用户）/ who applies it")
            a.add_argument("--note", metavar="TEXT", help="说明，记入版本历史 / a note kept with the version")
    s = sub.add_parser("schema", help="写出 JSON Schema 文件 / write the JSON Schemas")
    s.add_argument("--out", default=SCHEMA_DIR)
    return p


def _write(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _baseline(args: argparse.Namespace) -> tuple[object, str]:
    """What the config is compared with, and a note to print when the database could not be read."""
    from . import baseline as bl

    if args.against:
        return bl.from_dir(args.against), ""
    url = bl.resolve_db(args.db, args.config_dir)
    if url is None:
        return None, ""
    try:
        return bl.from_database(url), ""
    except Exception as exc:  # noqa: BLE001 - no database is not a config error: say so, go on
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        return None, (f"（未能读取数据库，未核对已使用的检查清单版本：{reason}）" if args.lang == "zh" else
                      f"(could not read the database, checklist versions in use not compared: {reason})")


def cmd_check(args: argparse.Namespace) -> int:
    result = load(args.config_dir)
    baseline, note = _baseline(args) if result.spec is not None else (None, "")
    result = with_baseline(result, baseline)
    if args.format == "json":
        _write(json.dumps({"ok": result.ok, "files": list(result.files),
                           "errors": [e.as_json(args.lang) for e in result.errors],
                           "summary": summary(list(result.errors), len(result.files), args.lang)},
                          ensure_ascii=False, indent=2))
    else:
        for e in result.errors:
            _write(e.render(args.lang))
        if not result.ok and result.spec is None and not any(
                e.code[1] in "3456" for e in result.errors) and result.errors:
            _write("（语义检查将在以上结构错误修正后进行）" if args.lang == "zh"
                   else "(semantic checks run once the errors above are fixed)")
        if note:
            _write(note)
        _write(summary(list(result.errors), len(result.files), args.lang))
    return 0 if result.ok else 1


def cmd_explain(args: argparse.Namespace) -> int:
    result = load(args.config_dir)
    if not result.ok or result.spec is None:
        for e in result.errors:
            _write(e.render(args.lang))
        _write(summary(list(result.errors), len(result.files), args.lang))
        return 1
    spec = result.spec
    if args.role:
        if args.role not in spec.roles:
            _write(f"未知角色 '{args.role}'；可选：{', '.join(spec.roles)}")
            return 1
        _write(ex.explain_role(spec, spec.roles[args.role], args.lang))
    elif args.workflow:
        if args.workflow not in spec.workflows:
            _write(f"未知流程 '{args.workflow}'；可选：{', '.join(spec.workflows)}")
            return 1
        _write(ex.explain_workflow(spec, spec.workflows[args.workflow], args.lang))
    elif args.entities:
        _write(ex.explain_entities(spec, args.lang))
    else:
        _write(ex.explain_all(spec, args.lang))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    os.makedirs(args.out, exist_ok=True)
    for kind in FILES:
        path = os.path.join(args.out, f"{kind}.schema.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(schema_for(kind), fh, ensure_ascii=False, indent=2)
            fh.write("\n")
        _write(path)
    return 0


def cmd_lifecycle(args: argparse.Namespace) -> int:
    """plan / apply / history compare with and change the live database: they need the app's models."""
    from app.lifecycle.cli import main as lifecycle

    return lifecycle(args.cmd, args)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return {"check": cmd_check, "explain": cmd_explain, "schema": cmd_schema, "plan": cmd_lifecycle,
            "apply": cmd_lifecycle, "history": cmd_lifecycle}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
