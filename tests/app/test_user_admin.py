"""Accounts belong to an organisation; a station head manages their own station's accounts only,
and nobody grants a role they may not assign (roles.yaml ``can_assign``)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.app.conftest import login


def org_id(app: Flask, code: str) -> int:
    org = app.extensions["jiefen"].models["org"]
    with app.app_context():
        return app.appbuilder.sm.session.execute(select(org.id).where(org.org_code == code)).scalar_one()


def role_id(app: Flask, name: str) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_role(name).id


def user(app: Flask, username: str) -> Any:
    with app.app_context():
        sm = app.appbuilder.sm
        sm.session.expire_all()
        u = sm.find_user(username)
        if u is None:
            return None
        link = sm.session.get(app.extensions["jiefen"].user_org, u.id)
        return (u.id, sorted(r.name for r in u.roles), link.org_id if link else None)


def add_form(app: Flask, username: str, org: int, roles: list[int]) -> dict[str, Any]:
    return {"first_name": "测", "last_name": "试", "username": username, "email": f"{username}@example.invalid",
            "active": "y", "org": str(org), "roles": [str(r) for r in roles],
            "password": "Station@2026", "conf_password": "Station@2026"}


@pytest.fixture()
def head(demo_app: Flask) -> Any:
    c = demo_app.test_client()
    login(c, "station_head_t1s1")
    return c


def test_station_head_lists_only_their_stations_accounts(demo_app: Flask, head: Any) -> None:
    html = head.get("/users/list/?psize_UserDBModelView=100").get_data(as_text=True)
    assert "registrar_t1s1" in html and "mediator_t1s1" in html
    assert "registrar_t1s2" not in html and "admin" not in re.findall(r">(\w+)<", html)


def test_station_head_adds_a_mediator_at_their_station(demo_app: Flask, head: Any) -> None:
    e1 = org_id(demo_app, "YX-DEMO-E001")
    resp = head.post("/users/add", data=add_form(demo_app, "new_med_e1", e1, [role_id(demo_app, "mediator")]))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert user(demo_app, "new_med_e1")[1:] == (["mediator"], e1)


def test_station_head_cannot_grant_a_role_above_their_own(demo_app: Flask, head: Any) -> None:
    e1 = org_id(demo_app, "YX-DEMO-E001")
    for role in ("jm_office", "township_head", "station_head"):
        head.post("/users/add", data=add_form(demo_app, f"bad_{role}", e1, [role_id(demo_app, role)]))
        assert user(demo_app, f"bad_{role}") is None, role


def test_station_head_cannot_place_an_account_at_another_station(demo_app: Flask, head: Any) -> None:
    e2 = org_id(demo_app, "YX-DEMO-E002")
    head.post("/users/add", data=add_form(demo_app, "bad_elsewhere", e2, [role_id(demo_app, "mediator")]))
    assert user(demo_app, "bad_elsewhere") is None


def test_accounts_elsewhere_are_missing_ids(demo_app: Flask, head: Any) -> None:
    other = user(demo_app, "registrar_t1s2")[0]
    assert head.get(f"/users/show/{other}").status_code == 404
    assert head.get(f"/users/edit/{other}").status_code == 404


def test_editing_keeps_roles_the_editor_may_not_grant(demo_app: Flask, head: Any) -> None:
    """The head edits a colleague holding station_head (which heads may not grant): it stays."""
    e1 = org_id(demo_app, "YX-DEMO-E001")
    colleague = user(demo_app, "station_head_t1s1")
    data = add_form(demo_app, "station_head_t1s1", e1, [role_id(demo_app, "mediator")])
    for k in ("password", "conf_password"):
        data.pop(k)
    data["first_name"] = "改名"
    resp = head.post(f"/users/edit/{colleague[0]}", data=data)
    assert resp.status_code == 302
    assert user(demo_app, "station_head_t1s1")[1] == ["mediator", "station_head"]


def test_admin_assigns_an_organisation(demo_app: Flask) -> None:
    c = demo_app.test_client()
    login(c)
    t2 = org_id(demo_app, "YX-DEMO-T02")
    resp = c.post("/users/add", data=add_form(demo_app, "new_head_t2", t2, [role_id(demo_app, "township_head")]))
    assert resp.status_code == 302
    assert user(demo_app, "new_head_t2")[1:] == (["township_head"], t2)
    form = c.get(f"/users/edit/{user(demo_app, 'new_head_t2')[0]}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{t2}"|<option value="{t2}" selected', form)


def test_role_picker_shows_labels_and_only_assignable_roles(demo_app: Flask, head: Any) -> None:
    html = head.get("/users/add").get_data(as_text=True)
    picker = re.search(r'<select[^>]*id="roles".*?</select>', html, re.S)
    assert picker, "no role picker"
    options = re.findall(r"<option[^>]*>([^<]+)</option>", picker.group(0))
    assert sorted(options) == sorted(["调解员", "受理登记员"]), options
