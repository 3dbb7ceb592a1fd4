"""A REST list answer carries what the list shows, and no more than FAB's own API would (issue #10).

The yardstick is a hand-written FAB ``ModelRestApi`` of the case model with the same columns
(tests/support/hand_fab.py): FAB nests every related row whole (every column of the handling
organisation, the mediator's ID number…), ours names it ``{id, label}``.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from flask import Flask

from tests.app.conftest import PASSWORD, make_app, run_setup
from tests.support.database import private_database
from tests.support.hand_fab import hand_written


@pytest.fixture(scope="module")
def app_with_hand_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with private_database(tmp_path_factory.mktemp("payload")) as uri:
        app = make_app(uri)
        _view, api = hand_written(app)
        with app.app_context():
            app.appbuilder.add_api(api)  # before setup: the admin role gets its permissions
        run_setup(app)
        yield app
        with app.app_context():
            app.appbuilder.sm.session.remove()
            app.appbuilder.sm.session.get_bind().dispose()


def test_the_case_list_payload_is_no_larger_than_fab_s(app_with_hand_api: Flask) -> None:
    c = app_with_hand_api.test_client()
    resp = c.post("/api/v1/security/login", json={"username": "admin", "password": PASSWORD, "provider": "db"})
    auth = {"Authorization": f"Bearer {resp.get_json()['access_token']}"}
    ours = c.get("/api/v1/dispute_case/?q=(page_size:25)", headers=auth)
    fab = c.get("/api/v1/hand_case/?q=(page_size:25)", headers=auth)
    assert ours.status_code == fab.status_code == 200
    assert ours.get_json()["ids"] == fab.get_json()["ids"], "the same rows in the same order"
    assert len(ours.get_data()) <= len(fab.get_data()), (len(ours.get_data()), len(fab.get_data()))
    # the same columns: ours lists what the list page shows
    assert set(ours.get_json()["list_columns"]) == set(fab.get_json()["list_columns"])
    row = ours.get_json()["result"][0]
    assert set(row["current_org"]) == {"id", "label"}


def test_declared_api_list_columns_are_what_a_list_answer_carries(app_with_hand_api: Flask) -> None:
    spec = app_with_hand_api.extensions["jiefen"].spec
    c = app_with_hand_api.test_client()
    resp = c.post("/api/v1/security/login", json={"username": "admin", "password": PASSWORD, "provider": "db"})
    auth = {"Authorization": f"Bearer {resp.get_json()['access_token']}"}
    from generator.builders.views import api_list_columns

    for ent in spec.entities.values():
        body = c.get(f"/api/v1/{ent.name}/?q=(page_size:3)", headers=auth).get_json()
        expected = ["id"] + api_list_columns(spec, ent)
        assert body["list_columns"] == expected, ent.name
        for row in body["result"]:
            assert sorted(row) == sorted(expected), ent.name  # (JSON keys go out sorted)
