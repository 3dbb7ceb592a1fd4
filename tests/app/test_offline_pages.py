"""Every page a user can reach from the menu renders (200) and references no other host, in zh and en.

Client-based (no browser): logs in as the demo admin and fetches each list page of every generated
view, one show/add/edit page per entity (on an existing row; where the demo data has none, one
with the required fields is added), every other menu entry (FAB's security screens included),
the user's own page, the API docs, the login page and the index.
``external_refs`` looks at everything the HTML would make a browser fetch or link to;
``scan_static`` covers the CSS/JS those pages load.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from generator import names

from .conftest import login
from .offline import external_refs, scan_static
from .test_crud_generated import create_row

LANGS = ("zh", "en")


def view_route(app: Flask, entity: str) -> str:
    cls = names.view_class(entity)
    return next(v.route_base for v in app.appbuilder.baseviews if type(v).__name__ == cls)


def menu_urls(app: Flask) -> list[str]:
    """The href of every menu entry (the navbar as FAB builds it, before permission filtering)."""
    urls: list[str] = []
    with app.test_request_context():
        def walk(items) -> None:  # type: ignore[no-untyped-def]
            for item in items:
                if item.childs:
                    walk(item.childs)
                elif item.name != "-":
                    url = item.get_url()
                    if url and url != "#":
                        urls.append(url)
        walk(app.appbuilder.menu.get_list())
    return urls


def page_urls(app: Flask) -> list[str]:
    reg = app.extensions["jiefen"]
    urls = ["/", "/users/userinfo/", "/swagger/v1", "/users/list/"]
    urls += menu_urls(app)
    with app.app_context():
        session = app.appbuilder.sm.session
        for entity in sorted(reg.spec.entities):
            base = view_route(app, entity)
            urls += [f"{base}/list/", f"{base}/add"]
            model = reg.models[entity]
            pk = session.execute(select(model.id).order_by(model.id).limit(1)).scalar()
            if pk is None:  # the demo data leaves some entities empty: add one row (required fields)
                pk = create_row(app, entity)
            urls += [f"{base}/show/{pk}", f"{base}/edit/{pk}"]
        session.remove()
    return list(dict.fromkeys(urls))


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_renders_offline(demo_app: Flask, lang: str) -> None:
    urls = page_urls(demo_app)
    client = demo_app.test_client()
    assert client.get(f"/lang/{lang}").status_code == 302
    login(client)
    menu = demo_app.extensions["jiefen"].spec.menus
    index = client.get("/").get_data(as_text=True)
    assert all(getattr(m.label, lang) in index for m in menu.values()), f"the menu is not in {lang}"
    problems: list[str] = []
    for url in urls:
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        if resp.status_code != 200:
            problems.append(f"{url}: HTTP {resp.status_code} {resp.headers.get('Location', '')}")
            continue
        refs = external_refs(html)
        if refs:
            problems.append(f"{url}: external references {refs}")
    assert not problems, f"{len(problems)} of {len(urls)} pages ({lang}):\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_login_page_offline(demo_app: Flask, lang: str) -> None:
    client = demo_app.test_client()  # anonymous: a logged-in user is sent on from /login/
    client.get(f"/lang/{lang}")
    resp = client.get("/login/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert external_refs(html) == []
    assert f'type="submit" value="{"登录" if lang == "zh" else "Sign In"}"' in html


def test_static_files_offline(demo_app: Flask) -> None:
    assert scan_static(demo_app) == {}
