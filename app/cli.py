"""``flask --app app <command>``: setup (schema, permissions, roles, reference and demo data) and
demo-accounts.  The permission sync is O(n²) in FAB, so it runs here, once per deploy, never in
web workers (fab5-notes §7)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from generator.builders.permissions import desired_permissions

from . import settings


def register_cli(app: Flask) -> None:
    app.cli.add_command(setup_command)
    app.cli.add_command(demo_accounts_command)


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


def sync_roles(appbuilder) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Create the roles of roles.yaml and grant what they declare (additions only for now)."""
    sm = appbuilder.sm
    reg = current_app.extensions["jiefen"]
    added = {}
    for role_name, perms in sorted(desired_permissions(reg.spec).items()):
        role = sm.find_role(role_name) or sm.add_role(role_name)
        have = {(p.permission.name, p.view_menu.name) for p in role.permissions}
        count = 0
        for perm, view in sorted(perms - have):
            pv = sm.find_permission_view_menu(perm, view) or sm.add_permission_view_menu(perm, view)
            if pv is not None:
                role.permissions.append(pv)
                count += 1
        added[role_name] = count
    sm.session.commit()
    return added


@click.command("setup")
@with_appcontext
@click.option("--demo/--no-demo", default=True, help="load the demo data and demo accounts")
def setup_command(demo: bool) -> None:
    """建库/升级、同步权限与角色、加载参考数据和演示数据 / create or upgrade the DB, sync permissions,
    roles, reference and demo data."""
    from .demo import create_accounts, demo_accounts, load_demo, load_reference

    appbuilder = current_app.appbuilder
    reg = current_app.extensions["jiefen"]
    session = appbuilder.sm.session
    compile_bytecode()
    plan = reg.sync_schema(session.get_bind(), force=True)  # the full comparison, every deploy
    if plan is not None and not plan.empty:
        click.echo(f"数据库结构已更新 / schema changes applied: {len(plan.additive)}")
    appbuilder.add_permissions(update_perms=True)
    added = sync_roles(appbuilder)
    click.echo(f"权限与角色已同步 / roles synced: {sum(added.values())} grants added")
    ref = load_reference(session, reg.spec, reg.models)
    session.commit()
    click.echo(f"参考数据 / reference data: {ref}")
    if demo:
        summary = load_demo(session, reg.spec, reg.models)
        session.commit()
        click.echo(f"演示数据 / demo data: {summary}")
        accounts = demo_accounts(reg.spec, session, reg.models)
        create_accounts(appbuilder.sm, session, accounts, settings.demo_password(), reg.user_org)
        session.commit()
        click.echo(f"演示账号 / demo accounts: {len(accounts)}（flask --app app demo-accounts 查看）")


@click.command("demo-accounts")
@with_appcontext
def demo_accounts_command() -> None:
    """打印演示账号：用户名、角色、组织编码、组织名称 / print the demo accounts as TSV."""
    from .demo import demo_accounts

    reg = current_app.extensions["jiefen"]
    session = current_app.appbuilder.sm.session
    for acc in demo_accounts(reg.spec, session, reg.models):
        click.echo("\t".join([acc.username, acc.role, acc.org_code, acc.org_name]))
