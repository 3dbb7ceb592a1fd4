"""One row-scope suite, run against every surface (issue #4).

The people (demo accounts, roles.yaml scopes):

* ``registrar_t1s1`` / ``registrar_t1s2``: registrars (scope ``station``) at two sibling
  enterprise stations under township T01;
* ``township_head_t1``: head of township centre T01 (scope ``township``); ``township_head_t2``
  heads T02;
* ``jm_lead``: the county convenor (scope ``county``);
* ``noorg``: a registrar account placed in no organisation (made here): it must see nothing.

The surfaces: HTML list / show / edit / delete, list actions, foreign-key pickers (edit form
selects and the REST ``related`` endpoint), Excel export, and the REST list / get / put / delete.
A row out of scope answers exactly like a missing id: 404.
"""

from __future__ import annotations

import io
import re
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from generator import names
from tests.app.conftest import PASSWORD, api_auth, login

CASE = "dispute_case"
CHILD = "party"  # parent-scoped through dispute_case, with personal data


def models(app: Flask) -> dict[str, type]:
    return app.extensions["jiefen"].models  # type: ignore[no-any-return]


def org_id(app: Flask, code: str) -> int:
    org = models(app)["org"]
    with app.app_context():
        return app.appbuilder.sm.session.execute(select(org.id).where(org.org_code == code)).scalar_one()


def ids_where(app: Flask, entity: str, clause_fn: Any) -> set[int]:
    model = models(app)[entity]
    with app.app_context():
        return set(app.appbuilder.sm.session.execute(select(model.id).where(clause_fn(model))).scalars())


def case_ids_at(app: Flask, *codes: str) -> set[int]:
    orgs = [org_id(app, c) for c in codes]
    return ids_where(app, CASE, lambda m: m.current_org_id.in_(orgs))


def all_ids(app: Flask, entity: str) -> set[int]:
    return ids_where(app, entity, lambda m: m.id.isnot(None))


@pytest.fixture(scope="module")
def app(demo_app: Flask) -> Flask:
    """The demo app plus ``noorg``: a registrar with no organisation."""
    with demo_app.app_context():
        sm = demo_app.appbuilder.sm
        if sm.find_user("noorg") is None:
            sm.add_user("noorg", "无", "组织", "noorg@example.invalid", [sm.find_role("registrar")], PASSWORD)
    return demo_app


def client_for(app: Flask, username: str) -> FlaskClient:
    c = app.test_client()
    login(c, username)
    return c


def view_base(app: Flask, entity: str) -> str:
    return f"/{names.view_class(entity).lower()}"


def api_ids(app: Flask, username: str, entity: str) -> set[int]:
    c = app.test_client()
    auth = api_auth(c, username)
    out: set[int] = set()
    page = 0
    while True:
        resp = c.get(f"/api/v1/{entity}/?q=(page:{page},page_size:100)", headers=auth)
        assert resp.status_code == 200, (username, entity, resp.status_code)
        rows = resp.get_json()["result"]
        out.update(r["id"] for r in rows)
        if len(rows) < 100:
            return out
        page += 1


def html_ids(app: Flask, username: str, entity: str) -> set[int]:
    c = client_for(app, username)
    out: set[int] = set()
    page = 0
    view = names.view_class(entity)
    while True:
        resp = c.get(f"{view_base(app, entity)}/list/?psize_{view}=100&page_{view}={page}")
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        found = {int(x) for x in re.findall(rf'{view_base(app, entity)}/show/(\d+)', html)}
        if not found - out:
            return out
        out |= found
        page += 1


EXPECT = {
    # who: (station codes whose cases they see; None = every case)
    "registrar_t1s1": ("YX-DEMO-E001",),
    "registrar_t1s2": ("YX-DEMO-E002",),
    "station_head_t1s1": ("YX-DEMO-E001",),
    "township_head_t2": "T02",
    "township_head_t1": "T01",
    "jm_lead": None,
    "noorg": (),
}


def expected_cases(app: Flask, who: str) -> set[int]:
    spec = EXPECT[who]
    if spec is None:
        return all_ids(app, CASE)
    if isinstance(spec, str):  # a township: its centre and every station under it
        org = models(app)["org"]
        root = org_id(app, f"YX-DEMO-{spec}")
        with app.app_context():
            rows = app.appbuilder.sm.session.execute(select(org.id, org.parent_id)).all()
        tree: dict[int, list[int]] = {}
        for oid, parent in rows:
            tree.setdefault(parent, []).append(oid)
        under, stack = set(), [root]
        while stack:
            o = stack.pop()
            under.add(o)
            stack.extend(tree.get(o, []))
        return ids_where(app, CASE, lambda m: m.current_org_id.in_(under))
    return case_ids_at(app, *spec)


def test_the_demo_gives_each_scope_something_to_see(app: Flask) -> None:
    """Guards the suite: sibling stations both hold cases, the two townships differ."""
    e1, e2 = case_ids_at(app, "YX-DEMO-E001"), case_ids_at(app, "YX-DEMO-E002")
    assert e1 and e2 and not e1 & e2
    t1, t2 = expected_cases(app, "township_head_t1"), expected_cases(app, "township_head_t2")
    assert e1 | e2 <= t1 and not t1 & t2 and t1 | t2 < all_ids(app, CASE)


@pytest.mark.parametrize("who", sorted(EXPECT))
def test_lists_html_and_api_show_exactly_the_scope(app: Flask, who: str) -> None:
    want = expected_cases(app, who)
    assert api_ids(app, who, CASE) == want
    assert html_ids(app, who, CASE) == want


@pytest.mark.parametrize("who", sorted(EXPECT))
def test_parent_scoped_children_follow_their_case(app: Flask, who: str) -> None:
    cases = expected_cases(app, who)
    want = ids_where(app, CHILD, lambda m: m.dispute_case_id.in_(cases))
    assert api_ids(app, who, CHILD) == want


@pytest.fixture(scope="module")
def sibling_case(app: Flask) -> int:
    """A case at E002 (registrar_t1s1's sibling station)."""
    return min(case_ids_at(app, "YX-DEMO-E002"))


@pytest.fixture(scope="module")
def own_case(app: Flask) -> int:
    return min(case_ids_at(app, "YX-DEMO-E001"))


def test_show_edit_delete_out_of_scope_are_404_like_a_missing_id(app: Flask, sibling_case: int,
                                                                 own_case: int) -> None:
    c = client_for(app, "registrar_t1s1")
    base = view_base(app, CASE)
    missing = max(all_ids(app, CASE)) + 1000
    for pk in (sibling_case, missing):
        assert c.get(f"{base}/show/{pk}").status_code == 404
        assert c.get(f"{base}/edit/{pk}").status_code == 404
        assert c.post(f"{base}/edit/{pk}", data={"summary": "x"}).status_code == 404
    assert c.get(f"{base}/show/{own_case}").status_code == 200
    # registrars may not delete cases at all (roles.yaml): the permission check answers first
    assert c.post(f"{base}/delete/{sibling_case}").status_code in (302, 403, 404)
    assert sibling_case in all_ids(app, CASE)


def test_api_get_put_delete_out_of_scope_are_404(app: Flask, sibling_case: int, own_case: int) -> None:
    c = app.test_client()
    auth = api_auth(c, "registrar_t1s1")
    missing = max(all_ids(app, CASE)) + 1000
    for pk in (sibling_case, missing):
        assert c.get(f"/api/v1/{CASE}/{pk}", headers=auth).status_code == 404
        assert c.put(f"/api/v1/{CASE}/{pk}", json={"summary": "越权修改"}, headers=auth).status_code == 404
    assert c.get(f"/api/v1/{CASE}/{own_case}", headers=auth).status_code == 200
    with app.app_context():
        model = models(app)[CASE]
        assert app.appbuilder.sm.session.get(model, sibling_case).summary != "越权修改"


def test_child_delete_out_of_scope_is_404_and_keeps_the_row(app: Flask) -> None:
    """claim_item: registrars may delete; a sibling station's claim is a missing id to them."""
    cases = case_ids_at(app, "YX-DEMO-E002")
    theirs = ids_where(app, "claim_item", lambda m: m.dispute_case_id.in_(cases))
    assert theirs, "demo data: E002 has claim items"
    pk = min(theirs)
    c = app.test_client()
    auth = api_auth(c, "registrar_t1s1")
    assert c.delete(f"/api/v1/claim_item/{pk}", headers=auth).status_code == 404
    h = client_for(app, "registrar_t1s1")
    assert h.post(f"{view_base(app, 'claim_item')}/delete/{pk}").status_code == 404
    assert pk in all_ids(app, "claim_item")


def test_list_action_skips_rows_out_of_scope(app: Flask) -> None:
    cases = case_ids_at(app, "YX-DEMO-E002")
    theirs = ids_where(app, "claim_item", lambda m: m.dispute_case_id.in_(cases))
    h = client_for(app, "registrar_t1s1")
    resp = h.post(f"{view_base(app, 'claim_item')}/action_post",
                  data={"action": "muldelete", "rowid": [str(i) for i in sorted(theirs)]})
    assert resp.status_code == 302
    assert theirs <= all_ids(app, "claim_item"), "a list action deleted rows out of scope"


def test_pickers_offer_only_rows_in_scope(app: Flask) -> None:
    """The case picker of a claim item (the add form's select and the REST _info choices)."""
    want = expected_cases(app, "registrar_t1s1")
    c = app.test_client()
    auth = api_auth(c, "registrar_t1s1")
    # FAB's REST picker: _info lists each related field's choices
    resp = c.get("/api/v1/claim_item/_info?q=(keys:!(add_columns))",
                 headers=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    col = next(x for x in resp.get_json()["add_columns"] if x["name"] == "dispute_case")
    offered = {v["id"] for v in col["values"]}
    assert offered == want
    h = client_for(app, "registrar_t1s1")
    html = h.get(f"{view_base(app, 'claim_item')}/add").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*id="dispute_case".*?</select>', html, re.S)
    assert select_html, "no case picker on the claim form"
    options = {int(v) for v in re.findall(r'<option[^>]*value="(\d+)"', select_html.group(0))}
    assert options == want


def export_rows(client: FlaskClient, app: Flask, entity: str) -> list[tuple]:
    resp = client.get(f"{view_base(app, entity)}/export")
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


def test_export_holds_exactly_the_scope(app: Flask) -> None:
    """township_head may export cases (roles.yaml): exactly their township's, no more."""
    rows = export_rows(client_for(app, "township_head_t1"), app, CASE)
    want = expected_cases(app, "township_head_t1")
    assert len(rows) - 1 == len(want)
    spec = app.extensions["jiefen"].spec
    reg_no = rows[0].index(spec.entities[CASE].fields["registry_no"].label.zh)
    model = models(app)[CASE]
    with app.app_context():
        nos = set(app.appbuilder.sm.session.execute(select(model.registry_no).where(model.id.in_(want))).scalars())
    assert {r[reg_no] for r in rows[1:]} == nos


def test_export_masks_personal_data_even_for_the_admin(app: Flask) -> None:
    rows = export_rows(client_for(app, "admin"), app, CHILD)
    spec = app.extensions["jiefen"].spec
    col = rows[0].index(spec.entities[CHILD].fields["id_no"].label.zh)
    model = models(app)[CHILD]
    with app.app_context():
        clear = set(app.appbuilder.sm.session.execute(select(model.id_no).where(model.id_no.isnot(None))).scalars())
    assert clear, "demo parties have ID numbers"
    shown = {r[col] for r in rows[1:]}
    assert not shown & clear
    assert any(isinstance(v, str) and "*" in v for v in shown)


def test_export_is_refused_without_the_grant(app: Flask) -> None:
    """registrar has no export on cases: refused, and nothing is produced."""
    resp = client_for(app, "registrar_t1s1").get(f"{view_base(app, CASE)}/export")
    assert resp.status_code in (302, 403)
    assert not resp.mimetype.endswith("spreadsheetml.sheet")


def test_no_organisation_fails_closed(app: Flask) -> None:
    c = app.test_client()
    auth = api_auth(c, "noorg")
    assert c.get(f"/api/v1/{CASE}/", headers=auth).get_json()["count"] == 0
    any_case = min(all_ids(app, CASE))
    assert c.get(f"/api/v1/{CASE}/{any_case}", headers=auth).status_code == 404
    resp = c.post(f"/api/v1/{CASE}/", json={"summary": "无组织登记"}, headers=auth)
    assert resp.status_code in (400, 422)
    assert not ids_where(app, CASE, lambda m: m.summary == "无组织登记")


@pytest.fixture()
def registrar_api(app: Flask) -> Iterator[tuple[FlaskClient, dict[str, str]]]:
    c = app.test_client()
    yield c, api_auth(c, "registrar_t1s1")


def claim_payload(app: Flask, case_id: int) -> dict[str, Any]:
    from tests.support.payloads import payload

    spec = app.extensions["jiefen"].spec
    body = payload(spec, spec.entities["claim_item"], {"dispute_case": case_id}, api=True, seed=7)
    return body


def test_create_under_a_parent_out_of_scope_is_refused_and_writes_nothing(
        app: Flask, registrar_api: tuple[FlaskClient, dict[str, str]], sibling_case: int, own_case: int) -> None:
    c, auth = registrar_api
    before = all_ids(app, "claim_item")
    resp = c.post("/api/v1/claim_item/", json=claim_payload(app, sibling_case), headers=auth)
    assert resp.status_code == 400, resp.get_json()
    assert all_ids(app, "claim_item") == before
    ok = c.post("/api/v1/claim_item/", json=claim_payload(app, own_case), headers=auth)
    assert ok.status_code == 201, ok.get_json()


def test_moving_a_row_out_of_scope_is_400_and_nothing_changes(
        app: Flask, registrar_api: tuple[FlaskClient, dict[str, str]], sibling_case: int, own_case: int) -> None:
    c, auth = registrar_api
    mine = min(ids_where(app, "claim_item", lambda m: m.dispute_case_id == own_case))
    resp = c.put(f"/api/v1/claim_item/{mine}", json={"dispute_case": sibling_case}, headers=auth)
    assert resp.status_code == 400, resp.get_json()
    assert mine in ids_where(app, "claim_item", lambda m: m.dispute_case_id == own_case)


def test_case_org_is_set_by_the_server_and_cannot_be_moved(
        app: Flask, registrar_api: tuple[FlaskClient, dict[str, str]], own_case: int) -> None:
    c, auth = registrar_api
    e2 = org_id(app, "YX-DEMO-E002")
    resp = c.put(f"/api/v1/{CASE}/{own_case}", json={"current_org": e2}, headers=auth)
    assert resp.status_code == 400, resp.get_json()
    assert own_case in case_ids_at(app, "YX-DEMO-E001")


@pytest.mark.parametrize("key,value", [("state", "closed"), ("version", 99), ("created_by", 1),
                                       ("changed_on", "2020-01-01T00:00:00")])
def test_server_columns_in_a_payload_are_400(app: Flask, registrar_api: tuple[FlaskClient, dict[str, str]],
                                              own_case: int, key: str, value: Any) -> None:
    c, auth = registrar_api
    model = models(app)[CASE]
    with app.app_context():
        row = app.appbuilder.sm.session.get(model, own_case)
        before = (row.state, row.version, row.summary)
    resp = c.put(f"/api/v1/{CASE}/{own_case}", json={key: value, "summary": "夹带"}, headers=auth)
    assert resp.status_code == 400, resp.get_json()
    with app.app_context():
        app.appbuilder.sm.session.expire_all()
        row = app.appbuilder.sm.session.get(model, own_case)
        assert (row.state, row.version, row.summary) == before
    resp = c.post(f"/api/v1/{CASE}/", json={key: value, "summary": "夹带"}, headers=auth)
    assert resp.status_code == 400


def test_api_personal_data_is_masked_and_reveal_is_audited(app: Flask) -> None:
    cases = expected_cases(app, "registrar_t1s1")
    pid = min(ids_where(app, CHILD, lambda m: m.dispute_case_id.in_(cases) & m.id_no.isnot(None)))
    model = models(app)[CHILD]
    with app.app_context():
        clear = app.appbuilder.sm.session.get(model, pid).id_no
    # jm_lead reads every party but has no reveal grant
    c = app.test_client()
    lead = api_auth(c, "jm_lead")
    shown = c.get(f"/api/v1/{CHILD}/{pid}", headers=lead).get_json()["result"]["id_no"]
    assert shown != clear and shown.startswith(clear[:4]) and shown.endswith(clear[-4:]) and "*" in shown
    assert c.post(f"/api/v1/{CHILD}/{pid}/reveal", headers=lead).status_code == 403
    # station_head_t1s1 has reveal on party.* (roles.yaml)
    head = api_auth(c, "station_head_t1s1")
    assert c.get(f"/api/v1/{CHILD}/{pid}", headers=head).get_json()["result"]["id_no"] == shown
    audit = app.extensions["jiefen"].audit_log

    def reveals() -> list[Any]:
        with app.app_context():
            return app.appbuilder.sm.session.execute(
                select(audit).where(audit.event == "reveal", audit.entity == CHILD,
                                    audit.record_id == str(pid)).order_by(audit.id)).scalars().all()

    n_before = len(reveals())
    resp = c.post(f"/api/v1/{CHILD}/{pid}/reveal", headers=head)
    assert resp.status_code == 200
    assert resp.get_json()["result"]["id_no"] == clear
    rows = reveals()
    assert len(rows) == n_before + 1
    assert rows[-1].username == "station_head_t1s1" and "id_no" in rows[-1].detail
    # out of scope is a missing record, even for reveal
    other = min(ids_where(app, CHILD, lambda m: m.dispute_case_id.in_(expected_cases(app, "township_head_t2"))))
    assert c.post(f"/api/v1/{CHILD}/{other}/reveal", headers=head).status_code == 404


def test_html_pages_mask_and_edit_keeps_a_masked_value(app: Flask) -> None:
    cases = expected_cases(app, "station_head_t1s1")
    pid = min(ids_where(app, CHILD, lambda m: m.dispute_case_id.in_(cases) & m.mobile.isnot(None)))
    model = models(app)[CHILD]
    with app.app_context():
        clear = app.appbuilder.sm.session.get(model, pid).mobile
    h = client_for(app, "station_head_t1s1")
    base = view_base(app, CHILD)
    for url in (f"{base}/list/", f"{base}/show/{pid}", f"{base}/edit/{pid}"):
        assert clear not in h.get(url).get_data(as_text=True), url
    revealed = h.post(f"{base}/reveal/{pid}").get_data(as_text=True)
    assert clear in revealed


def test_a_masked_value_sent_back_unchanged_keeps_the_stored_value(app: Flask) -> None:
    cases = expected_cases(app, "station_head_t1s1")
    pid = min(ids_where(app, CHILD, lambda m: m.dispute_case_id.in_(cases) & m.mobile.isnot(None)))
    model = models(app)[CHILD]
    with app.app_context():
        clear = app.appbuilder.sm.session.get(model, pid).mobile
    c = app.test_client()
    head = api_auth(c, "station_head_t1s1")
    shown = c.get(f"/api/v1/{CHILD}/{pid}", headers=head).get_json()["result"]["mobile"]
    assert "*" in shown
    assert c.put(f"/api/v1/{CHILD}/{pid}", json={"mobile": shown}, headers=head).status_code == 200
    with app.app_context():
        app.appbuilder.sm.session.expire_all()
        assert app.appbuilder.sm.session.get(model, pid).mobile == clear


def test_api_field_info_has_no_catalogue_header(app: Flask) -> None:
    """FAB translates an empty description, and gettext("") is the .po header."""
    c = app.test_client()
    auth = api_auth(c, "admin")
    info = c.get("/api/v1/claim_item/_info?q=(keys:!(add_columns))", headers=auth).get_json()
    assert all("Project-Id-Version" not in (col["description"] or "") for col in info["add_columns"])


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=cmd", "\r=x"])
def test_export_cells_that_would_run_as_formulas_are_escaped(text: str) -> None:
    from app.ui.exporting import safe_cell

    assert safe_cell(text) == "'" + text
    assert safe_cell("调解成功") == "调解成功" and safe_cell(12) == 12


def denials(app: Flask, username: str) -> list[Any]:
    audit = app.extensions["jiefen"].audit_log
    with app.app_context():
        return app.appbuilder.sm.session.execute(
            select(audit).where(audit.event == "denied", audit.username == username).order_by(audit.id)
        ).scalars().all()


def test_refusals_are_audited(app: Flask, sibling_case: int, own_case: int) -> None:
    """A permission refusal (403) and a scope refusal (400) each leave one ``denied`` row."""
    c = app.test_client()
    auth = api_auth(c, "registrar_t1s2")
    before = len(denials(app, "registrar_t1s2"))
    assert c.delete(f"/api/v1/{CASE}/{own_case}", headers=auth).status_code == 403  # no delete grant
    rows = denials(app, "registrar_t1s2")
    assert len(rows) == before + 1 and "DELETE" in rows[-1].detail
    mine = min(ids_where(app, "claim_item", lambda m: m.dispute_case_id == sibling_case))
    assert c.put(f"/api/v1/claim_item/{mine}", json={"dispute_case": own_case}, headers=auth).status_code == 400
    rows = denials(app, "registrar_t1s2")
    assert len(rows) == before + 2 and rows[-1].entity == "claim_item" and rows[-1].record_id == str(mine)


def test_a_record_page_shows_its_history_to_whoever_may_open_it(app: Flask, own_case: int) -> None:
    c = app.test_client()
    auth = api_auth(c, "station_head_t1s1")
    assert c.put(f"/api/v1/{CASE}/{own_case}", json={"summary": "历史可见"}, headers=auth).status_code == 200
    html = client_for(app, "station_head_t1s1").get(f"{view_base(app, CASE)}/show/{own_case}").get_data(as_text=True)
    assert "jf-audit-history" in html
    block = html[html.index("jf-audit-history"):]
    assert "历史可见" in block and "station_head_t1s1" in block
