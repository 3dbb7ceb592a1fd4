"""The leak sweep: every surface the spec generates, as every demo role (issue #10).

Generated from the config, not hand-listed: for every role of roles.yaml (one demo account each,
the station/township variant where the role is scoped) and every entity that role may read:

* REST: the list, the first records' show, ``_info`` (pickers and filters), an empty ``PUT {}``
  (roles that may update) and a ``POST`` echo (roles that may create; references picked from the
  role's own ``_info``);
* HTML: the list page and the first record's page;

and no answer may carry a login password hash, or a personal-data value (``pii:``) in clear,
except a record's name (the entity's ``display`` field) for a role whose ``reveal`` grant covers
it.  Every filter and sort on a personal-data field is refused (400) for a role that does not see
that field in clear, on the API and on the HTML list.

The clear values come from the database (the oracle); a value that also appears in a column that
is not personal data anywhere (a name that is also some organisation head's name, say) proves
nothing and is left out.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from generator import names
from generator.spec import AppSpec, Entity
from tests.app.conftest import api_auth, login, set_up_app
from tests.support.payloads import field_value

HASH = re.compile(r"(scrypt|pbkdf2):[^\"'<\s]{10,}")
PAGE = 25
SHOWS = 2


@pytest.fixture(scope="module")
def sweep_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with set_up_app(tmp_path_factory, "sweep") as app:
        yield app


def spec_of(app: Flask) -> AppSpec:
    return app.extensions["jiefen"].spec  # type: ignore[no-any-return]


def account_for(app: Flask, role: str) -> str | None:
    """The demo account of ``role`` that has the most to see: ``_t1s1``/``_t1`` where scoped."""
    sm = app.appbuilder.sm
    with app.app_context():
        for username in (f"{role}_t1s1", f"{role}_t1", role):
            user = sm.find_user(username)
            if user is not None and role in {r.name for r in user.roles}:
                return username
    return None


def allowed_clear(spec: AppSpec, role_name: str) -> set[tuple[str, str]]:
    """(entity, field) of personal data this role may see in clear on bulk surfaces: a record's
    name (the display field) where its reveal grant covers it."""
    role = spec.roles[role_name]
    out = set()
    for grant in role.reveal:
        ent_name, _, fld = grant.partition(".")
        ent = spec.entities.get(ent_name)
        if ent is None or not ent.display:
            continue
        f = ent.fields.get(ent.display)
        if f is not None and f.pii and fld in ("*", f.name):
            out.add((ent_name, f.name))
    return out


def clear_secrets(app: Flask) -> dict[str, set[tuple[str, str]]]:
    """Every stored personal-data value (as text) → the (entity, field) pairs holding it, minus
    values that also occur in a column that is not personal data."""
    spec = spec_of(app)
    models = app.extensions["jiefen"].models
    secret: dict[str, set[tuple[str, str]]] = {}
    public: set[str] = set()
    with app.app_context():
        session = app.appbuilder.sm.session
        for ent in spec.entities.values():
            model = models[ent.name]
            for f in ent.fields.values():
                if f.type in ("ref", "user", "boolean", "integer", "decimal"):
                    continue
                column = getattr(model, names.column_name(f.name, f.type))
                for value in session.execute(select(column).where(column.isnot(None)).distinct()).scalars():
                    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
                    if len(text.strip()) < 2:
                        continue
                    if f.pii:
                        secret.setdefault(text, set()).add((ent.name, f.name))
                    else:
                        public.add(text)
        user = app.appbuilder.sm.user_model
        for row in session.execute(select(user.username, user.first_name, user.last_name, user.email)):
            public.update(str(v) for v in row if v)
    return {k: v for k, v in secret.items() if k not in public and not any(k in p for p in public if len(p) < 200)}


def leaks(body: str, secrets: dict[str, set[tuple[str, str]]], allowed: set[tuple[str, str]]) -> list[str]:
    found = [f"password hash {m.group(0)[:16]}…" for m in HASH.finditer(body)]
    # Names this role may see go first: a two-character name inside an allowed three-character one
    # ("李平" in "李平安") is not a leak.
    shown = sorted((v for v, holders in secrets.items() if holders & allowed and v in body), key=len, reverse=True)
    for value in shown:
        body = body.replace(value, "\u25af")
    for value, holders in secrets.items():
        if value in body and not holders & allowed:
            found.append(f"{sorted(holders)[0]} = {value!r}")
    return found


def readable(spec: AppSpec, role: str) -> list[Entity]:
    r = spec.roles[role]
    return [e for e in spec.entities.values() if r.admin or "read" in r.actions_on(e.name)]


def post_payload(spec: AppSpec, ent: Entity, info: dict[str, Any]) -> dict[str, Any]:
    """A plausible new record: references the role's own pickers offer, other fields valid values."""
    picks = {c["name"]: c["values"][0]["id"] for c in info.get("add_columns", []) if c.get("values")}
    rng = random.Random(ent.name)
    out: dict[str, Any] = {}
    for f in ent.fields.values():
        if f.readonly:
            continue
        if f.type in ("ref", "user"):
            if f.name in picks:
                out[f.name] = picks[f.name]
            continue
        value = field_value(spec, f, rng, {}, api=True, tag="sweep")
        if value is not None:
            out[f.name] = value
    return out


def _roles() -> list[str]:
    from generator.pipeline import load
    from tests.app.conftest import ROOT

    result = load(str(ROOT / "config"))
    assert result.spec is not None
    return sorted(result.spec.roles)


@pytest.mark.parametrize("role", _roles())
def test_no_surface_leaks_personal_data_or_password_hashes(sweep_app: Flask, role: str) -> None:
    spec = spec_of(sweep_app)
    username = account_for(sweep_app, role)
    assert username is not None, f"no demo account for role {role}"
    secrets = _secrets(sweep_app)
    allowed = allowed_clear(spec, role)
    client = sweep_app.test_client()
    auth = api_auth(client, username)
    html = sweep_app.test_client()
    login(html, username)
    problems: list[str] = []
    visited = posted = 0

    def check(where: str, resp: Any) -> None:
        nonlocal visited
        visited += 1
        assert resp.status_code < 500, f"{role}: {where} → {resp.status_code}"
        for leak in leaks(resp.get_data(as_text=True), secrets, allowed):
            problems.append(f"{where}: {leak}")

    for ent in readable(spec, role):
        grants = spec.roles[role]
        actions = set(grants.actions_on(ent.name)) | ({"create", "update"} if grants.admin else set())
        base = f"/api/v1/{ent.name}/"
        resp = client.get(f"{base}?q=(page_size:{PAGE})", headers=auth)
        check(f"GET {base}", resp)
        ids = resp.get_json()["ids"][:SHOWS] if resp.status_code == 200 else []
        for pk in ids:
            check(f"GET {base}{pk}", client.get(f"{base}{pk}", headers=auth))
        info = client.get(f"{base}_info", headers=auth)
        check(f"GET {base}_info", info)
        if "update" in actions and ids:
            check(f"PUT {base}{ids[0]} {{}}", client.put(f"{base}{ids[0]}", json={}, headers=auth))
        if "create" in actions and info.status_code == 200:
            resp = client.post(base, json=post_payload(spec, ent, info.get_json()), headers=auth)
            check(f"POST {base}", resp)
            posted += resp.status_code == 201
        view = f"/{names.view_class(ent.name).lower()}"
        check(f"GET {view}/list/", html.get(f"{view}/list/"))
        for pk in ids[:1]:
            check(f"GET {view}/show/{pk}", html.get(f"{view}/show/{pk}"))
    assert visited > 0
    assert not problems, f"{role} ({username}): {len(problems)} leaks, e.g.\n" + "\n".join(problems[:15])


@pytest.mark.parametrize("role", _roles())
def test_filters_and_sorts_on_personal_data_are_refused_unless_seen_in_clear(sweep_app: Flask, role: str) -> None:
    spec = spec_of(sweep_app)
    username = account_for(sweep_app, role)
    assert username is not None
    client = sweep_app.test_client()
    auth = api_auth(client, username)
    html = sweep_app.test_client()
    login(html, username)
    clear = allowed_clear(spec, role) | _revealable(spec, role)
    tried = 0
    wrong: list[str] = []
    for ent in readable(spec, role):
        base = f"/api/v1/{ent.name}/"
        view_class = names.view_class(ent.name)
        view = f"/{view_class.lower()}"
        searchable = set(ent.search) | set(ent.filters)
        sortable = set(ent.list)
        for f in ent.pii_fields:
            if (ent.name, f.name) in clear:
                continue
            probes = []
            if f.name in searchable:
                probes += [("API filter sw", client, f"{base}?q=(filters:!((col:{f.name},opr:sw,value:'1')))"),
                           ("API filter eq", client, f"{base}?q=(filters:!((col:{f.name},opr:eq,value:'1')))"),
                           ("HTML filter", html, f"{view}/list/?_flt_0_{f.name}=1")]
            if f.name in sortable:
                probes += [("API sort", client, f"{base}?q=(order_column:{f.name},order_direction:asc)"),
                           ("HTML sort", html, f"{view}/list/?_oc_{view_class}={f.name}&_od_{view_class}=asc")]
            for what, who, url in probes:
                tried += 1
                status = who.get(url, headers=auth if who is client else None).status_code
                if status != 400:
                    wrong.append(f"{what} {ent.name}.{f.name} → {status}")
    assert not wrong, f"{role}: " + "; ".join(wrong[:20])
    if role == "court_liaison":  # the review's example: party names filtered one prefix at a time
        assert tried > 0, f"{role}: the sweep found no personal-data filter or sort to try"


def _revealable(spec: AppSpec, role_name: str) -> set[tuple[str, str]]:
    """Every personal-data field the role may reveal (it may filter and sort by those)."""
    out = set()
    for grant in spec.roles[role_name].reveal:
        ent_name, _, fld = grant.partition(".")
        ent = spec.entities.get(ent_name)
        if ent is not None:
            out |= {(ent_name, f.name) for f in ent.pii_fields if fld in ("*", f.name)}
    return out


_SECRETS: dict[int, dict[str, set[tuple[str, str]]]] = {}


def _secrets(app: Flask) -> dict[str, set[tuple[str, str]]]:
    """The oracle, read once per app (before the sweep's POSTs add their own, public, values)."""
    key = id(app)
    if key not in _SECRETS:
        _SECRETS[key] = clear_secrets(app)
        assert len(_SECRETS[key]) > 100, "the demo should hold plenty of personal data to look for"
    return _SECRETS[key]


def test_the_sweep_detects_a_leak() -> None:
    """The detector itself: a hash, a clear value and an allowed name."""
    secrets = {"420222198409149614": {("party", "id_no")}, "李艳": {("party", "name")}}
    body = json.dumps({"a": "420222198409149614", "b": "李艳", "u": {"password": "scrypt:32768:8:1$abcdefghijk"}},
                      ensure_ascii=False)
    found = leaks(body, secrets, allowed={("party", "name")})
    assert any("id_no" in f for f in found) and any("hash" in f for f in found)
    assert not any("name" in f for f in found)
    # a forbidden two-character name inside an allowed longer one is not reported
    assert leaks("李艳华", {"李艳华": {("party", "name")}, "李艳": {("mediator", "name")}}, {("party", "name")}) == []
    assert leaks("李艳华 李艳", {"李艳华": {("party", "name")}, "李艳": {("mediator", "name")}},
                 {("party", "name")}) == ["('mediator', 'name') = '李艳'"]


# ---------------------------------------------------------------------- every other page and API
SKIP_ENDPOINTS = {"static", "appbuilder.static", "AuthDBView.logout", "AuthDBView.login", "LocaleView.index",
                  "UtilView.back", "SwaggerView.show", "OpenApi.get"}


def _get_routes(app: Flask) -> list[str]:
    """Every GET URL of the app that takes no argument, or only a record id (filled with the id of
    a row the demo has: the first case, the first organisation...)."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in SKIP_ENDPOINTS:
            continue
        if not rule.arguments:
            out.append(rule.rule)
    return sorted(set(out))


def _body_text(resp: Any) -> str:
    """What a reader gets: the text of a page or JSON, or every cell of a spreadsheet."""
    if resp.mimetype and "spreadsheetml" in resp.mimetype:
        import io

        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(resp.get_data()), read_only=True)
        return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
                         if c is not None)
    return resp.get_data(as_text=True)


@pytest.mark.parametrize("role", _roles())
def test_no_page_or_export_of_the_app_leaks_either(sweep_app: Flask, role: str) -> None:
    """Beyond the generated CRUD: the home page, 待我处理 / overdue / funnel (pages and API), the 五有
    board, coverage, due list and their Excel files, the list exports, the audit log — every GET
    route without arguments — as every role."""
    spec = spec_of(sweep_app)
    username = account_for(sweep_app, role)
    assert username is not None
    secrets = _secrets(sweep_app)
    allowed = allowed_clear(spec, role)
    html = sweep_app.test_client()
    login(html, username)
    client = sweep_app.test_client()
    auth = api_auth(client, username)
    problems: list[str] = []
    answered = 0
    for url in _get_routes(sweep_app):
        resp = client.get(url, headers=auth) if url.startswith("/api/") else html.get(url)
        assert resp.status_code < 500, f"{role}: GET {url} → {resp.status_code}"
        if resp.status_code != 200:
            continue
        answered += 1
        for leak in leaks(_body_text(resp), secrets, allowed):
            problems.append(f"GET {url}: {leak}")
    assert answered > 3, f"{role}: only {answered} pages answered"
    assert not problems, f"{role} ({username}): {len(problems)} leaks, e.g.\n" + "\n".join(problems[:15])
