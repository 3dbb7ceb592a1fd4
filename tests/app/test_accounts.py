"""Issue #11, accounts: every way to create or change a login account stores a password that
FAB's hasher made, so the account can log in (form and JWT), whoever creates it.

The class of paths, each tested by logging in afterwards:

* HTML: 系统管理 → 用户 → 新增 (``/users/add``) by the admin and by a station head, the user edit
  form (no password field: the password must survive it), 重置密码 (``/resetpassword/form``) and
  the user's own 修改密码 (``/resetmypassword/form``);
* REST: FAB's user API (``/api/v1/security/users/``) is switched off (``FAB_ADD_SECURITY_API``
  unset): accounts are placed in an organisation and limited by ``can_assign`` only through the
  form, so the API stays a 404;
* CLI: ``flask fab create-user``, ``flask fab create-admin``, ``flask fab reset-password`` and the
  demo accounts of ``flask setup``;
* anything else that writes ``ab_user.password``: the ORM refuses a value that is not a hash.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from tests.support.database import private_database

from .conftest import PASSWORD, api_auth, dispose, login, make_app, run_setup
from .test_user_admin import org_id, role_id

NEW_PASSWORD = "Konto#Neu2027"


def fresh_name(prefix: str = "acct") -> str:
    return prefix + uuid.uuid4().hex[:10]


def add_form(username: str, org: int, roles: list[int], password: str = NEW_PASSWORD) -> dict[str, Any]:
    return {"first_name": "新", "last_name": "账号", "username": username, "email": f"{username}@example.invalid",
            "active": "y", "org": str(org), "roles": [str(r) for r in roles],
            "password": password, "conf_password": password}


def stored_password(app: Flask, username: str) -> str:
    with app.app_context():
        sm = app.appbuilder.sm
        sm.session.expire_all()
        return str(sm.find_user(username=username).password)


def logs_in(app: Flask, username: str, password: str) -> None:
    """The account works on both doors: the login form and the JWT login."""
    login(app.test_client(), username, password)
    api_auth(app.test_client(), username, password)


@pytest.fixture()
def admin(demo_app: Flask) -> FlaskClient:
    client = demo_app.test_client()
    login(client)
    return client


# ---------------------------------------------------------------- HTML forms
@pytest.mark.parametrize("creator, org_code, role", [("admin", "YX-DEMO-T02", "township_head"),
                                                     ("station_head_t1s1", "YX-DEMO-E001", "mediator")])
def test_an_account_created_through_the_form_logs_in(demo_app: Flask, creator: str, org_code: str,
                                                     role: str) -> None:
    client = demo_app.test_client()
    login(client, creator)
    name = fresh_name()
    resp = client.post("/users/add", data=add_form(name, org_id(demo_app, org_code), [role_id(demo_app, role)]))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert NEW_PASSWORD not in stored_password(demo_app, name)
    logs_in(demo_app, name, NEW_PASSWORD)


def test_the_edit_form_keeps_the_password_and_reset_sets_a_working_one(demo_app: Flask, admin: FlaskClient) -> None:
    name = fresh_name()
    t2 = org_id(demo_app, "YX-DEMO-T02")
    assert admin.post("/users/add", data=add_form(name, t2, [role_id(demo_app, "township_head")])).status_code == 302
    with demo_app.app_context():
        uid = demo_app.appbuilder.sm.find_user(username=name).id
    data = add_form(name, t2, [role_id(demo_app, "township_head")])
    for key in ("password", "conf_password"):
        data.pop(key)
    data["first_name"] = "改"
    assert admin.post(f"/users/edit/{uid}", data=data).status_code == 302
    logs_in(demo_app, name, NEW_PASSWORD)
    other = "Reset#Pass2028"
    resp = admin.post(f"/resetpassword/form?pk={uid}", data={"password": other, "conf_password": other})
    assert resp.status_code == 302
    logs_in(demo_app, name, other)
    own = demo_app.test_client()
    login(own, name, other)
    mine = "Mine#Pass2029"
    assert own.post("/resetmypassword/form", data={"password": mine, "conf_password": mine}).status_code == 302
    logs_in(demo_app, name, mine)


def test_the_role_picker_never_offers_the_public_role(demo_app: Flask, admin: FlaskClient) -> None:
    import re

    with demo_app.app_context():
        sm = demo_app.appbuilder.sm
        public_id = sm.find_role(sm.auth_role_public).id
    html = admin.get("/users/add").get_data(as_text=True)
    picker = re.search(r'<select[^>]*id="roles".*?</select>', html, re.S)
    assert picker, "no role picker"
    values = re.findall(r'<option[^>]*value="(\d+)"', picker.group(0))
    assert values and str(public_id) not in values
    assert str(role_id(demo_app, "jm_office")) in values  # the admin still grants every real role
    name = fresh_name()
    admin.post("/users/add", data=add_form(name, org_id(demo_app, "YX-DEMO-T02"), [public_id]))
    with demo_app.app_context():
        assert demo_app.appbuilder.sm.find_user(username=name) is None


# ---------------------------------------------------------------- REST
def test_fab_user_api_is_off(demo_app: Flask) -> None:
    """Accounts are made through the form (organisation, can_assign); FAB's user API would skip both."""
    assert not demo_app.config.get("FAB_ADD_SECURITY_API")
    headers = api_auth(demo_app.test_client())
    client = demo_app.test_client()
    assert client.get("/api/v1/security/users/", headers=headers).status_code == 404
    resp = client.post("/api/v1/security/users/", headers=headers,
                       json={"username": fresh_name(), "password": NEW_PASSWORD, "first_name": "a",
                             "last_name": "b", "email": "x@example.invalid", "roles": [1], "active": True})
    assert resp.status_code in (404, 405)


# ---------------------------------------------------------------- CLI
def fab_cli(app: Flask, *args: str) -> str:
    from flask_appbuilder.cli import fab

    result = app.test_cli_runner().invoke(fab, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_accounts_made_on_the_command_line_log_in(demo_app: Flask) -> None:
    name, boss = fresh_name("cli"), fresh_name("cliadm")
    fab_cli(demo_app, "create-user", "--role", "mediator", "--username", name, "--firstname", "C",
            "--lastname", "L", "--email", f"{name}@example.invalid", "--password", NEW_PASSWORD)
    fab_cli(demo_app, "create-admin", "--username", boss, "--firstname", "C", "--lastname", "L",
            "--email", f"{boss}@example.invalid", "--password", NEW_PASSWORD)
    for who in (name, boss):
        assert NEW_PASSWORD not in stored_password(demo_app, who)
        logs_in(demo_app, who, NEW_PASSWORD)
    other = "Cli#Reset2028"
    fab_cli(demo_app, "reset-password", "--username", name, "--password", other)
    logs_in(demo_app, name, other)


# ---------------------------------------------------------------- any other path
def test_the_orm_refuses_a_password_that_is_not_hashed(demo_app: Flask) -> None:
    from app.accounts.passwords import PlaintextPassword

    with demo_app.app_context():
        sm = demo_app.appbuilder.sm
        user = sm.user_model(username=fresh_name(), first_name="p", last_name="t", email=f"{fresh_name()}@x.invalid",
                             password="Plain#Text2026", active=True)
        sm.session.add(user)
        with pytest.raises(PlaintextPassword):
            sm.session.flush()
        sm.session.rollback()
        admin_user = sm.find_user(username="admin")
        admin_user.password = "Plain#Text2026"
        with pytest.raises(PlaintextPassword):
            sm.session.flush()
        sm.session.rollback()
    login(demo_app.test_client())  # the admin's real password is untouched


def test_setup_hashes_passwords_stored_in_clear_by_the_old_form(demo_app: Flask) -> None:
    """Accounts that the old 新增 form stored with a clear password: setup repairs them in place."""
    name = fresh_name()
    with demo_app.app_context():
        sm = demo_app.appbuilder.sm
        sm.add_user(name, "r", "p", f"{name}@example.invalid", sm.find_role("mediator"), password=PASSWORD)
        table = sm.user_model.__table__
        with sm.session.get_bind().begin() as conn:  # what the old pre_add left behind
            conn.execute(table.update().where(table.c.username == name).values(password=NEW_PASSWORD))
    out = run_setup(demo_app)
    assert [line for line in out.splitlines() if "明文" in line][0].endswith(f": 1 ({name})")
    assert stored_password(demo_app, name) != NEW_PASSWORD
    logs_in(demo_app, name, NEW_PASSWORD)
    assert not [line for line in run_setup(demo_app).splitlines() if "明文" in line]


# ---------------------------------------------------------------- demo logins and production
def _usernames(app: Flask) -> set[str]:
    with app.app_context():
        sm = app.appbuilder.sm
        return set(sm.session.execute(select(sm.user_model.username)).scalars())


def test_setup_makes_demo_logins_only_with_demo_data_and_never_in_production(tmp_path: Path) -> None:
    with private_database(tmp_path) as uri:
        app = make_app(uri)
        apps = [app]
        try:
            run_setup(app, "--no-demo")
            fab_cli(app, "create-admin", "--username", "realadmin", "--firstname", "R", "--lastname", "A",
                    "--email", "realadmin@example.invalid", "--password", PASSWORD)
            run_setup(app)  # a real database (accounts, no demo): a plain setup adds no demo
            assert _usernames(app) == {"realadmin"}
            apps.append(make_app(uri, APP_ENV="production", SECRET_KEY="p" * 48))
            result = apps[-1].test_cli_runner().invoke(args=["setup", "--demo"])
            assert result.exit_code != 0 and "production" in result.output
            assert _usernames(app) == {"realadmin"}
        finally:
            dispose(*apps)


def test_setup_adds_demo_logins_for_a_new_role_when_the_demo_is_loaded(tmp_path: Path) -> None:
    with private_database(tmp_path) as uri:
        app = make_app(uri)
        try:
            run_setup(app)
            with app.app_context():
                sm = app.appbuilder.sm
                gone = sm.find_user(username="analyst")
                sm.session.execute(text("DELETE FROM jf_user_org WHERE user_id = :u"), {"u": gone.id})
                sm.session.delete(gone)
                sm.session.commit()
            assert "analyst" not in _usernames(app)
            run_setup(app)  # demo loaded: a role without its demo login (new in roles.yaml) gets one
            assert "analyst" in _usernames(app)
            login(app.test_client(), "analyst")
        finally:
            dispose(app)
