"""``flask --app app <command>``: setup (schema, permissions, roles, reference and demo data),
sync-roles (roles and grants made equal to roles.yaml), demo-accounts, purge-audit (retention,
app/audit/retention.py) and purge-files (staged uploads never used, files of deleted records).  The permission sync is O(n²) in FAB, so it runs here, once per deploy, never in
web workers (fab5-notes §7)."""

from __future__ import annotations

from typing import Any
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from generator.builders.permissions import desired_permissions

from app import settings
from app.audit import log as audit


def register_cli(app: Flask) -> None:
    app.cli.add_command(setup_command)
    app.cli.add_command(sync_roles_command)
    app.cli.add_command(demo_accounts_command)
    app.cli.add_command(check_deploy_command)
    app.cli.add_command(recompute_deadlines_command)
    from app.audit.retention import purge_audit_command

    app.cli.add_command(purge_audit_command)
    app.cli.add_command(purge_files_command)


def compile_bytecode() -> None:
    """Write the bytecode of the app's own packages (app/, generator/), as pip does for libraries.

    Python caches bytecode when it imports a module, unless PYTHONDONTWRITEBYTECODE is set
    (as in some containers and CI shells): then every process compiled ~50 of our modules from
    source again, about 0.15 s of each start.  Compiled once per deploy here, they are only
    read; an edited source file is still recompiled (in memory) because its timestamp differs.
    """
    import compileall

    root = Path(__file__).resolve().parents[1]
    for package in ("app", "generator"):
        compileall.compile_dir(str(root / package), quiet=2)


def sync_roles(appbuilder) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Make the roles and grants in the database equal to roles.yaml, exactly.

    * every role of roles.yaml exists and holds exactly the permissions it declares
      (``desired_permissions``): missing grants are added, undeclared ones removed;
    * FAB's Public role (``AUTH_ROLE_PUBLIC``, anonymous visitors) holds nothing;
    * a role in the database that roles.yaml does not declare keeps its name (accounts may
      still point at it) but loses every grant;
    * FAB's admin role (``AUTH_ROLE_ADMIN``: the role marked ``admin: true``) is left alone:
      FAB gives it every permission itself.

    One ``config_sync`` audit row, committed with the changes, records the summary.
    Returns ``{"added": {role: n}, "removed": ["role: permission on view", ...]}``.
    """
    sm = appbuilder.sm
    reg = current_app.extensions["jiefen"]
    admin_role = current_app.config.get("AUTH_ROLE_ADMIN")
    public_role = current_app.config.get("AUTH_ROLE_PUBLIC", "Public")
    desired = desired_permissions(reg.spec)
    added: dict[str, int] = {}
    removed: list[str] = []
    for role_name, perms in sorted(desired.items()):
        role = sm.find_role(role_name) or sm.add_role(role_name)
        if role_name == admin_role:
            continue
        have = {(p.permission.name, p.view_menu.name): p for p in role.permissions}
        count = 0
        for perm, view in sorted(perms - set(have)):
            pv = sm.find_permission_view_menu(perm, view) or sm.add_permission_view_menu(perm, view)
            if pv is not None:
                role.permissions.append(pv)
                count += 1
        added[role_name] = count
        removed += _strip(role, set(have) - perms, have)
    for role in sm.get_all_roles():
        if role.name in desired or role.name == admin_role:
            continue  # the admin role: FAB's own; roles.yaml roles: done above
        have = {(p.permission.name, p.view_menu.name): p for p in role.permissions}
        removed += _strip(role, set(have), have)  # Public and undeclared roles hold nothing
    summary = (f"roles.yaml → DB: {sum(added.values())} grants added, {len(removed)} removed"
               f"{'; public role ' + public_role + ' emptied' if any(r.startswith(public_role + ':') for r in removed) else ''}")
    audit.record_in(sm.session.connection(), "config_sync", entity="roles", detail=summary,
                    changes={"added": {k: v for k, v in added.items() if v}, "removed": removed} if
                    (removed or any(added.values())) else None,
                    table=reg.audit_log.__table__)
    sm.session.commit()
    return {"added": added, "removed": removed}


def _strip(role: Any, extra: set[tuple[str, str]], have: dict[tuple[str, str], Any]) -> list[str]:
    out = []
    for perm, view in sorted(extra):
        role.permissions.remove(have[(perm, view)])
        out.append(f"{role.name}: {perm} on {view}")
    return out


def _report(result: dict[str, Any]) -> None:
    click.echo(f"权限与角色已同步 / roles synced: {sum(result['added'].values())} grants added, "
               f"{len(result['removed'])} removed")
    for line in result["removed"]:
        click.echo(f"  已移除 / removed: {line}")


@click.command("sync-roles")
@with_appcontext
def sync_roles_command() -> None:
    """使数据库中的角色权限与 roles.yaml 完全一致 / make the roles in the DB equal roles.yaml exactly."""
    appbuilder = current_app.appbuilder
    appbuilder.add_permissions(update_perms=True)
    _report(sync_roles(appbuilder))


def demo_wanted(flag: Any, production: bool, has_demo: bool, has_users: bool) -> bool:
    """Whether ``setup`` loads the demo data and demo logins.

    Never with APP_ENV=production (``--demo`` is refused there).  ``--demo``/``--no-demo`` decide
    elsewhere; without either, the demo is on for a fresh database (no account yet) and for one
    that already holds the demo (so a role new in roles.yaml gets its demo logins), and off for a
    real database (accounts, no demo).
    """
    if production:
        if flag:
            raise click.ClickException("APP_ENV=production：setup 从不加载演示数据和演示账号 / "
                                       "setup never loads demo data or demo accounts in production")
        return False
    if flag is not None:
        return bool(flag)
    return has_demo or not has_users


@click.command("setup")
@with_appcontext
@click.option("--demo/--no-demo", default=None,
              help="load the demo data and demo accounts (default: on for a new database or one that holds the "
                   "demo, off otherwise; never with APP_ENV=production)")
def setup_command(demo: Any) -> None:
    """建库/升级、同步权限与角色、加载参考数据和演示数据 / create or upgrade the DB, sync permissions,
    roles, reference and demo data."""
    from sqlalchemy import func, select

    from app.accounts.passwords import rehash_plaintext
    from app.demo.loader import create_accounts, demo_accounts, load_demo, load_reference

    appbuilder = current_app.appbuilder
    reg = current_app.extensions["jiefen"]
    session = appbuilder.sm.session
    production = current_app.config.get("APP_ENV") == "production"
    if production and demo:
        demo_wanted(demo, production, False, False)  # refuses before anything is written
    compile_bytecode()
    if production and _has_tables(session.get_bind()):
        # Production changes an existing schema only through plan/apply (backup, history): E720.
        reg.require_schema(session.get_bind())
        plan = None
    else:
        plan = reg.sync_schema(session.get_bind(), force=True)  # the full comparison, every deploy
    if plan is not None and not plan.empty:
        click.echo(f"数据库结构已更新 / schema changes applied: {len(plan.additive)}")
    appbuilder.add_permissions(update_perms=True)
    _report(sync_roles(appbuilder))
    repaired = rehash_plaintext(session, appbuilder.sm.user_model)
    session.commit()
    if repaired:
        click.echo(f"已加密存储明文密码的账号 / clear-text passwords hashed: {len(repaired)} "
                   f"({', '.join(sorted(repaired))})")
    ref = load_reference(session, reg.spec, reg.models)
    session.commit()
    click.echo(f"参考数据 / reference data: {ref}")
    has_users = session.execute(select(func.count()).select_from(appbuilder.sm.user_model)).scalar_one() > 0
    if demo_wanted(demo, production, reg.has_demo_accounts(session), has_users):
        try:
            summary = load_demo(session, reg.spec, reg.models)
        except Exception as exc:  # noqa: BLE001 - the demo county is written for the shipped entities
            session.rollback()
            from app.lifecycle.codes import Refused

            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise Refused("E722", f"演示数据不适用于本配置，未加载（{type(exc).__name__}: {reason}）；"
                                  "数据库结构、角色和参考数据已就绪，可用 setup --no-demo 跳过演示数据",
                          "the demo data does not fit this config and was not loaded; use setup --no-demo") from None
        session.commit()
        click.echo(f"演示数据 / demo data: {summary}")
        accounts = demo_accounts(reg.spec, session, reg.models)
        existing = {u.username for u in session.execute(select(appbuilder.sm.user_model)).scalars()}
        create_accounts(appbuilder.sm, session, accounts, settings.demo_password(), reg.user_org)
        session.commit()
        click.echo(f"演示账号 / demo accounts: {len(accounts)}（flask --app app demo-accounts 查看）")
        added = [a for a in accounts if a.username not in existing]
        if existing and added:  # a role new in roles.yaml got demo logins: say so, never quietly
            from app.lifecycle.codes import line

            click.echo(line("W735", "已为新角色创建演示账号（密码为公开的演示密码），正式使用的数据库请删除它们："
                                    + "、".join(f"{a.username}（{a.role}）" for a in added),
                            "demo logins with the public password were created for new roles"))


def _has_tables(engine: Any) -> bool:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return any(n.startswith("jf_") for n in sa.inspect(conn).get_table_names())


@click.command("demo-accounts")
@with_appcontext
def demo_accounts_command() -> None:
    """打印演示账号：用户名、角色、组织编码、组织名称 / print the demo accounts as TSV."""
    from app.demo.loader import demo_accounts

    reg = current_app.extensions["jiefen"]
    session = current_app.appbuilder.sm.session
    for acc in demo_accounts(reg.spec, session, reg.models):
        click.echo("\t".join([acc.username, acc.role, acc.org_code, acc.org_name]))


@click.command("check-deploy")
@with_appcontext
def check_deploy_command() -> None:
    """检查生产环境配置，有不安全项时以非零状态退出 / list every setting unsafe for production; exit 1
    if there is any (warnings alone exit 0)."""
    from .hardening.deploy_check import findings

    found = findings(current_app)
    for f in found:
        click.echo(f"{f.id}: {f.message}")
    errors = [f for f in found if f.is_error]
    if errors:
        click.echo(f"不安全项 {len(errors)} 个，不可用于生产 / {len(errors)} unsafe setting(s): not fit for production")
        raise SystemExit(1)
    click.echo("可用于生产 / fit for production" + (f"（警告 {len(found)} 个 / {len(found)} warning(s)）"
                                                    if found else ""))


@click.command("recompute-deadlines")
@with_appcontext
@click.option("--all", "all_cases", is_flag=True, help="every case with a history, not only open deadlines")
def recompute_deadlines_command(all_cases: bool) -> None:
    """按当前工作日历重算未结案件的期限 / recompute the stored due dates of open deadlines (after a
    calendar change in workflows.yaml or a chinesecalendar upgrade)."""
    from .workflow.deadlines import recompute_open

    session = current_app.appbuilder.sm.session
    n = recompute_open(session, all_cases=all_cases)
    click.echo(f"已重算 {n} 件案件的期限 / deadlines recomputed for {n} case(s)")


@click.command("purge-files")
@with_appcontext
def purge_files_command() -> None:
    """删除一天内未保存到记录的暂存文件，以及所属记录已不存在的文件 / drop staged uploads no record named
    within a day, and files whose record is gone (app/files/service.py)."""
    from app.files import service as files

    staged, orphaned = files.purge(current_app.appbuilder.sm.session)
    click.echo(f"已删除暂存文件 {staged} 个、无主文件 {orphaned} 个 / removed {staged} staged and {orphaned} orphaned files")
