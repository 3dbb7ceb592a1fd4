"""Issue #11, throttling (F17): login attempts are limited per account AND per client address.

* Per address: at most LOGIN_ADDRESS_MAX_FAILURES (20) failed logins per LOGIN_ADDRESS_WINDOW_MINUTES
  (10) from one address, whatever the names; then that address is refused (form message, API
  429) until the window has room again.  Password spraying slows to 20 guesses per 10 minutes.
* Per account: 5 failures lock the name for 15 minutes, but not for the account's usual
  addresses (a successful login from there in the last LOGIN_KNOWN_ADDRESS_DAYS): an attacker
  elsewhere cannot lock the owner out.  Failures from a usual address count for that address only.

The suite's apps lift the address limit (tests/app/conftest.py ``make_app``: every test client is
127.0.0.1); these tests put the production value back and give each client an address of its own
from the documentation ranges (RFC 5737), so they never meet another test's counters.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import settings

from .conftest import PASSWORD
from .test_hardening import audit_events, flashes, new_user, shift  # noqa: F401 (shift: a fixture)

WRONG = "Wrong#Pass1"


@pytest.fixture()
def production_limits(demo_app: Flask, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The shipped limits on the shared app, and a fresh limiter key space for this test."""
    defaults = settings.login_limits()
    for key, value in defaults.items():
        monkeypatch.setitem(demo_app.config, key, value)
    monkeypatch.setitem(demo_app.config, "RATELIMIT_KEY_PREFIX", "t" + uuid.uuid4().hex[:8])
    return defaults


def client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def api_login(client: FlaskClient, username: str, password: str) -> Any:
    return client.post("/api/v1/security/login", json={"username": username, "password": password,
                                                       "provider": "db"})


def form_login(client: FlaskClient, username: str, password: str) -> tuple[bool, list[Any]]:
    resp = client.post("/login/", data={"username": username, "password": password})
    return "/login" not in resp.headers.get("Location", "/login"), flashes(client)


def test_the_shipped_limits_are_settings() -> None:
    limits = settings.login_limits()
    assert limits["LOGIN_ADDRESS_MAX_FAILURES"] == 20 and limits["LOGIN_ADDRESS_WINDOW_MINUTES"] == 10
    assert limits["LOGIN_MAX_FAILURES"] == 5 and limits["LOGIN_LOCKOUT_MINUTES"] == 15
    assert limits["LOGIN_KNOWN_ADDRESS_DAYS"] == 30


def test_spraying_50_names_from_one_address_is_throttled(demo_app: Flask, production_limits: dict[str, Any]) -> None:
    sprayer = client_at(demo_app, "203.0.113.50")
    names = [new_user(demo_app)[0] for _ in range(3)] + [f"ghost{uuid.uuid4().hex[:8]}" for _ in range(47)]
    answers = [api_login(sprayer, name, WRONG).status_code for name in names]
    assert answers[:20] == [401] * 20
    assert answers[20:] == [429] * 30, answers
    # the right password of a real account does not get through that address either
    assert api_login(sprayer, names[0], PASSWORD).status_code == 429
    ok, msgs = form_login(client_at(demo_app, "203.0.113.50"), names[1], PASSWORD)
    assert not ok and "网络地址" in str(msgs)
    # nobody else is slowed: another address logs in at once
    assert api_login(client_at(demo_app, "198.51.100.20"), names[0], PASSWORD).status_code == 200
    assert "address_limited" in str(_details(demo_app, names[0]))


def _details(app: Flask, username: str) -> list[str]:
    from sqlalchemy import select

    with app.app_context():
        t = app.extensions["jiefen"].audit_log.__table__
        rows = app.appbuilder.sm.session.execute(select(t.c.detail).where(t.c.username == username)).scalars()
        out = [str(r) for r in rows]
        app.appbuilder.sm.session.rollback()
        return out


def test_the_address_is_free_again_after_its_window(demo_app: Flask, production_limits: dict[str, Any],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(demo_app.config, "LOGIN_ADDRESS_MAX_FAILURES", 3)
    monkeypatch.setitem(demo_app.config, "LOGIN_ADDRESS_WINDOW_MINUTES", 0.04)  # 2.4 s
    name, _ = new_user(demo_app)
    client = client_at(demo_app, "203.0.113.51")
    started = time.monotonic()
    assert [api_login(client, f"ghost{i}", WRONG).status_code for i in range(4)] == [401, 401, 401, 429]
    deadline = started + 20
    while api_login(client, name, PASSWORD).status_code == 429:
        assert time.monotonic() < deadline, "the address stayed limited after its window"
        time.sleep(0.2)
    assert time.monotonic() - started >= 2.0


def test_an_attacker_cannot_lock_the_owner_out_of_their_usual_address(demo_app: Flask,
                                                                      production_limits: dict[str, Any]) -> None:
    name, _ = new_user(demo_app)
    home, attacker, travel = "198.51.100.7", "203.0.113.66", "198.51.100.99"
    assert api_login(client_at(demo_app, home), name, PASSWORD).status_code == 200  # the usual address
    for _ in range(6):
        assert api_login(client_at(demo_app, attacker), name, WRONG).status_code in (401, 429)
    # locked for the attacker, even with the right password, and for any address not yet known
    assert api_login(client_at(demo_app, attacker), name, PASSWORD).status_code == 429
    assert api_login(client_at(demo_app, travel), name, PASSWORD).status_code == 429
    assert "lockout" in audit_events(demo_app, name)
    # the owner at home: in, by the form and by the API
    ok, _ = form_login(client_at(demo_app, home), name, PASSWORD)
    assert ok
    assert api_login(client_at(demo_app, home), name, PASSWORD).status_code == 200


def test_failures_from_the_usual_address_lock_that_address_only(demo_app: Flask, shift: Any,
                                                                production_limits: dict[str, Any]) -> None:
    name, _ = new_user(demo_app)
    home, office = "198.51.100.8", "198.51.100.9"
    for address in (home, office):
        assert api_login(client_at(demo_app, address), name, PASSWORD).status_code == 200
    for _ in range(5):  # someone at home guesses (a shared network)
        assert api_login(client_at(demo_app, home), name, WRONG).status_code == 401
    assert api_login(client_at(demo_app, home), name, PASSWORD).status_code == 429
    assert api_login(client_at(demo_app, office), name, PASSWORD).status_code == 200
    shift(16)
    assert api_login(client_at(demo_app, home), name, PASSWORD).status_code == 200


def test_a_sprayer_sharing_the_owners_address_does_not_lock_the_owner_out(demo_app: Flask,
                                                                          production_limits: dict[str, Any]) -> None:
    name, _ = new_user(demo_app)
    shared = "198.51.100.10"
    assert api_login(client_at(demo_app, shared), name, PASSWORD).status_code == 200
    sprayer = client_at(demo_app, shared)
    codes = [api_login(sprayer, f"ghost{uuid.uuid4().hex[:8]}", WRONG).status_code for _ in range(25)]
    assert codes[-1] == 429
    assert api_login(client_at(demo_app, shared), name, PASSWORD).status_code == 200


def test_answers_for_real_and_unknown_names_stay_identical_under_the_address_limit(
        demo_app: Flask, production_limits: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(demo_app.config, "LOGIN_ADDRESS_MAX_FAILURES", 2)
    real, _ = new_user(demo_app)
    ghost = "nobody" + uuid.uuid4().hex[:8]
    a, b = client_at(demo_app, "203.0.113.70"), client_at(demo_app, "203.0.113.71")
    for _ in range(3):
        ra, rb = api_login(a, real, WRONG), api_login(b, ghost, WRONG)
        assert (ra.status_code, ra.get_data()) == (rb.status_code, rb.get_data())
    assert ra.status_code == 429
