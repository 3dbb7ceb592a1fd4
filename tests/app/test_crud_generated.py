"""CRUD through the screens and the REST API, for every entity in the config.

Parametrised from the compiled spec: a new entity in entities.yaml is tested
here without new test code.  Runs as the demo admin on the demo database.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask

from flask.testing import FlaskClient
from sqlalchemy import func, select

from generator import load, names
from app.access.formatting import pii_mask
from generator.spec import AppSpec
from tests.support.payloads import payload

from .conftest import CONFIG, api_auth

SPEC: AppSpec = load(str(CONFIG)).spec  # type: ignore[assignment]
ADMIN_ROLE = next(r.name for r in SPEC.roles.values() if r.admin)  # the demo "admin" account holds it
# An entity with a required read-only field (no default) is created by the server only, never
# through its generic screens or API: evidence rows come from the 五有 upload route (app/checklists).
SERVER_CREATED = {e.name for e in SPEC.entities.values()
                  if any(f.required and f.readonly and f.default is None for f in e.fields.values())}
ENTITIES = sorted(set(SPEC.entities) - SERVER_CREATED)


@pytest.fixture(autouse=True)
def app_context(demo_app: Flask):  # type: ignore[no-untyped-def]
    """Tests read the database directly too; requests reuse this context and its session."""
    with demo_app.app_context():
        yield


def view_url(app: Flask, entity: str) -> str:
    cls = names.view_class(entity)
    for v in app.appbuilder.baseviews:
        if type(v).__name__ == cls:
            return v.route_base
    raise AssertionError(f"no view for {entity}")


def ensure_refs(app: Flask, entity: str, seen: tuple[str, ...] = ()) -> dict[str, int]:
    """An existing id for every entity ``entity`` refers to (creating rows where the demo has none)."""
    reg = app.extensions["jiefen"]
    session = app.appbuilder.sm.session
    refs: dict[str, int] = {"__user__": app.appbuilder.sm.find_user(username="admin").id}
    for f in reg.spec.entities[entity].fields.values():
        if f.type != "ref" or f.ref in refs or f.ref in seen:
            continue
        model = reg.models[f.ref]
        row_id = session.execute(select(model.id).order_by(model.id).limit(1)).scalar()
        if row_id is None:
            row_id = create_row(app, f.ref, seen + (entity,))
        refs[f.ref] = row_id
    return refs


_created = iter(range(100, 10_000))


def create_row(app: Flask, entity: str, seen: tuple[str, ...] = ()) -> int:
    reg = app.extensions["jiefen"]
    refs = ensure_refs(app, entity, seen)
    values = payload(reg.spec, reg.spec.entities[entity], refs, api=True, seed=next(_created), required_only=True)
    session = app.appbuilder.sm.session
    for f in reg.spec.entities[entity].fields.values():
        if f.type == "file" and f.required:  # a stored file, staged for the row (app/files)
            from tests.support.files import sample, stage

            data, name, _ = sample(f)
            values[f.name] = stage(session, entity, f.name, data, name)
    obj = reg.models[entity]()
    for name, value in values.items():
        f = reg.spec.entities[entity].fields[name]
        if f.type in ("ref", "user"):
            setattr(obj, f"{name}_id", value)
        elif f.type == "date":
            import datetime as dt
            setattr(obj, name, dt.date.fromisoformat(value))
        elif f.type == "datetime":
            import datetime as dt
            setattr(obj, name, dt.datetime.fromisoformat(value))
        else:
            setattr(obj, name, value)
    session.add(obj)
    session.commit()
    return obj.id


def fresh_refs_if_unique_together(app: Flask, entity: str) -> dict[str, int]:
    """Refs for a new row; fresh targets where a unique_together could collide with earlier rows."""
    refs = ensure_refs(app, entity)
    if SPEC.entities[entity].unique_together:
        refs.update({f.ref: create_row(app, f.ref) for f in SPEC.entities[entity].fields.values()
                     if f.type == "ref" and f.ref != entity})
    return refs


def count(app: Flask, entity: str) -> int:
    model = app.extensions["jiefen"].models[entity]
    return app.appbuilder.sm.session.execute(select(func.count()).select_from(model)).scalar_one()


def unique_text_field() -> tuple[Any, str]:
    """The first entity with a unique text field, and that field."""
    for ent in SPEC.entities.values():
        for f in ent.fields.values():
            if f.unique and f.type == "string":
                return ent, f.name
    raise AssertionError("the config has no unique text field")


def changed_text_field(entity: str) -> str | None:
    for f in SPEC.entities[entity].fields.values():
        if f.type in ("string", "text") and not f.readonly and not f.pattern and not f.format and not f.unique:
            return f.name
    return None


@pytest.mark.parametrize("entity", ENTITIES)
def test_screens_list_add_show_edit_delete(demo_app: Flask, admin_client: FlaskClient, entity: str) -> None:
    url = view_url(demo_app, entity)
    resp = admin_client.get(f"{url}/list/")
    assert resp.status_code == 200
    assert SPEC.entities[entity].label.zh in resp.get_data(as_text=True)

    refs = fresh_refs_if_unique_together(demo_app, entity)
    data = payload(SPEC, SPEC.entities[entity], refs, api=False, seed=1, role=ADMIN_ROLE)
    before = count(demo_app, entity)
    resp = admin_client.post(f"{url}/add", data=data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 302, body[body.find("has-error") - 300: body.find("has-error") + 600]
    assert count(demo_app, entity) == before + 1
    model = demo_app.extensions["jiefen"].models[entity]
    session = demo_app.appbuilder.sm.session
    session.expire_all()
    pk = session.execute(select(func.max(model.id))).scalar_one()

    assert admin_client.get(f"{url}/show/{pk}").status_code == 200
    field = changed_text_field(entity)
    if field:
        data = {k: v for k, v in data.items() if not isinstance(v, tuple)}  # file inputs left empty
        data[field] = "已修改的值"[: SPEC.entities[entity].fields[field].max_length or 10]
        resp = admin_client.post(f"{url}/edit/{pk}", data=data)
        assert resp.status_code == 302
        session.expire_all()
        assert getattr(session.get(model, pk), field) == data[field]

    assert admin_client.get(f"{url}/delete/{pk}").status_code in (302, 405)
    session.expire_all()
    assert session.get(model, pk) is not None, "a GET must never delete"
    resp = admin_client.post(f"{url}/delete/{pk}")
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(model, pk) is None


@pytest.mark.parametrize("entity", ENTITIES)
def test_rest_api_create_read_update_delete(demo_app: Flask, entity: str) -> None:
    client = demo_app.test_client()
    auth = api_auth(client)
    base = f"/api/v1/{names.resource_name(entity)}/"
    assert client.get(base, headers=auth).status_code == 200
    refs = fresh_refs_if_unique_together(demo_app, entity)
    body: dict[str, Any] = payload(SPEC, SPEC.entities[entity], refs, api=True, seed=2, role=ADMIN_ROLE)
    for f in SPEC.entities[entity].fields.values():
        if f.type == "file" and not f.readonly:  # a staged upload, named in the JSON (app/files)
            from tests.support.files import sample

            data, name, _ = sample(f)
            staged = client.post(f"{base}files/{f.name}", data={"file": (io.BytesIO(data), name)}, headers=auth,
                                 content_type="multipart/form-data")
            assert staged.status_code == 201, staged.get_json()
            body[f.name] = staged.get_json()["result"]["token"]
    resp = client.post(base, json=body, headers=auth)
    assert resp.status_code == 201, resp.get_json()
    pk = resp.get_json()["id"]
    got = client.get(f"{base}{pk}", headers=auth)
    assert got.status_code == 200
    field = changed_text_field(entity)
    if field:
        resp = client.put(f"{base}{pk}", json={field: "接口修改"}, headers=auth)
        assert resp.status_code == 200, resp.get_json()
        shown = client.get(f"{base}{pk}", headers=auth).get_json()["result"][field]
        f = SPEC.entities[entity].fields[field]
        # personal data leaves the API masked (app/access/present.py), but for a record's name the
        # admin may reveal; the stored value is the new one
        in_clear = not f.pii or (field == SPEC.entities[entity].display and admin_reveals(entity, field))
        assert shown == ("接口修改" if in_clear else pii_mask(f.pii, "接口修改"))
        session = demo_app.appbuilder.sm.session
        session.expire_all()
        assert getattr(session.get(demo_app.extensions["jiefen"].models[entity], pk), field) == "接口修改"
    assert client.delete(f"{base}{pk}", headers=auth).status_code == 200
    assert client.get(f"{base}{pk}", headers=auth).status_code == 404


def admin_reveals(entity: str, field: str) -> bool:
    grants = SPEC.roles[ADMIN_ROLE].reveal
    return f"{entity}.*" in grants or f"{entity}.{field}" in grants


def test_api_conflict_is_422_not_500(demo_app: Flask) -> None:
    """A duplicate unique value is the client's problem: 422 with a message, nothing written."""
    client = demo_app.test_client()
    auth = api_auth(client)
    ent, key = unique_text_field()
    model = demo_app.extensions["jiefen"].models[ent.name]
    existing = demo_app.appbuilder.sm.session.execute(select(getattr(model, key)).limit(1)).scalar_one()
    body = payload(SPEC, ent, ensure_refs(demo_app, ent.name), api=True, seed=3)
    body[key] = existing
    before = count(demo_app, ent.name)
    resp = client.post(f"/api/v1/{ent.name}/", json=body, headers=auth)
    assert resp.status_code == 422, resp.get_json()
    assert count(demo_app, ent.name) == before


def test_created_and_changed_by_are_stamped_by_the_server(demo_app: Flask, admin_client: FlaskClient) -> None:
    entity = "employer"
    model = demo_app.extensions["jiefen"].models[entity]
    data = payload(SPEC, SPEC.entities[entity], ensure_refs(demo_app, entity), api=False, seed=11)
    assert admin_client.post(f"{view_url(demo_app, entity)}/add", data=data).status_code == 302
    session = demo_app.appbuilder.sm.session
    session.expire_all()
    row = session.execute(select(model).order_by(model.id.desc()).limit(1)).scalar_one()
    admin_id = demo_app.appbuilder.sm.find_user(username="admin").id
    assert row.created_by_id == admin_id and row.changed_by_id == admin_id


def test_api_update_conflict_is_422_without_sql(demo_app: Flask) -> None:
    client = demo_app.test_client()
    auth = api_auth(client)
    ent, key = unique_text_field()
    model = demo_app.extensions["jiefen"].models[ent.name]
    session = demo_app.appbuilder.sm.session
    first, second = session.execute(select(model.id, getattr(model, key)).order_by(model.id).limit(2)).all()
    resp = client.put(f"/api/v1/{ent.name}/{second[0]}", json={key: first[1]}, headers=auth)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "INSERT" not in body and "UPDATE" not in body and "constraint" not in body
    session.expire_all()
    assert getattr(session.get(model, second[0]), key) == second[1]


def test_text_filters_use_like_with_literal_wildcards(demo_app: Flask) -> None:
    from flask_appbuilder.models.sqla import filters as fab

    from generator.builders.datamodel import _LIKE, JiefenInterface

    ent, key = unique_text_field()
    model = demo_app.extensions["jiefen"].models[ent.name]
    session = demo_app.appbuilder.sm.session
    iface = JiefenInterface(model, session)
    values = list(session.execute(select(getattr(model, key))).scalars())
    value = values[0]

    def hits(kind: type, text: str) -> int:
        query = _LIKE[kind](key, iface).apply(session.query(model), text)
        sql = str(query.statement.compile(session.get_bind()))
        assert "ILIKE" not in sql.upper() and "lower(" not in sql.lower()
        return query.count()

    # The same answers as Python's substring tests, with % and _ taken literally.
    for text in (value[1:-1], value[:3], value[-3:], value, "%", "_", "-"):
        assert hits(fab.FilterContains, text) == sum(text in v for v in values)
        assert hits(fab.FilterNotContains, text) == sum(text not in v for v in values)
        assert hits(fab.FilterStartsWith, text) == sum(v.startswith(text) for v in values)
        assert hits(fab.FilterEndsWith, text) == sum(v.endswith(text) for v in values)
    assert hits(fab.FilterContains, value[1:-1]) >= 1 and hits(fab.FilterContains, "%") == 0
