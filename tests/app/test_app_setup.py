"""The app as a newcomer meets it: setup, demo accounts, language, validation, production guards."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import ConfigInvalid, ProductionRefused
from generator import load
from tests.support.database import private_database
from tests.support.payloads import payload

from .conftest import ROOT, api_auth, login, make_app, run_setup
from .test_crud_generated import ensure_refs, view_url

SPEC = load(str(ROOT / "config")).spec
assert SPEC is not None


def test_demo_accounts_command_prints_every_account(demo_app: Flask) -> None:
    out = demo_app.test_cli_runner().invoke(args=["demo-accounts"]).output
    rows = [line.split("\t") for line in out.strip().splitlines()]
    assert all(len(r) == 4 for r in rows) and rows[0][0] == "admin"
    roles = {r[1] for r in rows}
    assert roles == set(SPEC.roles)
    for role in (r for r in SPEC.roles.values() if r.scope in ("station", "own")):
        placed = [r for r in rows if r[1] == role.name and r[0] != role.name]
        assert len(placed) >= 3, role.name  # two sibling stations under one township + a second township
    with demo_app.app_context():
        sm = demo_app.appbuilder.sm
        for username, role, _, _ in rows:
            user = sm.find_user(username=username)
            assert user is not None and role in {r.name for r in user.roles}


def test_every_demo_account_can_log_in(demo_app: Flask) -> None:
    out = demo_app.test_cli_runner().invoke(args=["demo-accounts"]).output
    for line in out.strip().splitlines()[:6]:
        login(demo_app.test_client(), line.split("\t")[0])


def test_setup_is_idempotent(demo_app: Flask) -> None:
    with demo_app.app_context():
        model = demo_app.extensions["jiefen"].models["dispute_case"]
        session = demo_app.appbuilder.sm.session
        before = session.execute(select(func.count()).select_from(model)).scalar_one()
    out = run_setup(demo_app)
    assert "0 grants added" in out and "'inserted': 0" in out
    with demo_app.app_context():
        assert demo_app.appbuilder.sm.session.execute(select(func.count()).select_from(model)).scalar_one() == before


def test_chinese_by_default_english_on_request(demo_app: Flask, admin_client: FlaskClient) -> None:
    url = view_url(demo_app, "dispute_case")
    zh = admin_client.get(f"{url}/list/").get_data(as_text=True)
    assert SPEC.entities["dispute_case"].label.zh in zh and SPEC.menus["registry"].label.zh in zh
    assert "记录数" in zh and "Record Count" not in zh
    state_zh = SPEC.workflows["case_flow"].states["registered"].label.zh
    assert state_zh in zh and ">registered<" not in zh.replace(" ", "").replace("\n", "")
    admin_client.get("/lang/en")
    en = admin_client.get(f"{url}/list/").get_data(as_text=True)
    assert SPEC.entities["dispute_case"].label.en in en and SPEC.menus["registry"].label.en in en
    assert SPEC.workflows["case_flow"].states["registered"].label.en in en
    admin_client.get("/lang/zh")


def test_system_menu_is_last_and_named_from_yaml(demo_app: Flask, admin_client: FlaskClient) -> None:
    html = admin_client.get("/").get_data(as_text=True)
    labels = [SPEC.menus[m].label.zh for m in sorted(SPEC.menus, key=lambda m: SPEC.menus[m].order)]
    positions = [html.find(lbl) for lbl in labels if lbl in html]
    assert positions == sorted(positions) and SPEC.menus["system"].label.zh in html


def test_form_rejects_a_bad_id_number_and_writes_nothing(demo_app: Flask, admin_client: FlaskClient) -> None:
    ent = SPEC.entities["party"]
    field = next(f.name for f in ent.fields.values() if f.format == "id_card")
    with demo_app.app_context():
        refs = ensure_refs(demo_app, "party")
        model = demo_app.extensions["jiefen"].models["party"]
        session = demo_app.appbuilder.sm.session
        before = session.execute(select(func.count()).select_from(model)).scalar_one()
    data = payload(SPEC, ent, refs, api=False, seed=5)
    good = data[field]
    data[field] = good[:-1] + ("0" if good[-1] != "0" else "1")
    resp = admin_client.post(f"{view_url(demo_app, 'party')}/add", data=data)
    assert resp.status_code == 200 and "校验位" in resp.get_data(as_text=True)
    with demo_app.app_context():
        assert session.execute(select(func.count()).select_from(model)).scalar_one() == before


def test_api_rejects_an_unknown_enum_value(demo_app: Flask) -> None:
    client = demo_app.test_client()
    auth = api_auth(client)
    with demo_app.app_context():
        body = payload(SPEC, SPEC.entities["employer"], ensure_refs(demo_app, "employer"), api=True, seed=6)
    enum_field = next(f.name for f in SPEC.entities["employer"].fields.values() if f.type == "enum")
    body[enum_field] = "no_such_value"
    resp = client.post("/api/v1/employer/", json=body, headers=auth)
    assert resp.status_code == 422 and enum_field in resp.get_json()["message"]


def test_openapi_and_local_swagger(admin_client: FlaskClient) -> None:
    spec = admin_client.get("/api/v1/_openapi")
    assert spec.status_code == 200 and "/dispute_case/" in spec.get_data(as_text=True)
    html = admin_client.get("/swagger/v1").get_data(as_text=True)
    assert "/static/appbuilder/" in html and "validatorUrl: null" in html


def test_bad_config_refuses_to_start_with_located_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    text = (cfg / "roles.yaml").read_text("utf-8").replace("scope: own", "scope: mine", 1)
    (cfg / "roles.yaml").write_text(text, "utf-8")
    with pytest.raises(ConfigInvalid) as exc:
        make_app(f"sqlite:///{tmp_path / 'x.db'}", CONFIG_DIR=str(cfg))
    assert "roles.yaml:" in str(exc.value) and "E202" in str(exc.value)


@pytest.mark.parametrize("overrides,needle", [
    ({"SECRET_KEY": "jiefen-development-only-secret-key-change-me-0000"}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"DEBUG": True}, "调试"),
])
def test_production_refuses_unsafe_settings(tmp_path: Path, overrides: dict, needle: str) -> None:
    base = {"APP_ENV": "production", "SECRET_KEY": "p" * 48}
    base.update(overrides)
    with pytest.raises(ProductionRefused) as exc:
        make_app(f"sqlite:///{tmp_path / 'p.db'}", **base)
    assert needle in str(exc.value)


def test_production_refuses_demo_accounts_but_starts_without_them(tmp_path: Path) -> None:
    with private_database(tmp_path) as uri:
        app = make_app(uri)
        run_setup(app)
        with pytest.raises(ProductionRefused) as exc:
            make_app(uri, APP_ENV="production", SECRET_KEY="p" * 48)
        assert "演示" in str(exc.value)
    (tmp_path / "clean").mkdir()
    with private_database(tmp_path / "clean") as uri:
        run_setup(make_app(uri), "--no-demo")
        app = make_app(uri, APP_ENV="production", SECRET_KEY="p" * 48)
        assert app.config["APP_ENV"] == "production"
        assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True


def test_readme_lists_every_demo_account(demo_app: Flask) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    out = demo_app.test_cli_runner().invoke(args=["demo-accounts"]).output
    missing = [line.split("\t")[0] for line in out.strip().splitlines()
               if f"| `{line.split(chr(9))[0]}` | `{line.split(chr(9))[1]}` |" not in readme]
    assert missing == []


def test_duplicate_on_the_form_keeps_the_input_and_leaks_no_sql(demo_app: Flask,
                                                               admin_client: FlaskClient) -> None:
    ent = SPEC.entities["employer"]
    key = next(f.name for f in ent.fields.values() if f.unique and f.type == "string")
    with demo_app.app_context():
        model = demo_app.extensions["jiefen"].models["employer"]
        session = demo_app.appbuilder.sm.session
        existing = session.execute(select(getattr(model, key)).limit(1)).scalar_one()
        refs = ensure_refs(demo_app, "employer")
        before = session.execute(select(func.count()).select_from(model)).scalar_one()
    data = payload(SPEC, ent, refs, api=False, seed=21)
    data[key] = existing
    marker = "保留我输入的内容"
    text_field = next(f.name for f in ent.fields.values()
                      if f.type in ("string", "text") and not f.unique and not f.format and not f.pattern)
    data[text_field] = marker
    resp = admin_client.post(f"{view_url(demo_app, 'employer')}/add", data=data)
    html = resp.get_data(as_text=True)
    # FAB's unique validator usually catches it on the form; the database is the backstop.
    assert resp.status_code == 200 and ("保存失败" in html or "已存在" in html or "已经存在" in html), \
        html[html.find("help-block") - 200: html.find("help-block") + 300]
    assert marker in html
    assert "INSERT" not in html and "sqlite" not in html.lower() and "psycopg" not in html
    with demo_app.app_context():
        assert session.execute(select(func.count()).select_from(model)).scalar_one() == before


def test_blank_optional_fields_are_stored_as_null(demo_app: Flask, admin_client: FlaskClient) -> None:
    ent = SPEC.entities["mediator"]
    with demo_app.app_context():
        refs = ensure_refs(demo_app, "mediator")
    data = payload(SPEC, ent, refs, api=False, seed=22, required_only=True)
    for f in ent.fields.values():
        if not f.required and f.type in ("string", "text", "enum"):
            data[f.name] = ""
    for _ in range(2):  # twice: blank unique fields must not collide
        data.update(payload(SPEC, ent, refs, api=False, seed=23 + _, required_only=True))
        assert admin_client.post(f"{view_url(demo_app, 'mediator')}/add", data=data).status_code == 302
    with demo_app.app_context():
        model = demo_app.extensions["jiefen"].models["mediator"]
        row = demo_app.appbuilder.sm.session.execute(select(model).order_by(model.id.desc()).limit(1)).scalar_one()
        blanks = [f.name for f in ent.fields.values() if not f.required and f.type in ("string", "text", "enum")]
        assert all(getattr(row, name) is None for name in blanks)


def test_database_conflict_is_shown_plainly_and_keeps_the_form(demo_app: Flask, admin_client: FlaskClient) -> None:
    """A unique_together clash gets past FAB's form validators; the database refuses it."""
    from .test_crud_generated import create_row

    ent = next(e for e in SPEC.entities.values() if e.unique_together)
    with demo_app.app_context():
        refs = ensure_refs(demo_app, ent.name)
        refs.update({f.ref: create_row(demo_app, f.ref) for f in ent.fields.values()
                     if f.type == "ref" and f.ref != ent.name})
        model = demo_app.extensions["jiefen"].models[ent.name]
        session = demo_app.appbuilder.sm.session
    data = payload(SPEC, ent, refs, api=False, seed=31)
    url = f"{view_url(demo_app, ent.name)}/add"
    assert admin_client.post(url, data=data).status_code == 302
    with demo_app.app_context():
        before = session.execute(select(func.count()).select_from(model)).scalar_one()
    resp = admin_client.post(url, data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "保存失败" in html
    assert "INSERT" not in html and "IntegrityError" not in html
    with demo_app.app_context():
        assert session.execute(select(func.count()).select_from(model)).scalar_one() == before


def test_second_start_skips_the_schema_comparison_until_the_model_changes(tmp_path: Path) -> None:
    from app import schema_state

    with private_database(tmp_path) as uri:
        app = make_app(uri)
        with app.app_context():
            engine = app.appbuilder.sm.session.get_bind()
            reg = app.extensions["jiefen"]
            assert schema_state.stored(engine) == schema_state.fingerprint(reg.metadata, engine)
            assert reg.sync_schema(engine) is None          # unchanged: skipped
            assert reg.sync_schema(engine, force=True).empty  # forced: compared, nothing to do
            schema_state.remember(engine, "stale")
            assert reg.sync_schema(engine) is not None      # changed fingerprint: compared again


def test_no_unscoped_file_download_route(demo_app: Flask, admin_client: FlaskClient) -> None:
    generated = [r.rule for r in demo_app.url_map.iter_rules()
                 if "/download/" in r.rule and r.endpoint.split(".")[0].endswith("View")
                 and r.endpoint.split(".")[0] in {type(v).__name__ for v in demo_app.appbuilder.baseviews
                                                  if type(v).__module__ == "app.generated.views"}]
    assert generated == []
    for rule in (r.rule for r in demo_app.url_map.iter_rules() if "/download/" in r.rule):
        assert admin_client.get(rule.replace("<string:filename>", "..%2Fjiefen.db")).status_code == 404
