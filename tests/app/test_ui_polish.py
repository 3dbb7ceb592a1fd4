"""UI leftovers from the screenshot review: readable user columns, select2 in Chinese, the navbar CSS.

Client-based (no browser): the rendered HTML of FAB's user screens and the assets the layout loads.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .conftest import login

SELECT2_ZH = "/static/js/select2-zh.js"
JIEFEN_CSS = "/static/css/jiefen.css"


def client_in(app: Flask, lang: str) -> FlaskClient:
    client = app.test_client()
    login(client)
    client.get(f"/lang/{lang}")
    return client


def cells(html: str) -> list[str]:
    """The text of every table cell (tags dropped)."""
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)]


def admin_id(app: Flask) -> int:
    with app.app_context():
        return int(app.appbuilder.sm.find_user(username="admin").id)


def role_label(app: Flask, name: str, lang: str) -> str:
    return str(app.extensions["jiefen"].spec.roles[name].label.get(lang))


def test_user_list_zh_shows_yes_and_role_labels(demo_app: Flask) -> None:
    html = client_in(demo_app, "zh").get("/users/list/").get_data(as_text=True)
    tds = cells(html)
    assert "是" in tds
    assert role_label(demo_app, "jm_office", "zh") in tds
    assert "—" in tds  # no groups
    for raw in ("True", "False", "[jm_office]", "[]"):
        assert raw not in tds, raw
    assert "[jm_office]" not in html


def test_user_list_en_shows_yes_and_role_labels(demo_app: Flask) -> None:
    html = client_in(demo_app, "en").get("/users/list/").get_data(as_text=True)
    tds = cells(html)
    assert "Yes" in tds
    assert role_label(demo_app, "jm_office", "en") in tds
    assert "True" not in tds and "[jm_office]" not in html


@pytest.mark.parametrize("lang, yes", [("zh", "是"), ("en", "Yes")])
@pytest.mark.parametrize("path", ["/users/show/{id}", "/users/userinfo/"])
def test_user_show_and_userinfo(demo_app: Flask, lang: str, yes: str, path: str) -> None:
    html = client_in(demo_app, lang).get(path.format(id=admin_id(demo_app))).get_data(as_text=True)
    tds = cells(html)
    assert yes in tds
    assert role_label(demo_app, "jm_office", lang) in tds
    assert "True" not in tds and "[jm_office]" not in html


def test_user_view_keeps_fab_names(demo_app: Flask) -> None:
    """Endpoint and permission view name stay FAB's: stored grants and url_for keep working."""
    inst = demo_app.appbuilder.sm.user_view
    assert type(inst).__module__ == "app.accounts.views"
    assert type(inst).__name__ == "UserDBModelView"
    assert inst.endpoint == "UserDBModelView" and inst.class_permission_name == "UserDBModelView"


def test_select2_zh_only_on_zh_pages_and_served(demo_app: Flask) -> None:
    zh = client_in(demo_app, "zh")
    for path in ("/users/list/", "/users/add"):
        assert SELECT2_ZH in zh.get(path).get_data(as_text=True), path
    assert SELECT2_ZH in demo_app.test_client().get("/login/").get_data(as_text=True)  # zh by default
    html_zh = zh.get("/users/add").get_data(as_text=True)
    assert html_zh.index("select2/select2.min.js") < html_zh.index(SELECT2_ZH)  # after select2 itself
    en = client_in(demo_app, "en")
    for path in ("/users/list/", "/users/add"):
        assert SELECT2_ZH not in en.get(path).get_data(as_text=True), path
    with zh.get(SELECT2_ZH) as resp:
        assert resp.status_code == 200
        body = resp.get_data(as_text=True)
    assert "未找到结果" in body and "removeAllItems" in body


def test_jiefen_css_on_every_page_and_served(demo_app: Flask) -> None:
    for lang in ("zh", "en"):
        assert JIEFEN_CSS in client_in(demo_app, lang).get("/users/list/").get_data(as_text=True)
    with demo_app.test_client().get(JIEFEN_CSS) as resp:
        assert resp.status_code == 200
        css = resp.get_data(as_text=True)
    assert ".navbar-nav > li > a" in css and "url(" not in css and "@import" not in css
