"""Edges of the access rules (security-tests.md §B.4 items 24, 26, 32, 56)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from generator import load, names
from tests.app.conftest import PASSWORD, ROOT, api_auth, login

SPEC = load(str(ROOT / "config")).spec
assert SPEC is not None


@pytest.fixture(scope="module")
def noroles(demo_app: Flask) -> str:
    """An active account with no role at all."""
    with demo_app.app_context():
        sm = demo_app.appbuilder.sm
        if sm.find_user("norole") is None:
            user = sm.add_user("norole", "无", "角色", "norole@example.invalid", [sm.find_role("registrar")], PASSWORD)
            user.roles = []
            sm.session.commit()
    return "norole"


def test_a_user_without_roles_is_refused_everywhere(demo_app: Flask, noroles: str) -> None:
    html = demo_app.test_client()
    login(html, noroles)
    api = demo_app.test_client()
    auth = api_auth(api, noroles)
    leaks = []
    for ent in sorted(SPEC.entities):
        base = f"/{names.view_class(ent).lower()}"
        for url in (f"{base}/list/", f"{base}/add", f"{base}/export", f"{base}/show/1"):
            status = html.get(url).status_code
            if status not in (302, 403):
                leaks.append(f"{url} {status}")
        res = f"/api/v1/{names.resource_name(ent)}/"
        for method, url in (("get", res), ("get", f"{res}_info"), ("get", f"{res}1"), ("post", res),
                            ("put", f"{res}1"), ("delete", f"{res}1"), ("post", f"{res}1/reveal")):
            kw: dict[str, Any] = {"headers": auth}
            if method in ("post", "put"):
                kw["json"] = {}
            status = getattr(api, method)(url, **kw).status_code
            if status != 403:
                leaks.append(f"{method.upper()} {url} {status}")
    assert not leaks, "\n".join(leaks)


def test_list_action_on_rows_out_of_scope_changes_nothing_and_is_audited(demo_app: Flask) -> None:
    reg = demo_app.extensions["jiefen"]
    claim, case, org = reg.models["claim_item"], reg.models["dispute_case"], reg.models["org"]
    audit = reg.audit_log
    with demo_app.app_context():
        s = demo_app.appbuilder.sm.session
        e2 = s.execute(select(org.id).where(org.org_code == "YX-DEMO-E002")).scalar_one()
        theirs = s.execute(select(claim.id).join(case, case.id == claim.dispute_case_id)
                           .where(case.current_org_id == e2)).scalars().all()
        before = s.execute(select(audit.id).where(audit.event == "denied")).scalars().all()
    assert theirs
    c = demo_app.test_client()
    login(c, "registrar_t1s1")
    url = f"/{names.view_class('claim_item').lower()}"
    c.post(f"{url}/action_post", data={"action": "muldelete", "rowid": [str(i) for i in theirs]})
    c.get(f"{url}/action/muldelete/{theirs[0]}")
    c.post(f"{url}/action/muldelete/{theirs[0]}")
    with demo_app.app_context():
        s = demo_app.appbuilder.sm.session
        left = s.execute(select(claim.id).where(claim.id.in_(theirs))).scalars().all()
        after = s.execute(select(audit).where(audit.event == "denied", audit.username == "registrar_t1s1",
                                              audit.id.notin_(before))).scalars().all()
    assert sorted(left) == sorted(theirs)
    assert after and all(a.entity in ("claim_item", None) for a in after)


def test_password_hashes_never_leave_and_cannot_be_filtered(demo_app: Flask) -> None:
    c = demo_app.test_client()
    login(c)
    with demo_app.app_context():
        pw_hash = demo_app.appbuilder.sm.find_user("admin").password
    all_users = c.get("/users/list/").get_data(as_text=True)
    assert pw_hash not in all_users and pw_hash[:20] not in all_users
    filtered = c.get("/users/list/?_flt_0_password=p").get_data(as_text=True)
    assert all_users.count("/users/show/") == filtered.count("/users/show/")
    show = c.get(f"/users/show/{1}").get_data(as_text=True)
    assert pw_hash[:20] not in show


def test_ordering_or_filtering_by_an_unknown_column_is_400_on_the_api(demo_app: Flask) -> None:
    c = demo_app.test_client()
    auth = api_auth(c)
    assert c.get("/api/v1/dispute_case/?q=(order_column:password,order_direction:asc)",
                 headers=auth).status_code == 400
    resp = c.get("/api/v1/dispute_case/?q=(filters:!((col:nosuch,opr:eq,value:1)))", headers=auth)
    assert resp.status_code == 400
    html = demo_app.test_client()
    login(html)
    base = f"/{names.view_class('dispute_case').lower()}/list/"
    # HTML answers the same way (it used to ignore them silently and show an unsorted list)
    for column in ("nosuch", "id_no", "version", "registry_no;drop"):
        assert html.get(f"{base}?_oc_DisputeCaseView={column}&_od_DisputeCaseView=asc").status_code == 400
    assert html.get(f"{base}?_oc_DisputeCaseView=registry_no&_od_DisputeCaseView=sideways").status_code == 400
    assert html.get(f"{base}?_oc_DisputeCaseView=registry_no&_od_DisputeCaseView=asc").status_code == 200


def test_an_api_failure_is_a_500_with_an_incident_number_and_no_traceback(demo_app: Flask,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.builders.datamodel import JiefenInterface

    def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("secret internals: SELECT password FROM ab_user")

    c = demo_app.test_client()
    auth = api_auth(c)
    monkeypatch.setattr(JiefenInterface, "query", boom)
    resp = c.get("/api/v1/dispute_case/", headers=auth)
    body = resp.get_json()
    assert resp.status_code == 500 and len(body["incident"]) == 12
    assert "secret" not in resp.get_data(as_text=True) and "Traceback" not in resp.get_data(as_text=True)
    assert "Fatal error" not in body["message"]
