"""One demo app per test session (set up exactly as `make run` does), plus helpers.

``JIEFEN_TEST_CONFIG=examples/xishui`` (or any config directory) runs the spec-generated tests
(test_crud_generated, test_permission_matrix, test_workflow_transitions) against another county:
their demo app is built from that config (.ci/run does so for the example county).
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.database import private_database

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Demo@2026"
# The config the demo app is built from: the shipped county unless JIEFEN_TEST_CONFIG names another.
CONFIG = Path(os.environ.get("JIEFEN_TEST_CONFIG") or ROOT / "config")
if not CONFIG.is_absolute():
    CONFIG = ROOT / CONFIG


def make_app(db_uri: str, **overrides: object) -> Flask:
    from app import create_app

    config = {"SQLALCHEMY_DATABASE_URI": db_uri, "TESTING": True, "WTF_CSRF_ENABLED": False,
              "CONFIG_DIR": str(CONFIG), "SECRET_KEY": "t" * 40,
              # Every test client is 127.0.0.1 and the suite fails many logins on purpose: lift the
              # per-address login limit here; tests/app/test_login_throttle.py puts it back.
              "LOGIN_ADDRESS_MAX_FAILURES": 1_000_000}
    config.update(overrides)
    return create_app(config)


def run_setup(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["setup", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def dispose(*apps: Flask) -> None:
    """Close the apps' pooled connections (before their private database or schema is dropped)."""
    for app in apps:
        with app.app_context():
            app.appbuilder.sm.session.remove()
            app.appbuilder.sm.session.get_bind().dispose()


@contextmanager
def set_up_app(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Flask]:
    """An app on a private database, set up exactly as `make run` does; disposed afterwards."""
    with private_database(tmp_path_factory.mktemp(name)) as uri:
        app = make_app(uri)
        run_setup(app)
        yield app
        dispose(app)


@contextmanager
def upload_dir(app: Flask, path: Path) -> Iterator[Flask]:
    """``app`` storing uploads under ``path`` (a folder of the test's own) for the duration."""
    old = app.config.get("UPLOAD_DIR")
    app.config["UPLOAD_DIR"] = str(path)
    try:
        yield app
    finally:
        app.config["UPLOAD_DIR"] = old


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with set_up_app(tmp_path_factory, "demo") as app:
        yield app


def login(client: FlaskClient, username: str = "admin", password: str = PASSWORD) -> None:
    resp = client.post("/login/", data={"username": username, "password": password})
    assert resp.status_code == 302 and "/login" not in resp.headers.get("Location", ""), \
        f"login as {username} failed"


def api_auth(client: FlaskClient, username: str = "admin", password: str = PASSWORD) -> dict[str, str]:
    """The Authorization header of a JWT obtained through the REST login."""
    resp = client.post("/api/v1/security/login", json={"username": username, "password": password,
                                                        "provider": "db"})
    assert resp.status_code == 200, f"API login as {username} failed"
    return {"Authorization": f"Bearer {resp.get_json()['access_token']}"}


@pytest.fixture()
def admin_client(demo_app: Flask) -> FlaskClient:
    client = demo_app.test_client()
    login(client)
    return client


def csrf_token(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert m, "no csrf token on the page"
    return m.group(1)


@pytest.fixture(scope="session")
def workflow_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A demo app of its own for the workflow tests, which add and move cases (demo_app stays as set up)."""
    with set_up_app(tmp_path_factory, "workflow") as app:
        yield app
