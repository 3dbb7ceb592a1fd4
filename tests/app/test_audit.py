"""The audit trail (security-tests.md, "Audit logging"): record changes, append-only, who reads it,
the access matrix, and the exact role sync."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_login import login_user
from sqlalchemy import create_engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from app.audit import log as audit
from app.audit.listener import AuditLogAppendOnly
from app.audit.views import history
from generator import load
from tests.support.database import normalise, throwaway_schema

from .conftest import ROOT, api_auth, login
from .test_crud_generated import view_url

SPEC = load(str(ROOT / "config")).spec
assert SPEC is not None
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ENTITY = "employer"  # has personal data: contact_name (name), contact_phone (phone)


# ------------------------------------------------------------------ helpers


def last_id(app: Flask) -> int:
    with app.app_context():
        t = app.extensions["jiefen"].audit_log.__table__
        return app.appbuilder.sm.session.execute(select(func.coalesce(func.max(t.c.id), 0))).scalar_one()


def rows_since(app: Flask, since: int, **where: Any) -> list[dict[str, Any]]:
    with app.app_context():
        t = app.extensions["jiefen"].audit_log.__table__
        q = select(t).where(t.c.id > since).order_by(t.c.id)
        for k, v in where.items():
            q = q.where(t.c[k] == v)
        session = app.appbuilder.sm.session
        out = [dict(r._mapping) for r in session.execute(q)]
        session.rollback()
    for r in out:
        r["changes"] = json.loads(r["changes"]) if r["changes"] else None
    return out


def an_org_id(app: Flask) -> int:
    with app.app_context():
        org = app.extensions["jiefen"].models[SPEC.org_tree.entity]
        return app.appbuilder.sm.session.execute(select(org.id).order_by(org.id).limit(1)).scalar_one()


def employer_ids(app: Flask) -> set[int]:
    with app.app_context():
        model = app.extensions["jiefen"].models[ENTITY]
        session = app.appbuilder.sm.session
        ids = set(session.execute(select(model.id)).scalars())
        session.rollback()
        return ids


def account_of_role(app: Flask, role: str) -> str:
    out = app.test_cli_runner().invoke(args=["demo-accounts"]).output
    return next(line.split("\t")[0] for line in out.splitlines() if line.split("\t")[1] == role)


def as_user(app: Flask, username: str) -> None:
    """Sign ``username`` in for the current test request (FAB reads both current_user and g.user)."""
    from flask import g

    g.user = app.appbuilder.sm.find_user(username=username)
    login_user(g.user)


def form(org_id: int, phone: str, name: str = "审计测试企业") -> dict[str, str]:
    return {"employer_name": name, "org": str(org_id), "contact_name": "欧阳明华", "contact_phone": phone}


# ------------------------------------------------------------------ record changes


def test_html_create_update_delete_write_one_row_each_with_masked_personal_data(
        demo_app: Flask, admin_client: FlaskClient) -> None:
    url = view_url(demo_app, ENTITY)
    org_id = an_org_id(demo_app)
    before_ids, start = employer_ids(demo_app), last_id(demo_app)

    resp = admin_client.post(f"{url}/add", data=form(org_id, "13812345678"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    (pk,) = employer_ids(demo_app) - before_ids
    rows = rows_since(demo_app, start)
    assert [(r["event"], r["entity"], r["record_id"]) for r in rows] == [("create", ENTITY, str(pk))]
    created = rows[0]["changes"]
    assert created["employer_name"] == [None, "审计测试企业"]
    assert created["org"] == [None, org_id]  # refs as ids
    assert created["contact_phone"] == [None, "138****5678"]
    assert created["contact_name"] == [None, "欧阳**"]
    assert "13812345678" not in json.dumps(rows, default=str, ensure_ascii=False)
    assert rows[0]["username"] == "admin"
    assert not {"version", "changed_on", "changed_by", "created_on", "id"} & set(created)

    start = last_id(demo_app)
    resp = admin_client.post(f"{url}/edit/{pk}", data=form(org_id, "13987654321"))
    assert resp.status_code == 302
    rows = rows_since(demo_app, start)
    assert [(r["event"], r["record_id"]) for r in rows] == [("update", str(pk))]
    assert rows[0]["changes"] == {"contact_phone": ["138****5678", "139****4321"]}  # changed fields only
    shown = admin_client.get(f"/auditlog/show/{rows[0]['id']}").get_data(as_text=True)
    assert 'class="table table-condensed jf-audit-changes"' in shown and "139****4321" in shown
    assert "13987654321" not in shown

    start = last_id(demo_app)
    resp = admin_client.post(f"{url}/delete/{pk}")
    assert resp.status_code == 302
    rows = rows_since(demo_app, start)
    assert [(r["event"], r["record_id"]) for r in rows] == [("delete", str(pk))]
    assert rows[0]["changes"]["contact_phone"] == ["139****4321", None]
    assert rows[0]["changes"]["employer_name"] == ["审计测试企业", None]

    with demo_app.test_request_context():
        events = [h["event"] for h in history(ENTITY, pk)]
    assert events == ["delete", "update", "create"]  # newest first


def test_account_placements_are_audited_as_user_org(demo_app: Flask) -> None:
    rows = rows_since(demo_app, 0, entity="user_org", event="create")  # setup placed the demo accounts
    assert rows and set(rows[0]["changes"]) == {"user", "org"}
    assert rows[0]["record_id"] == str(rows[0]["changes"]["user"][1])


def test_api_create_update_delete_write_one_row_each(demo_app: Flask) -> None:
    client = demo_app.test_client()
    headers = api_auth(client)
    org_id = an_org_id(demo_app)
    start = last_id(demo_app)
    resp = client.post(f"/api/v1/{ENTITY}/", json={"employer_name": "接口测试企业", "org": org_id,
                                                   "contact_phone": "13700001111"}, headers=headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    pk = resp.get_json()["id"]
    rows = rows_since(demo_app, start)
    assert [(r["event"], r["record_id"]) for r in rows] == [("create", str(pk))]
    assert rows[0]["changes"]["contact_phone"] == [None, "137****1111"]
    assert rows[0]["changes"]["org"] == [None, org_id]

    start = last_id(demo_app)
    resp = client.put(f"/api/v1/{ENTITY}/{pk}", json={"employer_name": "接口测试企业（改）"}, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    rows = rows_since(demo_app, start)
    assert [(r["event"], r["record_id"]) for r in rows] == [("update", str(pk))]
    assert rows[0]["changes"] == {"employer_name": ["接口测试企业", "接口测试企业（改）"]}

    start = last_id(demo_app)
    assert client.delete(f"/api/v1/{ENTITY}/{pk}", headers=headers).status_code == 200
    rows = rows_since(demo_app, start)
    assert [(r["event"], r["record_id"]) for r in rows] == [("delete", str(pk))]
    assert rows[0]["changes"]["contact_phone"] == ["137****1111", None]


def test_a_ref_change_is_old_id_to_new_id(demo_app: Flask) -> None:
    with demo_app.app_context():
        reg = demo_app.extensions["jiefen"]
        session = demo_app.appbuilder.sm.session
        org = reg.models[SPEC.org_tree.entity]
        a, b = session.execute(select(org).order_by(org.id).limit(2)).scalars().all()
        emp = reg.models[ENTITY](employer_name="改归属测试", org=a)
        session.add(emp)
        session.commit()
        start = last_id(demo_app)
        emp = session.get(reg.models[ENTITY], emp.id)
        emp.org = b  # through the relationship, as a form does
        session.commit()
        pk, a_id, b_id = emp.id, a.id, b.id
    rows = rows_since(demo_app, start)
    assert [r["event"] for r in rows] == ["update"]
    assert rows[0]["changes"] == {"org": [a_id, b_id]} and rows[0]["record_id"] == str(pk)


def test_a_rolled_back_change_leaves_no_audit_row(demo_app: Flask, admin_client: FlaskClient) -> None:
    start = last_id(demo_app)
    with demo_app.app_context():
        reg = demo_app.extensions["jiefen"]
        session = demo_app.appbuilder.sm.session
        emp = reg.models[ENTITY](employer_name="回滚测试", org_id=an_org_id(demo_app))
        session.add(emp)
        session.flush()  # the audit row is written here, inside the transaction...
        t = reg.audit_log.__table__
        assert session.execute(select(func.count()).select_from(t).where(t.c.id > start)).scalar_one() == 1
        session.rollback()  # ...and goes with it
    assert rows_since(demo_app, start) == []

    # A save the database refuses (a duplicate unique value) writes neither the record nor a row.
    with demo_app.app_context():
        model = demo_app.extensions["jiefen"].models[ENTITY]
        session = demo_app.appbuilder.sm.session
        session.add(model(employer_name="唯一值占用", org_id=an_org_id(demo_app), uscc="91420222MA4F0K1A2X"))
        session.commit()
    start = last_id(demo_app)
    data = form(an_org_id(demo_app), "13812345678", name="重复信用代码")
    data["uscc"] = "91420222MA4F0K1A2X"
    resp = admin_client.post(f"{view_url(demo_app, ENTITY)}/add", data=data)
    assert resp.status_code == 200  # the form comes back
    assert rows_since(demo_app, start) == []


# ------------------------------------------------------------------ append-only


def test_the_orm_refuses_to_update_or_delete_audit_rows(demo_app: Flask) -> None:
    with demo_app.app_context():
        audit.record("config_sync", detail="append-only probe")
        reg = demo_app.extensions["jiefen"]
        session = demo_app.appbuilder.sm.session
        row = session.execute(select(reg.audit_log).order_by(reg.audit_log.id.desc()).limit(1)).scalar_one()
        row.detail = "rewritten"
        with pytest.raises(AuditLogAppendOnly):
            session.flush()
        session.rollback()
        session.delete(session.get(reg.audit_log, row.id))
        with pytest.raises(AuditLogAppendOnly):
            session.flush()
        session.rollback()
        for stmt in (update(reg.audit_log).values(detail="x"), delete(reg.audit_log)):
            with pytest.raises(AuditLogAppendOnly):
                session.execute(stmt)
            session.rollback()
        assert session.get(reg.audit_log, row.id).detail == "append-only probe"


@pytest.fixture()
def pg_url() -> Iterator[str]:
    try:
        engine = create_engine(normalise(PG_URL))
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}): the trigger test needs it")
    with throwaway_schema(PG_URL, prefix="jf_audit") as url:
        yield url


def test_postgresql_trigger_refuses_update_delete_truncate(demo_app: Flask, pg_url: str) -> None:
    reg = demo_app.extensions["jiefen"]
    engine = create_engine(pg_url)
    try:
        reg.sync_schema(engine, force=True)  # the schema sync path creates the table and the triggers
        assert audit.ensure_append_only(engine) is True  # idempotent: a second time changes nothing
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'jf_audit_log'::regclass "
                                  "AND NOT tgisinternal")).scalar_one()
        assert n == 2
        with engine.begin() as conn:
            audit.record_in(conn, "config_sync", detail="pg probe", table=reg.audit_log.__table__)
        for sql in ("UPDATE jf_audit_log SET detail = 'x'", "DELETE FROM jf_audit_log", "TRUNCATE jf_audit_log"):
            with pytest.raises(DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text(sql))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT detail FROM jf_audit_log")).scalars().all() == ["pg probe"]
    finally:
        engine.dispose()


# ------------------------------------------------------------------ the screens


def test_audit_views_have_no_write_routes_even_for_the_admin(demo_app: Flask, admin_client: FlaskClient) -> None:
    endpoints = {r.endpoint for r in demo_app.url_map.iter_rules() if r.endpoint.startswith("AuditLogView.")}
    assert endpoints == {"AuditLogView.list", "AuditLogView.show"}
    row_id = last_id(demo_app)
    assert admin_client.get("/auditlog/list/").status_code == 200
    assert admin_client.get(f"/auditlog/show/{row_id}").status_code == 200
    for method, path in [("post", "/auditlog/add"), ("get", "/auditlog/add"), ("post", f"/auditlog/edit/{row_id}"),
                         ("post", f"/auditlog/delete/{row_id}"), ("get", f"/auditlog/delete/{row_id}"),
                         ("post", "/auditlog/action_post"), ("post", f"/auditlog/show/{row_id}"),
                         ("put", f"/auditlog/show/{row_id}"), ("delete", f"/auditlog/show/{row_id}"),
                         ("post", "/auditlog/list/"), ("delete", "/auditlog/list/"),
                         ("post", "/access-matrix/"), ("delete", "/access-matrix/")]:
        status = getattr(admin_client, method)(path).status_code
        assert status in (404, 405), (method, path, status)
    assert rows_since(demo_app, row_id - 1)[0]["id"] == row_id  # still there, unchanged


def test_log_list_is_newest_first_filterable_and_labelled(demo_app: Flask, admin_client: FlaskClient) -> None:
    start = last_id(demo_app)
    with demo_app.app_context():
        audit.record("config_sync", entity="roles", detail="older-probe", record_id="r-76")
        audit.record("config_sync", entity="roles", detail="newer-probe", record_id="r-77")
    html = admin_client.get("/auditlog/list/").get_data(as_text=True)
    assert "审计日志" in html and "配置同步" in html
    assert 0 < html.find("r-77") < html.find("r-76")  # newest first
    one = admin_client.get("/auditlog/list/?_flt_0_record_id=r-77").get_data(as_text=True)
    assert "r-77" in one and "r-76" not in one
    newer = rows_since(demo_app, start, record_id="r-77")
    assert "newer-probe" in admin_client.get(f"/auditlog/show/{newer[0]['id']}").get_data(as_text=True)


def test_a_role_without_the_grant_cannot_read_the_log_or_the_matrix(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, account_of_role(demo_app, "registrar"))
    for path in ("/auditlog/list/", f"/auditlog/show/{last_id(demo_app)}", "/access-matrix/"):
        resp = client.get(path)
        assert resp.status_code in (302, 403), (path, resp.status_code)
        if resp.status_code == 302:
            assert "/auditlog" not in resp.headers["Location"] and "/access-matrix" not in resp.headers["Location"]
    # (a record's own history is on its detail page, which the scoped interface guards:
    #  tests/app/test_access_scopes.py)

    auditor = demo_app.test_client()
    login(auditor, account_of_role(demo_app, "auditor"))
    assert auditor.get("/auditlog/list/").status_code == 200
    assert auditor.get("/access-matrix/").status_code == 200


def test_history_macro_renders_for_a_reader(demo_app: Flask) -> None:
    with demo_app.app_context():
        reg = demo_app.extensions["jiefen"]
        session = demo_app.appbuilder.sm.session
        emp = reg.models[ENTITY](employer_name="历史测试", org_id=an_org_id(demo_app), contact_phone="13811112222")
        session.add(emp)
        session.commit()
        pk = emp.id
    with demo_app.test_request_context():
        as_user(demo_app, "admin")
        html = render_template_string('{% from "jiefen/audit_history.html" import audit_history %}'
                                      '{{ audit_history("employer", pk) }}', pk=pk)
    assert "历史测试" in html and "138****2222" in html and "13811112222" not in html


def test_show_page_template_adds_the_history(demo_app: Flask, admin_client: FlaskClient) -> None:
    """Every generated show page (jiefen/show.html) carries the record's history for log readers."""
    url = view_url(demo_app, ENTITY)
    with demo_app.app_context():
        reg = demo_app.extensions["jiefen"]
        session = demo_app.appbuilder.sm.session
        emp = reg.models[ENTITY](employer_name="展示页历史", org_id=an_org_id(demo_app), contact_name="张三丰")
        session.add(emp)
        session.commit()
        pk = emp.id
    html = admin_client.get(f"{url}/show/{pk}").get_data(as_text=True)
    assert "jf-audit-history" in html
    block = html[html.index("jf-audit-history"):]
    assert "变更记录" in block and "新增" in block and "张**" in block and "张三丰" not in block


def test_access_matrix_lists_every_role(demo_app: Flask, admin_client: FlaskClient) -> None:
    html = admin_client.get("/access-matrix/").get_data(as_text=True)
    for role in SPEC.roles.values():
        assert f'id="role-{role.name}"' in html and role.label.zh in html, role.name
    for short in ("查", "增", "改", "删", "导"):
        assert f">{short}<" in html
    assert "case_flow.sign_agreement" in html and "party.*" in html
    menu = admin_client.get("/").get_data(as_text=True)
    assert "/auditlog/list/" in menu and "/access-matrix/" in menu


# ------------------------------------------------------------------ exact role sync


def test_sync_roles_removes_undeclared_grants_and_reports_them(demo_app: Flask) -> None:
    with demo_app.app_context():
        sm = demo_app.appbuilder.sm
        admin_perms = len(sm.find_role(demo_app.config["AUTH_ROLE_ADMIN"]).permissions)
        pv = sm.find_permission_view_menu("can_delete", "dispute_case")
        oversight, public = sm.find_role("oversight"), sm.find_role(demo_app.config["AUTH_ROLE_PUBLIC"])
        oversight.permissions.append(pv)
        public.permissions.append(pv)
        sm.session.commit()
    start = last_id(demo_app)
    result = demo_app.test_cli_runner().invoke(args=["sync-roles"])
    assert result.exit_code == 0, result.output
    assert "oversight: can_delete on dispute_case" in result.output
    assert "Public: can_delete on dispute_case" in result.output
    with demo_app.app_context():
        sm = demo_app.appbuilder.sm
        sm.session.expire_all()
        have = {(p.permission.name, p.view_menu.name) for p in sm.find_role("oversight").permissions}
        assert ("can_delete", "dispute_case") not in have
        from generator.builders.permissions import role_permissions

        assert have == role_permissions(SPEC, "oversight")
        assert sm.find_role(demo_app.config["AUTH_ROLE_PUBLIC"]).permissions == []
        assert len(sm.find_role(demo_app.config["AUTH_ROLE_ADMIN"]).permissions) == admin_perms
    rows = rows_since(demo_app, start, event="config_sync")
    assert len(rows) == 1
    assert "oversight: can_delete on dispute_case" in rows[0]["changes"]["removed"]
    assert "2 removed" in rows[0]["detail"]
    # A second sync has nothing to do.
    again = demo_app.test_cli_runner().invoke(args=["sync-roles"]).output
    assert "0 grants added, 0 removed" in again


# ------------------------------------------------------------------ role and outcome (issue #11)


def test_rows_carry_the_acting_roles_and_an_outcome(demo_app: Flask) -> None:
    client = demo_app.test_client()
    headers = api_auth(client)  # admin: role jm_office
    start = last_id(demo_app)
    resp = client.post(f"/api/v1/{ENTITY}/", json={"employer_name": "角色结果测试", "org": an_org_id(demo_app)},
                       headers=headers)
    assert resp.status_code == 201
    (row,) = rows_since(demo_app, start, event="create")
    assert (row["roles"], row["outcome"]) == ("jm_office", "ok")
    assert client.delete(f"/api/v1/{ENTITY}/{resp.get_json()['id']}", headers=headers).status_code == 200

    # a refusal is "denied"; a failed login is "failed" (no one signed in: no roles)
    start = last_id(demo_app)
    registrar = demo_app.test_client()
    login(registrar, account_of_role(demo_app, "registrar"))
    assert registrar.get("/auditlog/list/").status_code in (302, 403)
    denied = rows_since(demo_app, start, event="denied")
    assert denied and denied[-1]["outcome"] == "denied" and denied[-1]["roles"] == "registrar"
    start = last_id(demo_app)
    demo_app.test_client().post("/login/", data={"username": "auditor", "password": "wrong-password"})
    (failed,) = rows_since(demo_app, start, event="login_failed")
    assert failed["outcome"] == "failed" and not failed["roles"]
    # a login names the roles of the account that signed in
    start = last_id(demo_app)
    login(demo_app.test_client(), "auditor")
    (ok,) = rows_since(demo_app, start, event="login")
    assert (ok["roles"], ok["outcome"]) == ("auditor", "ok")


def test_every_event_has_an_outcome() -> None:
    assert set(audit.OUTCOME_OF) <= set(audit.EVENTS)
    assert {audit.outcome_of(e) for e in audit.EVENTS} <= {"ok", "denied", "failed"}
    assert audit.outcome_of("denied") == "denied" and audit.outcome_of("login_failed") == "failed"
    assert {"upload", "download", "audit_purge"} <= set(audit.EVENTS)


def test_the_log_shows_and_filters_role_and_outcome(demo_app: Flask, admin_client: FlaskClient) -> None:
    with demo_app.app_context():
        audit.record("config_sync", detail="outcome-probe-ok", record_id="o-1")
        audit.record("config_sync", detail="outcome-probe-failed", record_id="o-2", outcome="failed")
    html = admin_client.get("/auditlog/list/").get_data(as_text=True)
    assert "角色" in html and "结果" in html and "失败" in html
    only = admin_client.get("/auditlog/list/?_flt_0_outcome=failed").get_data(as_text=True)
    assert "o-2" in only and "o-1" not in only
    by_role = admin_client.get("/auditlog/list/?_flt_2_roles=auditor").get_data(as_text=True)
    assert "o-1" not in by_role
    en = demo_app.test_client()
    login(en)
    en.get("/lang/en")
    assert "Outcome" in en.get("/auditlog/list/").get_data(as_text=True)


# ------------------------------------------------------------------ retention


def _insert_aged(conn: Any, table: Any, days: float, marker: str) -> None:
    import datetime as dt

    at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=days)
    conn.execute(table.insert(), [{"at": at, "event": "config_sync", "detail": marker, "outcome": "ok"}])


def test_retention_below_the_legal_minimum_is_refused(demo_app: Flask) -> None:
    from app.audit import retention

    for days in (0, 30, 179):
        with pytest.raises(retention.RetentionTooShort):
            retention.cutoff(days)
    result = demo_app.test_cli_runner().invoke(args=["purge-audit", "--days", "90"])
    assert result.exit_code != 0 and "180" in result.output


def test_purge_deletes_only_rows_older_than_the_retention_and_is_audited(demo_app: Flask) -> None:
    reg = demo_app.extensions["jiefen"]
    t = reg.audit_log.__table__
    with demo_app.app_context():
        engine = demo_app.appbuilder.sm.session.get_bind()
        with engine.begin() as conn:
            for days, marker in ((400, "aged-400"), (181, "aged-181"), (179.5, "aged-179"), (1, "aged-1")):
                _insert_aged(conn, t, days, marker)
    start = last_id(demo_app)
    result = demo_app.test_cli_runner().invoke(args=["purge-audit"])  # AUDIT_RETENTION_DAYS: 180 by default
    assert result.exit_code == 0, result.output
    with demo_app.app_context():
        left = set(demo_app.appbuilder.sm.session.execute(
            select(t.c.detail).where(t.c.detail.like("aged-%"))).scalars())
        demo_app.appbuilder.sm.session.rollback()
    assert left == {"aged-179", "aged-1"}
    (row,) = rows_since(demo_app, start, event="audit_purge")
    assert row["outcome"] == "ok" and "2" in row["detail"] and "180" in row["detail"]
    # a longer retention keeps more; nothing younger than the minimum is ever touched
    result = demo_app.test_cli_runner().invoke(args=["purge-audit", "--days", "365"])
    assert result.exit_code == 0


def test_postgresql_purge_passes_the_trigger_for_old_rows_only(demo_app: Flask, pg_url: str) -> None:
    from app.audit import retention

    reg = demo_app.extensions["jiefen"]
    t = reg.audit_log.__table__
    engine = create_engine(pg_url)
    try:
        reg.sync_schema(engine, force=True)
        with engine.begin() as conn:
            for days, marker in ((200, "old"), (179, "young")):
                _insert_aged(conn, t, days, marker)
        # the trigger refuses any DELETE without the purge switch, and a young row even with it
        for sql in ("DELETE FROM jf_audit_log",
                    "SET LOCAL jiefen.audit_purge = 'on'; DELETE FROM jf_audit_log WHERE detail = 'young'"):
            with pytest.raises(DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    for stmt in sql.split("; "):
                        conn.execute(text(stmt))
        with engine.begin() as conn:
            assert retention.purge(conn, t, 180) == 1
        with engine.connect() as conn:
            left = set(conn.execute(text("SELECT detail FROM jf_audit_log")).scalars())
        assert "old" not in left and "young" in left
        assert any("180" in (d or "") for d in left)  # the purge audited itself, in the same transaction
    finally:
        engine.dispose()
