"""SQL statements per list request: bounded, independent of page size, no N+1, permissions once.

Counted with a ``before_cursor_execute`` listener on the app's engine around one request of a
logged-in client.  The app has its own database (``setup --no-demo`` + an admin + bulk rows
from ``tests.support.caseload``); with ``DATABASE_URL`` naming PostgreSQL it is a throwaway
schema there.

What a list request may send (each number is asserted, and printed on failure):

* auth, HTML: the user row (Flask-Login) + ONE grants statement (``JiefenSecurityManager``:
  roles and permission pairs, direct and via groups).  FAB 5.3 as is sends the user row, two
  lazy role/group loads and one ``SELECT EXISTS`` per navbar entry and list button: 57 on this
  config's 40 entities (fab-permission-cost.md §1).
* auth, REST: the same plus the public role's grants (``protect()`` asks ``is_item_public``
  first on every call).
* data: ``count(*)`` + the page + one ``SELECT … IN`` per listed ref (``JiefenInterface``:
  unlisted relations are not loaded) + for the HTML search form, ``count`` + choices per ref
  search column.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_appbuilder.security.sqla.manager import SecurityManager
from sqlalchemy import delete, event, insert, inspect

from tests.app.conftest import PASSWORD, login, make_app, run_setup
from tests.support.caseload import PREFIX, load_cases, load_rows
from tests.support.database import private_database

N_CASES = 150
HTML_AUTH = 2   # user row + grants
REST_AUTH = 3   # + public-role grants (is_item_public)
DATA = 2        # count(*) + page


class StockSecurityManager(SecurityManager):
    """FAB's own manager (minus the offline-breaking chart, as ours): the reference for answers."""

    userstatschartview = None


@pytest.fixture(scope="module")
def load_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with private_database(tmp_path_factory.mktemp("stmts")) as uri:
        app = make_app(uri)
        run_setup(app, "--no-demo")
        with app.app_context():
            sm = app.appbuilder.sm
            sm.add_user("admin", "Admin", "User", "admin@example.invalid", sm.find_role(sm.auth_role_admin),
                        password=PASSWORD)
            reg = app.extensions["jiefen"]
            load_cases(sm.session, reg.spec, reg.models, N_CASES, n_orgs=30, n_mediators=40, n_employers=60)
            load_rows(sm.session, reg.spec, reg.models, "case_transfer", N_CASES)
        app.config["TEST_DB_URI"] = uri
        yield app
        with app.app_context():
            app.appbuilder.sm.session.remove()
            app.appbuilder.sm.session.get_bind().dispose()


@pytest.fixture(scope="module")
def client(load_app: Flask) -> FlaskClient:
    c = load_app.test_client()
    login(c)
    return c


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    with app.app_context():
        engine = app.appbuilder.sm.session.get_bind()
    seen: list[str] = []

    def listener(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def get_counted(app: Flask, client: FlaskClient, url: str) -> tuple[object, list[str]]:
    with counting(app) as seen:
        resp = client.get(url)
    assert resp.status_code == 200, f"{url}: HTTP {resp.status_code}"
    return resp, list(seen)


def show(statements: list[str]) -> str:
    return "\n".join(f"  {i + 1:2d}. {s[:150]}" for i, s in enumerate(statements))


def classes(app: Flask, entity: str) -> tuple[type, type]:
    reg = app.extensions["jiefen"]
    from generator import names

    view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == names.view_class(entity))
    api = next(v for v in app.appbuilder.baseviews if type(v).__name__ == names.api_class(entity))
    assert reg.models[entity] is view.datamodel.obj
    return view, api


def listed_relations(view: object) -> list[str]:
    rels = inspect(view.datamodel.obj).relationships  # type: ignore[attr-defined]
    return [c for c in view.list_columns if c in rels]  # type: ignore[attr-defined]


def search_relations(view: object) -> list[str]:
    return [c for c in view.search_columns if view.datamodel.is_relation(c)]  # type: ignore[attr-defined]


def html_bound(view: object) -> int:
    return HTML_AUTH + DATA + len(listed_relations(view)) + 2 * len(search_relations(view))


def rest_bound(api: object) -> int:
    return REST_AUTH + DATA + len(listed_relations(api))


def permission_statements(statements: list[str]) -> list[str]:
    return [s for s in statements if "ab_permission" in s or "ab_role" in s or "ab_group" in s]


# ---------------------------------------------------------------------------------------------


def test_case_list_html_does_not_grow_with_page_size(load_app: Flask, client: FlaskClient) -> None:
    view, _api = classes(load_app, "dispute_case")
    psize = f"psize_{type(view).__name__}"  # FAB: psize_<view class name> (urltools.get_page_size_args)
    small, s10 = get_counted(load_app, client, f"/{type(view).__name__.lower()}/list/?{psize}=10")
    large, s100 = get_counted(load_app, client, f"/{type(view).__name__.lower()}/list/?{psize}=100")
    rows10 = set(re.findall(rf"{PREFIX}-REGIST-\d+", small.get_data(as_text=True)))
    rows100 = set(re.findall(rf"{PREFIX}-REGIST-\d+", large.get_data(as_text=True)))
    assert (len(rows10), len(rows100)) == (10, 100), f"rows shown: {len(rows10)} / {len(rows100)}"
    msg = f"HTML case list: {len(s10)} statements at page size 10, {len(s100)} at 100\n" \
          f"-- page size 100:\n{show(s100)}"
    assert len(s100) == len(s10), msg
    assert len(s100) <= html_bound(view), msg + f"\nbound {html_bound(view)}"


def test_case_list_rest_does_not_grow_with_page_size(load_app: Flask, client: FlaskClient) -> None:
    _view, api = classes(load_app, "dispute_case")
    r10, s10 = get_counted(load_app, client, "/api/v1/dispute_case/?q=(page_size:10)")
    r100, s100 = get_counted(load_app, client, "/api/v1/dispute_case/?q=(page_size:100)")
    assert (len(r10.json["result"]), len(r100.json["result"])) == (10, 100)
    assert r100.json["count"] == N_CASES
    msg = f"REST case list: {len(s10)} statements at page_size 10, {len(s100)} at 100\n" \
          f"-- page_size 100:\n{show(s100)}"
    assert len(s100) == len(s10), msg
    assert len(s100) <= rest_bound(api), msg + f"\nbound {rest_bound(api)}"


@pytest.mark.parametrize("entity", ["dispute_case", "case_transfer"])
def test_list_with_many_to_one_refs_has_no_n_plus_1(load_app: Flask, client: FlaskClient, entity: str) -> None:
    """≤ base + one statement per listed relation, with 100 rows whose refs point at many rows."""
    view, api = classes(load_app, entity)
    rels = listed_relations(view)
    assert len(rels) >= 2, f"{entity}: list relations {rels}"
    _r, html = get_counted(load_app, client, f"/{type(view).__name__.lower()}/list/?psize_{type(view).__name__}=100")
    rest, api_stmts = get_counted(load_app, client, f"/api/v1/{entity}/?q=(page_size:100)")
    assert len(rest.json["result"]) == 100
    for name in rels:  # the refs really point at many distinct rows: N+1 would show
        distinct = {str(row.get(name)) for row in rest.json["result"] if row.get(name)}
        assert len(distinct) > 3, f"{entity}.{name}: only {len(distinct)} distinct targets on the page"
    assert len(html) <= html_bound(view), (
        f"HTML {entity} list, {len(rels)} listed relations {rels}, "
        f"{len(search_relations(view))} ref search columns: {len(html)} statements > bound {html_bound(view)}\n"
        + show(html))
    assert len(api_stmts) <= rest_bound(api), (
        f"REST {entity} list, {len(rels)} listed relations: {len(api_stmts)} statements > bound "
        f"{rest_bound(api)}\n" + show(api_stmts))


def test_permissions_are_loaded_once_per_request(load_app: Flask, client: FlaskClient) -> None:
    """The cache works: one permission statement per page whatever the menu size (FAB: 1 per entry)."""
    view, _api = classes(load_app, "dispute_case")
    _r, html = get_counted(load_app, client, f"/{type(view).__name__.lower()}/list/")
    _r, rest = get_counted(load_app, client, "/api/v1/dispute_case/?q=(page_size:25)")
    menu_entries = sum(1 + len(getattr(m, "childs", []) or []) for m in load_app.appbuilder.menu.menu)
    assert len(permission_statements(html)) == 1, \
        f"HTML list: {len(permission_statements(html))} permission statements ({menu_entries} menu entries)\n{show(html)}"
    assert len(permission_statements(rest)) == 2, f"REST list: {show(rest)}"
    # Measured: 8 = user row + grants + count + page + 2 listed refs + the current_org filter's
    # count + choices.  FAB 5.3 as is: 69 on this config (57 auth statements).
    assert len(html) <= 8, f"HTML case list: {len(html)} statements (FAB as is: 69)\n{show(html)}"
    assert len(rest) <= 7, f"REST case list: {len(rest)} statements (FAB as is: 20)\n{show(rest)}"


def test_stock_fab_gives_the_same_answers_with_more_statements(load_app: Flask, client: FlaskClient,
                                                                 tmp_path: Path) -> None:
    """A second app on the same DB with FAB's own manager: same menu and buttons, far more SQL."""
    stock = make_app(load_app.config["TEST_DB_URI"], SCHEMA_SYNC=False,
                     FAB_SECURITY_MANAGER_CLASS=f"{__name__}.StockSecurityManager")
    stock_client = stock.test_client()
    login(stock_client)
    view, _api = classes(load_app, "dispute_case")
    url = f"/{type(view).__name__.lower()}/list/"
    ours, ours_stmts = get_counted(load_app, client, url)
    theirs, stock_stmts = get_counted(stock, stock_client, url)

    def links(resp: object) -> list[str]:
        html = resp.get_data(as_text=True)  # type: ignore[attr-defined]
        return sorted(set(re.findall(r'href="(/[^"?#]*)', html)))

    assert links(ours) == links(theirs)
    assert len(permission_statements(ours_stmts)) == 1
    assert len(permission_statements(stock_stmts)) > 10, f"stock FAB: {len(stock_stmts)} statements"
    print(f"case list statements: ours {len(ours_stmts)}, stock FAB {len(stock_stmts)}")
    with stock.app_context():
        stock.appbuilder.sm.session.remove()


def test_grant_and_revoke_are_seen_on_the_next_request(load_app: Flask) -> None:
    """Nothing outlives a request: a raw-SQL revoke (another worker, no signals) applies at once."""
    with load_app.app_context():
        sm = load_app.appbuilder.sm
        role = sm.find_role("stmt_clerk") or sm.add_role("stmt_clerk")
        for perm, view in [("can_read", "dispute_case"), ("menu_access", "menu_dispute_case")]:
            pv = sm.find_permission_view_menu(perm, view)
            assert pv is not None, (perm, view)
            sm.add_permission_role(role, pv)
        if not sm.find_user(username="stmt_clerk"):
            sm.add_user("stmt_clerk", "C", "Clerk", "clerk@example.invalid", role, password=PASSWORD)
        pv_id = sm.find_permission_view_menu("can_read", "dispute_case").id
        role_id = role.id
        engine = sm.session.get_bind()
        pv_role = sm.role_model.permissions.property.secondary
    c = load_app.test_client()
    login(c, "stmt_clerk")
    view, _api = classes(load_app, "dispute_case")
    url = f"/{type(view).__name__.lower()}/list/"
    page = c.get(url)
    assert page.status_code == 200
    assert c.get("/api/v1/dispute_case/?q=(page_size:1)").status_code == 200
    with engine.begin() as conn:
        conn.execute(delete(pv_role).where(pv_role.c.role_id == role_id, pv_role.c.permission_view_id == pv_id))
    assert c.get(url).status_code == 403
    assert c.get("/api/v1/dispute_case/?q=(page_size:1)").status_code == 403
    with engine.begin() as conn:
        conn.execute(insert(pv_role).values(permission_view_id=pv_id, role_id=role_id))  # the PG id sequence
    assert c.get(url).status_code == 200
