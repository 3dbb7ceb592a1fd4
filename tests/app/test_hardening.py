"""Issue "hardening": lockout, sessions that end, JWT revocation, CSRF, headers, safe next,
password policy, the empty Public role, error pages and ``flask check-deploy``.

Most tests use the shared demo app with accounts of their own (``new_user``), so the lockout
never touches the demo accounts other tests log in with.  ``strict_app`` is a second app on a
fresh database without demo data: CSRF on, two routes that raise, production-like settings for
``check-deploy``.  Time is moved by replacing ``app.hardening.clock.now``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import uuid
from typing import Any, Iterator
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.hardening import clock, passwords
from tests.support.database import private_database

from .conftest import PASSWORD, ROOT, api_auth, csrf_token, dispose, login, make_app, run_setup

NEW_PASSWORD = "Neu#Pass2027"


# ---------------------------------------------------------------- helpers
def new_user(app: Flask, role: str | None = None, password: str = PASSWORD) -> tuple[str, int]:
    """A fresh account (admin role unless ``role``): its username and id."""
    name = "hz" + uuid.uuid4().hex[:10]
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(name, "Hz", "Test", f"{name}@example.invalid",
                           sm.find_role(role or sm.auth_role_admin), password=password)
        assert user, "add_user failed"
        return name, user.id


def audit_events(app: Flask, username: str) -> list[str]:
    with app.app_context():
        t = app.extensions["jiefen"].audit_log.__table__
        rows = app.appbuilder.sm.session.execute(select(t.c.event).where(t.c.username == username)
                                                 .order_by(t.c.id)).scalars().all()
        app.appbuilder.sm.session.rollback()
        return list(rows)


def flashes(client: FlaskClient) -> list[tuple[str, str]]:
    with client.session_transaction() as sess:
        return list(sess.get("_flashes", []))


def form_login(client: FlaskClient, username: str, password: str, next_: str | None = None) -> Any:
    url = "/login/" + (f"?next={quote(next_, safe='')}" if next_ is not None else "")
    return client.post(url, data={"username": username, "password": password})


def api_login(client: FlaskClient, username: str, password: str) -> Any:
    return client.post("/api/v1/security/login", json={"username": username, "password": password,
                                                       "provider": "db"})


@pytest.fixture()
def shift(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``shift(minutes)`` moves the security clock forward from the real time."""
    real = clock.now

    def move(minutes: float) -> None:
        monkeypatch.setattr(clock, "now", lambda: real() + dt.timedelta(minutes=minutes))
    return move


def entity_list(app: Flask) -> tuple[str, str]:
    """An HTML list URL and an API list URL of a generated entity."""
    from .test_crud_generated import view_url

    return f"{view_url(app, 'employer')}/list/", "/api/v1/employer/"


# ---------------------------------------------------------------- 1. lockout
def test_form_lockout_after_five_failures_unknown_user_identical(demo_app: Flask, shift: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import flask_appbuilder.security.manager as fab_manager

    from app.hardening import auth as hz_auth

    hashed: list[str] = []
    real_check = fab_manager.check_password_hash

    def counting(*args: Any, **kw: Any) -> bool:
        hashed.append("x")
        return real_check(*args, **kw)
    monkeypatch.setattr(fab_manager, "check_password_hash", counting)
    monkeypatch.setattr(hz_auth, "check_password_hash", counting)

    real, _ = new_user(demo_app)
    ghost = "nobody" + uuid.uuid4().hex[:8]
    for attempt in range(5):
        answers = []
        for name in (real, ghost):
            client = demo_app.test_client()
            hashed.clear()
            resp = form_login(client, name, "Wrong#Pass1")
            answers.append((resp.status_code, resp.headers["Location"], flashes(client), len(hashed)))
        assert answers[0] == answers[1], f"attempt {attempt + 1}: {answers}"
        status, location, msgs, hashes = answers[0]
        assert status == 302 and "/login/" in location and hashes == 1  # the hasher ran for both
        assert msgs and "locked" not in str(msgs) and "锁定" not in str(msgs)
    # the 6th attempt, right password: refused, and said so the same way for the unknown name
    answers = []
    for name, password in ((real, PASSWORD), (ghost, PASSWORD)):
        client = demo_app.test_client()
        resp = form_login(client, name, password)
        answers.append((resp.status_code, resp.headers["Location"], flashes(client)))
        assert client.get("/users/userinfo/").status_code == 302  # not signed in
    assert answers[0] == answers[1]
    assert "锁定" in answers[0][2][0][1] and "15" in answers[0][2][0][1]
    events = audit_events(demo_app, real)
    assert events.count("login_failed") == 6 and events.count("lockout") == 1 and "login" not in events
    assert "lockout" in audit_events(demo_app, ghost)
    # 16 minutes later the lock is over
    shift(16)
    login(demo_app.test_client(), real)
    assert audit_events(demo_app, real)[-1] == "login"


def test_failures_outside_the_window_do_not_lock(demo_app: Flask, shift: Any) -> None:
    name, _ = new_user(demo_app)
    for _ in range(4):
        form_login(demo_app.test_client(), name, "Wrong#Pass1")
    shift(16)  # the 15-minute window has passed: the count starts again
    for _ in range(4):
        form_login(demo_app.test_client(), name, "Wrong#Pass1")
    login(demo_app.test_client(), name)
    # success forgets the failures
    for _ in range(4):
        form_login(demo_app.test_client(), name, "Wrong#Pass1")
    login(demo_app.test_client(), name)


def test_api_login_lockout_answers_429_and_401_like_fab(demo_app: Flask, shift: Any) -> None:
    real, _ = new_user(demo_app)
    ghost = "nobody" + uuid.uuid4().hex[:8]
    client = demo_app.test_client()
    for _ in range(5):
        a, b = api_login(client, real, "Wrong#Pass1"), api_login(client, ghost, "Wrong#Pass1")
        assert (a.status_code, a.get_data()) == (b.status_code, b.get_data())
        assert a.status_code == 401
    a, b = api_login(client, real, PASSWORD), api_login(client, ghost, PASSWORD)
    assert a.status_code == b.status_code == 429 and a.get_data() == b.get_data()
    assert "access_token" not in a.get_json()
    assert "lockout" in audit_events(demo_app, real)
    shift(16)
    assert api_login(client, real, PASSWORD).status_code == 200


# ---------------------------------------------------------------- 2. sessions
def test_copied_cookie_is_dead_after_logout(demo_app: Flask) -> None:
    name, _ = new_user(demo_app)
    html_url, api_url = entity_list(demo_app)
    client = demo_app.test_client()
    login(client, name)
    cookie = client.get_cookie("session").value
    thief = demo_app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/users/list/").status_code == 200  # the copy works while the session lives
    assert thief.get(api_url).status_code == 200
    resp = client.post("/logout/")
    assert resp.status_code == 302
    assert client.get("/users/list/").status_code == 302
    replay = demo_app.test_client()
    replay.set_cookie("session", cookie)
    resp = replay.get("/users/list/")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]
    replay.set_cookie("session", cookie)
    resp = replay.get(api_url)
    assert resp.status_code == 401 and resp.is_json
    replay.set_cookie("session", cookie)
    assert replay.get(html_url).status_code == 302
    assert "logout" in audit_events(demo_app, name) and "login" in audit_events(demo_app, name)


def test_session_without_server_record_is_refused(demo_app: Flask) -> None:
    """A cookie forged with the secret but no sid (e.g. FAB's own login_user) is not a session."""
    name, uid = new_user(demo_app)
    client = demo_app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(uid)
        sess["_fresh"] = True
    resp = client.get("/users/userinfo/")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]


def test_idle_and_absolute_timeouts(demo_app: Flask, shift: Any) -> None:
    name, _ = new_user(demo_app)
    _, api_url = entity_list(demo_app)
    client = demo_app.test_client()
    login(client, name)
    shift(29)
    assert client.get("/users/userinfo/").status_code == 200  # active: last_seen moves on
    shift(29 + 29)
    assert client.get("/users/userinfo/").status_code == 200
    shift(29 + 29 + 31)  # idle 31 minutes
    resp = client.get("/users/userinfo/")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]
    assert client.get("/users/userinfo/").status_code == 302  # logged out for good
    # API with the cookie: 401 JSON
    client2 = demo_app.test_client()
    login(client2, name)
    shift(29 + 29 + 31 + 31)
    resp = client2.get(api_url)
    assert resp.status_code == 401 and resp.is_json
    # absolute limit: active every 20 minutes, still out after 12 hours
    client3 = demo_app.test_client()
    shift(0)
    login(client3, name)
    minutes = 0
    while minutes < 12 * 60 - 20:
        minutes += 20
        shift(minutes)
        assert client3.get("/users/userinfo/").status_code == 200, minutes
    shift(12 * 60 + 5)
    assert client3.get("/users/userinfo/").status_code == 302


def test_password_reset_by_admin_revokes_sessions_and_jwts(demo_app: Flask, admin_client: FlaskClient) -> None:
    name, uid = new_user(demo_app)
    _, api_url = entity_list(demo_app)
    browser = demo_app.test_client()
    login(browser, name)
    api = demo_app.test_client()
    token = api_auth(api, name)
    assert api.get(api_url, headers=token).status_code == 200
    assert browser.get("/users/userinfo/").status_code == 200
    resp = admin_client.post(f"/resetpassword/form?pk={uid}", data={"password": NEW_PASSWORD,
                                                                    "conf_password": NEW_PASSWORD})
    assert resp.status_code == 302
    assert browser.get("/users/userinfo/").status_code == 302
    resp = api.get(api_url, headers=token)
    assert resp.status_code == 401
    fresh = api_auth(demo_app.test_client(), name, NEW_PASSWORD)  # issued after the change: fine
    assert api.get(api_url, headers=fresh).status_code == 200
    assert admin_client.get("/users/list/").status_code == 200  # the admin's own session untouched


def test_own_password_change_keeps_this_browser_ends_the_others(demo_app: Flask) -> None:
    name, _ = new_user(demo_app)
    here, other = demo_app.test_client(), demo_app.test_client()
    login(here, name)
    login(other, name)
    old_sid = _sid(here)
    resp = here.post("/resetmypassword/form", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert resp.status_code == 302
    assert here.get("/users/userinfo/").status_code == 200 and _sid(here) != old_sid
    assert other.get("/users/userinfo/").status_code == 302
    login(demo_app.test_client(), name, NEW_PASSWORD)


def test_deactivating_a_user_ends_their_sessions(demo_app: Flask) -> None:
    name, uid = new_user(demo_app)
    client = demo_app.test_client()
    login(client, name)
    token = api_auth(demo_app.test_client(), name)
    with demo_app.app_context():
        sm = demo_app.appbuilder.sm
        user = sm.get_user_by_id(uid)
        user.active = False
        sm.update_user(user)
        user.active = True  # reactivated: the old session and token stay dead
        sm.update_user(user)
    assert client.get("/users/userinfo/").status_code == 302
    assert demo_app.test_client().get("/api/v1/employer/", headers=token).status_code == 401


def _sid(client: FlaskClient) -> str:
    with client.session_transaction() as sess:
        return str(sess.get("_jf_sid"))


def test_jwt_logout_blocklists_the_token(demo_app: Flask) -> None:
    name, _ = new_user(demo_app)
    client = demo_app.test_client()
    token = api_auth(client, name)
    other = api_auth(client, name)
    assert client.get("/api/v1/employer/", headers=token).status_code == 200
    assert client.post("/api/v1/security/logout", headers=token).status_code == 200
    assert client.get("/api/v1/employer/", headers=token).status_code == 401
    assert client.post("/api/v1/security/logout", headers=token).status_code == 401
    assert client.get("/api/v1/employer/", headers=other).status_code == 200  # only that token
    assert demo_app.test_client().post("/api/v1/security/logout").status_code == 401


def test_refresh_token_dies_with_a_password_change(demo_app: Flask, admin_client: FlaskClient) -> None:
    name, uid = new_user(demo_app)
    client = demo_app.test_client()
    resp = client.post("/api/v1/security/login", json={"username": name, "password": PASSWORD,
                                                       "provider": "db", "refresh": True})
    refresh = {"Authorization": f"Bearer {resp.get_json()['refresh_token']}"}
    assert client.post("/api/v1/security/refresh", headers=refresh).status_code == 200
    admin_client.post(f"/resetpassword/form?pk={uid}", data={"password": NEW_PASSWORD,
                                                             "conf_password": NEW_PASSWORD})
    assert client.post("/api/v1/security/refresh", headers=refresh).status_code == 401


def test_login_sets_a_new_session_no_fixation_and_safe_cookie_flags(demo_app: Flask) -> None:
    name, _ = new_user(demo_app)
    client = demo_app.test_client()
    client.get("/login/")
    with client.session_transaction() as sess:
        sess["_jf_sid"] = "planted-by-attacker"
        sess["planted"] = "x"
    resp = form_login(client, name, PASSWORD)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.session_transaction() as sess:
        assert sess["_jf_sid"] != "planted-by-attacker" and "planted" not in sess
    first = _sid(client)
    client.post("/logout/")
    login(client, name)
    assert _sid(client) != first


def test_cookie_settings_secure_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import settings

    dev = settings.flask_config()
    for prefix in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        assert dev[f"{prefix}_HTTPONLY"] is True and dev[f"{prefix}_SAMESITE"] == "Lax"
    monkeypatch.setenv("APP_ENV", "production")
    prod = settings.flask_config()
    assert prod["SESSION_COOKIE_SECURE"] is True and prod["REMEMBER_COOKIE_SECURE"] is True
    assert prod["IDLE_TIMEOUT_MINUTES"] == 30


# ---------------------------------------------------------------- 3. CSRF
def test_cookie_api_writes_need_a_same_site_origin(demo_app: Flask, admin_client: FlaskClient) -> None:
    with demo_app.app_context():
        model = demo_app.extensions["jiefen"].models["employer"]
        session = demo_app.appbuilder.sm.session
        before = session.execute(select(func.count()).select_from(model)).scalar_one()
        session.rollback()
    url = "/api/v1/employer/"
    for headers in ({}, {"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Referer": "https://evil.example/x"}, {"Origin": "http://localhost.evil.example"},
                    {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"},
                    {"Origin": "http://[::1"}, {"Origin": "\x00\xff"}, {"Referer": "//localhost/"}):
        for method in ("post", "put", "delete"):
            target = url if method == "post" else f"{url}1"
            resp = getattr(admin_client, method)(target, json={"name": "x"}, headers=headers)
            assert resp.status_code == 403, (method, headers, resp.status_code)
            assert "Access-Control-Allow-Origin" not in resp.headers
    with demo_app.app_context():
        assert session.execute(select(func.count()).select_from(model)).scalar_one() == before
        session.rollback()
    # same site: the origin check lets it through (the API then validates the body: not 403)
    for headers in ({"Origin": "http://localhost"}, {"Referer": "http://localhost/employerview/list/"}):
        assert admin_client.post(url, json={}, headers=headers).status_code not in (401, 403)
    # a JWT is not a cookie: no Origin needed
    client = demo_app.test_client()
    token = api_auth(client)
    assert client.post(url, json={}, headers={**token, "Origin": "https://evil.example"}).status_code != 403
    # reads are not affected
    assert admin_client.get(url, headers={"Origin": "https://evil.example"}).status_code == 200


# ---------------------------------------------------------------- 4. headers
def test_security_headers_on_every_kind_of_response(demo_app: Flask, admin_client: FlaskClient) -> None:
    html_url, api_url = entity_list(demo_app)
    anon = demo_app.test_client()
    responses = {
        "login": anon.get("/login/"), "list": admin_client.get(html_url), "api": admin_client.get(api_url),
        "static": anon.get("/static/appbuilder/css/bootstrap.min.css"), "404": anon.get("/no/such/page"),
        "redirect": anon.get(html_url),
    }
    for kind, resp in responses.items():
        h = resp.headers
        assert h["X-Content-Type-Options"] == "nosniff", kind
        assert h["X-Frame-Options"] == "DENY", kind
        assert h["Referrer-Policy"] == "same-origin", kind
        assert "camera=()" in h["Permissions-Policy"], kind
        csp = h["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, kind
        assert not re.search(r"https?:|\*|//", csp), csp  # no other host
    assert responses["list"].headers["Cache-Control"] == "no-store"
    assert "no-store" not in responses["static"].headers.get("Cache-Control", "")


# ---------------------------------------------------------------- 5. next=
HOSTILE = ["//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "\\/evil.com", "javascript:alert(1)",
           "http:evil.com", "%2F%2Fevil.com", "///evil.com", "/%5Cevil.com", "/%2F/evil.com", "\t//evil.com",
           "\n//evil.com", "/\t/evil.com", " //evil.com", "ftp://x", "http:///x", "\x01evil.com",
           "https://localhost.evil.com/", "http://evil.com@localhost.evil.com/", "data:text/html,<script>"]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_next_lands_on_the_index(demo_app: Flask, target: str) -> None:
    client = demo_app.test_client()
    resp = form_login(client, "admin", PASSWORD, next_=target)
    assert resp.status_code == 302 and resp.headers["Location"] == "/", resp.headers["Location"]
    # already signed in: GET /login/?next=... redirects the same way
    resp = client.get(f"/login/?next={quote(target, safe='')}")
    assert resp.headers["Location"] == "/"


def test_local_next_is_honoured(demo_app: Flask) -> None:
    for target, expected in (("/users/list/?_flt_0_username=a", "/users/list/?_flt_0_username=a"),
                             ("http://localhost/users/userinfo/", "/users/userinfo/")):
        resp = form_login(demo_app.test_client(), "admin", PASSWORD, next_=target)
        assert resp.headers["Location"] == expected
    # FAB's own redirect of an anonymous page view round-trips
    anon = demo_app.test_client()
    to_login = anon.get("/users/list/").headers["Location"]
    resp = anon.post(to_login, data={"username": "admin", "password": PASSWORD})
    assert resp.headers["Location"] == "/users/list/"


# ---------------------------------------------------------------- 6. passwords
def test_password_policy_rules() -> None:
    assert passwords.acceptable("Demo@2026")
    assert passwords.acceptable("abcdef1!")          # lower, digit, symbol
    assert passwords.acceptable("ABCDEFg1")          # upper, lower, digit
    assert not passwords.acceptable("Ab1!xyz")       # 7 characters
    assert not passwords.acceptable("abcdefgh1")     # two classes
    assert not passwords.acceptable("ABCDEFGH!")     # two classes
    assert not passwords.acceptable("Zhangsan#2026", "zhangsan")
    assert passwords.acceptable("Zhangsan#2026", "lisi")
    assert not passwords.acceptable("")


def test_password_policy_in_forms(demo_app: Flask, admin_client: FlaskClient) -> None:
    name, uid = new_user(demo_app)
    for bad in ("short1A", "alllowercase", f"{name.upper()}#1x"):
        resp = admin_client.post(f"/resetpassword/form?pk={uid}", data={"password": bad, "conf_password": bad})
        assert resp.status_code == 200 and "密码至少 8 位" in resp.get_data(as_text=True), bad
    login(demo_app.test_client(), name)  # unchanged
    admin_client.get("/lang/en")
    try:
        resp = admin_client.post(f"/resetpassword/form?pk={uid}", data={"password": "x", "conf_password": "x"})
        assert "at least 8 characters" in resp.get_data(as_text=True)
    finally:
        admin_client.get("/lang/zh")
    # own change and user creation use the same policy
    client = demo_app.test_client()
    login(client, name)
    resp = client.post("/resetmypassword/form", data={"password": f"My{name}!9", "conf_password": f"My{name}!9"})
    assert resp.status_code == 200 and "不得包含用户名" in resp.get_data(as_text=True)
    newname = "hz" + uuid.uuid4().hex[:8]
    with demo_app.app_context():
        role_id = demo_app.appbuilder.sm.find_role("mediator").id
    resp = admin_client.post("/users/add", data={"first_name": "A", "last_name": "B", "username": newname,
                                                 "email": f"{newname}@example.invalid", "active": "y",
                                                 "roles": str(role_id), "password": "weakpass",
                                                 "conf_password": "weakpass"})
    assert resp.status_code == 200 and "密码至少 8 位" in resp.get_data(as_text=True)
    with demo_app.app_context():
        assert demo_app.appbuilder.sm.find_user(username=newname) is None


# ---------------------------------------------------------------- 7. Public role
def test_public_role_has_no_permissions_and_anonymous_gets_nothing(demo_app: Flask) -> None:
    with demo_app.app_context():
        sm = demo_app.appbuilder.sm
        assert sm.find_role(sm.auth_role_public).permissions == []
        views = [v.route_base for v in demo_app.appbuilder.baseviews
                 if hasattr(v, "datamodel") and v.route_base and not v.route_base.startswith("/api/")]
        apis = [v.route_base for v in demo_app.appbuilder.baseviews
                if getattr(v, "resource_name", None) and v.route_base.startswith("/api/v1/")
                and v.resource_name not in ("security", "menu", "openapi")
                and any(r.rule == v.route_base + "/" for r in demo_app.url_map.iter_rules())]
    assert len(views) > 20 and len(apis) > 20
    anon = demo_app.test_client()
    for base in views:
        resp = anon.get(f"{base}/list/")
        assert resp.status_code == 302 and "/login/" in resp.headers["Location"], base
    for base in apis:
        assert anon.get(f"{base}/").status_code == 401, base
    assert anon.get("/users/userinfo/").status_code == 302
    for path in ("/api/v1/_openapi", "/api/v1/menu/"):
        assert anon.get(path).status_code == 401, path


def test_fab_raw_permission_pages_stay_hidden(admin_client: FlaskClient) -> None:
    for path in ("/permissions/list/", "/viewmenus/list/", "/permissionviews/list/"):
        assert admin_client.get(path).status_code == 404, path
    html = admin_client.get("/users/list/").get_data(as_text=True)
    assert "/permissions/list/" not in html and "/viewmenus/list/" not in html


# ---------------------------------------------------------------- strict app (fresh DB, CSRF on)
@pytest.fixture(scope="module")
def strict_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with private_database(tmp_path_factory.mktemp("strict")) as uri:
        app = make_app(uri, WTF_CSRF_ENABLED=True)

        @app.route("/jf-test-boom")
        def boom() -> str:
            raise RuntimeError("secret detail: password=hunter2")

        @app.route("/api/v1/jf-test-boom")
        def api_boom() -> str:
            raise KeyError("secret detail")

        run_setup(app, "--no-demo")
        with app.app_context():
            sm = app.appbuilder.sm
            sm.add_user("admin", "A", "B", "admin@example.invalid", sm.find_role(sm.auth_role_admin),
                        password=PASSWORD)
            sm.add_user("clerk", "C", "D", "clerk@example.invalid", sm.find_role("mediator"), password=PASSWORD)
        app.config["TEST_DB_URI"] = uri
        yield app
        with app.app_context():
            app.appbuilder.sm.session.remove()
            app.appbuilder.sm.session.get_bind().dispose()


def strict_login(client: FlaskClient, username: str = "admin") -> None:
    token = csrf_token(client.get("/login/").get_data(as_text=True))
    resp = client.post("/login/", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]


def test_form_posts_without_csrf_token_are_refused(strict_app: Flask) -> None:
    client = strict_app.test_client()
    resp = client.post("/login/", data={"username": "admin", "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/users/userinfo/").status_code == 302  # not signed in
    strict_login(client)
    resp = client.post("/resetmypassword/form", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert resp.status_code == 400
    login_again = strict_app.test_client()
    strict_login(login_again)  # the password did not change


@pytest.mark.parametrize("debug", [False, True])
def test_unhandled_exception_gives_a_generic_500_with_incident(strict_app: Flask, debug: bool,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    strict_app.debug = debug
    try:
        client = strict_app.test_client()
        resp = client.get("/jf-test-boom")
        body = resp.get_data(as_text=True)
        assert resp.status_code == 500 and resp.mimetype == "text/html"
        assert "出错了" in body and "事件编号" in body
        assert "Traceback" not in body and "secret" not in body and "RuntimeError" not in body
        incident = re.search(r'class="incident">([0-9a-f]{12})<', body).group(1)  # type: ignore[union-attr]
        logged = [r for r in caplog.records if incident in r.getMessage()]
        assert logged and logged[0].exc_info and "secret detail" in str(logged[0].exc_info[1])
        resp = client.get("/api/v1/jf-test-boom")
        data = resp.get_json()
        assert resp.status_code == 500 and set(data) == {"message", "incident"} and "secret" not in str(data)
        client.get("/lang/en")
        assert "Something went wrong" in client.get("/jf-test-boom").get_data(as_text=True)
    finally:
        strict_app.debug = False


def test_404_and_403_pages_in_chinese(strict_app: Flask) -> None:
    client = strict_app.test_client()
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and "页面不存在" in resp.get_data(as_text=True)
    resp = client.get("/api/v1/no_such_thing/")
    assert resp.status_code == 404 and resp.is_json and "message" in resp.get_json()
    strict_login(client, "clerk")
    resp = client.get("/users/list/")
    assert resp.status_code == 403 and "无权访问" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- 9. check-deploy
def sqlite_warning(app: Flask) -> bool:
    """deploy.W001 (SQLite in production) applies only when the suite runs on SQLite."""
    return str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite")


def test_check_deploy_lists_every_problem(demo_app: Flask) -> None:
    result = demo_app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 1, result.output
    for code in ("deploy.E001", "deploy.E004", "deploy.E005"):
        assert code in result.output, code
    assert ("deploy.W001" in result.output) == sqlite_warning(demo_app)
    assert "deploy.E002" not in result.output and "deploy.E006" not in result.output


def test_check_deploy_passes_a_safe_production_config(strict_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = dict(strict_app.config)
    strict_app.config.update(APP_ENV="production", SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    try:
        result = strict_app.test_cli_runner().invoke(args=["check-deploy"])
        assert result.exit_code == 0, result.output
        assert ("deploy.W001" in result.output) == sqlite_warning(strict_app) and "deploy.E" not in result.output
        strict_app.config.update(SECRET_KEY="short", WTF_CSRF_ENABLED=False)
        monkeypatch.setenv("FLASK_DEBUG", "1")  # the flask CLI sets app.debug from it
        result = strict_app.test_cli_runner().invoke(args=["check-deploy"])
        assert result.exit_code == 1
        assert all(c in result.output for c in ("deploy.E002", "deploy.E003", "deploy.E007")), result.output
        strict_app.config.update(saved)
        monkeypatch.delenv("FLASK_DEBUG")
        strict_app.config.update(APP_ENV="production", SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
        with strict_app.app_context():
            sm = strict_app.appbuilder.sm
            pv = sm.find_permission_view_menu("can_list", "UserDBModelView")
            public = sm.find_role(sm.auth_role_public)
            sm.add_permission_role(public, pv)
        try:
            result = strict_app.test_cli_runner().invoke(args=["check-deploy"])
            assert result.exit_code == 1 and "deploy.E006" in result.output and "can_list" in result.output
        finally:
            with strict_app.app_context():
                sm = strict_app.appbuilder.sm
                sm.del_permission_role(sm.find_role(sm.auth_role_public),
                                       sm.find_permission_view_menu("can_list", "UserDBModelView"))
    finally:
        strict_app.config.clear()
        strict_app.config.update(saved)


def test_flask_check_deploy_command_line_starts_despite_refusals(strict_app: Flask) -> None:
    """Production with a short key would refuse to start; check-deploy still lists it."""
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "short",
           "DATABASE_URL": strict_app.config["TEST_DB_URI"], "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("FLASK_DEBUG", None)
    flask = [sys.executable, "-m", "flask", "--app", "app", "check-deploy"]
    out = subprocess.run(flask, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "deploy.E002" in out.stdout and "ProductionRefused" not in out.stderr
    assert ("deploy.W001" in out.stdout) == sqlite_warning(strict_app)
    env["SECRET_KEY"] = "s" * 48
    out = subprocess.run(flask, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr


def test_location_helper_never_leaves_the_site() -> None:
    """``safe_next`` on its own, inside a request on host ``localhost``."""
    from flask import Flask as _F

    from app.hardening.redirects import is_safe

    app = _F(__name__)
    with app.test_request_context("/", base_url="http://localhost"):
        for target in HOSTILE:
            assert not is_safe(target), target
        for target in ("/", "/case/12", "/x?next=//evil.com", "http://localhost/a"):
            assert is_safe(target), target
        assert urlsplit("/case/12").netloc == ""


# ---------------------------------------------------------------- 10. issue #11: logout, refresh tokens, keys, origin
def test_get_logout_asks_and_only_a_post_logs_out(demo_app: Flask) -> None:
    name, _ = new_user(demo_app)
    client = demo_app.test_client()
    login(client, name)
    page = client.get("/logout/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and re.search(r'<form[^>]*method="post"[^>]*action="/logout/"', html), html[:300]
    assert client.get("/users/userinfo/").status_code == 200  # a link (or an <img>) does not log out
    assert "logout" not in audit_events(demo_app, name)
    resp = client.post("/logout/")
    assert resp.status_code == 302
    assert client.get("/users/userinfo/").status_code == 302
    assert "logout" in audit_events(demo_app, name)
    # nobody signed in: the confirmation page leads to the login page
    assert "/login/" in demo_app.test_client().get("/logout/").headers.get("Location", "")


def test_navbar_logs_out_with_a_form_post_carrying_the_csrf_token(strict_app: Flask) -> None:
    client = strict_app.test_client()
    strict_login(client)
    html = client.get("/users/userinfo/").get_data(as_text=True)
    assert 'href="/logout/"' not in html
    form = re.search(r'<form[^>]*action="/logout/".*?</form>', html, re.S)
    assert form and 'method="post"' in form.group(0) and 'name="csrf_token"' in form.group(0)
    assert "<script" not in form.group(0) and "onclick" not in form.group(0)  # CSP: no inline script needed
    assert client.post("/logout/").status_code == 400  # no token: refused, still signed in
    assert client.get("/users/userinfo/").status_code == 200
    resp = client.post("/logout/", data={"csrf_token": csrf_token(form.group(0))})
    assert resp.status_code == 302
    assert client.get("/users/userinfo/").status_code == 302


def _login_with_refresh(client: FlaskClient, name: str) -> tuple[dict[str, str], dict[str, str]]:
    body = api_login_refresh(client, name).get_json()
    return ({"Authorization": f"Bearer {body['access_token']}"},
            {"Authorization": f"Bearer {body['refresh_token']}"})


def api_login_refresh(client: FlaskClient, name: str) -> Any:
    resp = client.post("/api/v1/security/login", json={"username": name, "password": PASSWORD,
                                                       "provider": "db", "refresh": True})
    assert resp.status_code == 200
    return resp


def test_logout_revokes_the_refresh_token_of_the_same_login(demo_app: Flask) -> None:
    name, _ = new_user(demo_app)
    client = demo_app.test_client()
    access, refresh = _login_with_refresh(client, name)
    other_access, other_refresh = _login_with_refresh(client, name)  # a second device
    assert client.post("/api/v1/security/refresh", headers=refresh).status_code == 200
    assert client.post("/api/v1/security/logout", headers=access).status_code == 200
    resp = client.post("/api/v1/security/refresh", headers=refresh)
    assert resp.status_code == 401, resp.get_data(as_text=True)
    assert client.get("/api/v1/employer/", headers=access).status_code == 401
    # the other login is untouched
    assert client.post("/api/v1/security/refresh", headers=other_refresh).status_code == 200
    assert client.get("/api/v1/employer/", headers=other_access).status_code == 200
    # a client whose access token has expired logs out with its refresh token: both die
    renewed = client.post("/api/v1/security/refresh", headers=other_refresh).get_json()["access_token"]
    assert client.post("/api/v1/security/logout", headers=other_refresh).status_code == 200
    assert client.post("/api/v1/security/refresh", headers=other_refresh).status_code == 401
    assert client.get("/api/v1/employer/", headers=other_access).status_code == 401
    assert client.get("/api/v1/employer/", headers={"Authorization": f"Bearer {renewed}"}).status_code == 401


def test_refresh_tokens_end_12_hours_after_the_login(demo_app: Flask, shift: Any) -> None:
    import jwt as pyjwt

    name, _ = new_user(demo_app)
    client = demo_app.test_client()
    access, refresh = _login_with_refresh(client, name)
    claims = pyjwt.decode(refresh["Authorization"].split()[1], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] <= 12 * 3600
    shift(11 * 60 + 50)
    resp = client.post("/api/v1/security/refresh", headers=refresh)
    assert resp.status_code == 200
    late = {"Authorization": f"Bearer {resp.get_json()['access_token']}"}
    assert client.get("/api/v1/employer/", headers=late).status_code == 200
    shift(12 * 60 + 1)
    assert client.post("/api/v1/security/refresh", headers=refresh).status_code == 401
    assert client.get("/api/v1/employer/", headers=late).status_code == 401  # refreshed: same 12 h


def test_development_secret_key_is_generated_once_per_checkout(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Any) -> None:
    from app import settings

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.setattr(settings, "VAR", tmp_path / "var")
    first = settings.flask_config()["SECRET_KEY"]
    assert first != OLD_DEV_SECRET and len(first) >= 32
    path = tmp_path / "var" / "secret_key"
    assert path.read_text().strip() == first and (path.stat().st_mode & 0o777) == 0o600
    assert settings.flask_config()["SECRET_KEY"] == first  # once: every process of the checkout agrees
    monkeypatch.setenv("APP_ENV", "production")
    assert not settings.flask_config()["SECRET_KEY"]  # production never falls back to a file or constant
    ignored = subprocess.run(["git", "check-ignore", "-q", "var/secret_key"], cwd=ROOT)
    assert ignored.returncode == 0, "var/secret_key must never be committed"


OLD_DEV_SECRET = "jiefen-development-only-secret-key-change-me-0000"


def test_a_jwt_forged_with_the_old_constant_key_is_401(demo_app: Flask, monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Any) -> None:
    """F9: without SECRET_KEY the app used to sign with a constant from the repository."""
    import time

    import jwt as pyjwt

    from app import create_app, settings

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.setattr(settings, "VAR", tmp_path / "var")
    app = create_app({"SQLALCHEMY_DATABASE_URI": demo_app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True,
                      "CONFIG_DIR": str(ROOT / "config")})  # SECRET_KEY as a developer's checkout has it
    try:
        with app.app_context():
            admin_id = app.appbuilder.sm.find_user(username="admin").id
        now = int(time.time())
        claims = {"sub": str(admin_id), "type": "access", "fresh": False, "jti": uuid.uuid4().hex,
                  "iat": now, "nbf": now, "exp": now + 900}
        forged = pyjwt.encode(claims, OLD_DEV_SECRET, "HS256")
        client = app.test_client()
        assert client.get("/api/v1/employer/", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        assert client.get("/api/v1/_openapi", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        real = api_auth(client)  # the app's own tokens work
        assert client.get("/api/v1/employer/", headers=real).status_code == 200
    finally:
        dispose(app)


def test_cookie_writes_are_origin_checked_whatever_other_headers_come_along(demo_app: Flask,
                                                                            admin_client: FlaskClient) -> None:
    """F12: an Authorization header (even a bogus one) used to switch the Origin check off."""
    with demo_app.app_context():
        model = demo_app.extensions["jiefen"].models["employer"]
        session = demo_app.appbuilder.sm.session
        pk, before = session.execute(select(model.id, model.employer_name).order_by(model.id)).first()
        session.rollback()
    url = f"/api/v1/employer/{pk}"
    for extra in ({"Authorization": "Basic Zm9vOmJhcg=="}, {"Authorization": "Bearer x.y.z"},
                  {"Authorization": ""}, {"X-Requested-With": "XMLHttpRequest"}):
        for origin in ({"Origin": "https://evil.example"}, {"Origin": "https://localhost"},
                       {"Referer": "https://localhost/employerview/list/"}, {}):
            resp = admin_client.put(url, json={"employer_name": "跨站写入"}, headers={**extra, **origin})
            assert resp.status_code == 403, (extra, origin, resp.status_code)
    with demo_app.app_context():
        assert session.get(model, pk).employer_name == before
        session.rollback()
    # the same site (scheme and host) still passes the check
    resp = admin_client.put(url, json={}, headers={"Origin": "http://localhost", "Authorization": "Basic Zm9vOmJhcg=="})
    assert resp.status_code not in (401, 403)
