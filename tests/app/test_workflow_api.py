"""The workflow REST endpoints with JWT and session auth: 200/403/404/409/422, history, deadlines,
extensions, lists, and the Origin check on cookie-authenticated writes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.app.conftest import api_auth, login
from tests.support import workflow as wfs


def _case(app: Flask, state: str, org_type: str = "county_centre", docs: tuple[str, ...] = (), **values: Any) -> tuple[int, int]:
    with app.app_context():
        from app.workflow import common

        session = app.appbuilder.sm.session
        ctx = common.context()
        case = wfs.new_case(session, ctx, state, wfs.org_of_type(session, ctx, org_type), **values)
        for d in docs:
            wfs.add_document(session, ctx, case.id, d)
        session.commit()
        return case.id, case.version


def test_list_and_perform_with_jwt(workflow_app: Flask) -> None:
    client = workflow_app.test_client()
    auth = api_auth(client, "dispatcher")
    case_id, version = _case(workflow_app, "registered")
    r = client.get(f"/api/v1/dispute_case/{case_id}/transitions", headers=auth)
    assert r.status_code == 200
    actions = {a["name"]: a for a in r.get_json()["result"]["actions"]}
    assert "submit_triage" in actions and not actions["submit_triage"]["ready"]
    assert {m["name"] for m in actions["submit_triage"]["missing"]} == {"consent_form"}
    url = f"/api/v1/dispute_case/{case_id}/transitions/submit_triage"
    r = client.post(url, json={"version": version}, headers=auth)
    assert r.status_code == 422 and r.get_json()["missing"][0]["name"] == "consent_form"
    with workflow_app.app_context():
        from app.workflow import common

        wfs.add_document(workflow_app.appbuilder.sm.session, common.context(), case_id, "consent_form")
        workflow_app.appbuilder.sm.session.commit()
    assert client.post(url, json={}, headers=auth).status_code == 422  # no version
    assert client.post(url, data="x", headers=auth).status_code == 400
    assert client.post(url, json={"version": version + 3}, headers=auth).status_code == 409
    r = client.post(url, json={"version": version, "comment": "材料齐全", "data": {"note": 1}}, headers=auth)
    assert r.status_code == 200, r.get_json()
    res = r.get_json()["result"]
    assert res["to_state"] == "triage" and res["version"] == version + 1
    assert any(d["name"] == "triage_3wd" and d["is_open"] for d in res["deadlines"]["deadlines"])
    assert client.post(url, json={"version": version + 1}, headers=auth).status_code == 409  # wrong state now
    hist = client.get(f"/api/v1/dispute_case/{case_id}/history", headers=auth).get_json()["result"]
    assert [(h["from_state"], h["to_state"], h["actor_username"], h["comment"]) for h in hist] == [
        ("registered", "triage", "dispatcher", "材料齐全")]
    assert hist[0]["data"]["input"] == {"note": 1}
    dls = client.get(f"/api/v1/dispute_case/{case_id}/deadlines", headers=auth).get_json()["result"]
    assert dls["deadlines"][0]["name"] == "triage_3wd"


def test_forbidden_not_found_and_unknown(workflow_app: Flask) -> None:
    client = workflow_app.test_client()
    case_id, version = _case(workflow_app, "registered", docs=("consent_form",))
    auditor = api_auth(client, "auditor")  # reads every case, runs no transition
    r = client.post(f"/api/v1/dispute_case/{case_id}/transitions/submit_triage", json={"version": version},
                    headers=auditor)
    assert r.status_code == 403
    assert client.get(f"/api/v1/dispute_case/{case_id}/transitions", headers=auditor).get_json()["result"]["actions"] == []
    other = api_auth(client, "station_head_t2s1")  # may submit, but the case is not in its station
    r = client.post(f"/api/v1/dispute_case/{case_id}/transitions/submit_triage", json={"version": version},
                    headers=other)
    assert r.status_code == 404
    assert client.get(f"/api/v1/dispute_case/{case_id}/history", headers=other).status_code == 404
    disp = api_auth(client, "dispatcher")
    assert client.post(f"/api/v1/dispute_case/{case_id}/transitions/no_such", json={"version": version},
                       headers=disp).status_code == 404
    assert client.get("/api/v1/dispute_case/999999/transitions", headers=disp).status_code == 404
    assert client.get(f"/api/v1/dispute_case/{case_id}/transitions").status_code == 401


def test_cookie_writes_need_the_same_origin(workflow_app: Flask) -> None:
    client = workflow_app.test_client()
    login(client, "dispatcher")
    case_id, version = _case(workflow_app, "registered", docs=("consent_form",))
    url = f"/api/v1/dispute_case/{case_id}/transitions/submit_triage"
    r = client.post(url, json={"version": version}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = client.post(url, json={"version": version}, headers={"Origin": "http://localhost"})
    assert r.status_code == 200, r.get_json()


def test_extension_endpoint(workflow_app: Flask) -> None:
    client = workflow_app.test_client()
    case_id, version = _case(workflow_app, "arb_applied", "arb_institute", docs=("acceptance_notice",),
                             arb_case_no="阳劳人仲案字〔2026〕API号")
    filing = api_auth(client, "arb_filing")
    r = client.post(f"/api/v1/dispute_case/{case_id}/transitions/accept_arbitration", json={"version": version},
                    headers=filing)
    assert r.status_code == 200, r.get_json()
    url = f"/api/v1/dispute_case/{case_id}/deadlines/award_45d/extensions"
    assert client.post(url, json={"days": 15, "reason": "复杂"}, headers=filing).status_code == 403
    head = api_auth(client, "arb_head")
    assert client.post(url, json={"days": 15}, headers=head).status_code == 422
    assert client.post(url, json={"days": 20, "reason": "复杂"}, headers=head).status_code == 422
    r = client.post(url, json={"days": 15, "reason": "案情复杂（演示）"}, headers=head)
    assert r.status_code == 200
    award = next(d for d in r.get_json()["result"]["deadlines"] if d["name"] == "award_45d")
    assert award["extended_days"] == 15
    ext = client.get(f"/api/v1/dispute_case/{case_id}/deadlines", headers=head).get_json()["result"]["extensions"]
    assert ext[0]["approved_by"] == "arb_head" and ext[0]["days"] == 15
    assert client.post(f"/api/v1/dispute_case/{case_id}/deadlines/nope/extensions", json={"days": 1, "reason": "x"},
                       headers=head).status_code == 404


@pytest.mark.parametrize("path", ["inbox", "overdue", "funnel"])
def test_list_endpoints(workflow_app: Flask, path: str) -> None:
    client = workflow_app.test_client()
    r = client.get(f"/api/v1/workflow/{path}", headers=api_auth(client, "township_head_t1"))
    assert r.status_code == 200
    body = r.get_json()["result"]
    assert ("items" in body) if path != "funnel" else ("resolved" in body and "open" in body)


def test_state_still_refused_by_put(workflow_app: Flask) -> None:
    client = workflow_app.test_client()
    case_id, _version = _case(workflow_app, "registered")
    r = client.put(f"/api/v1/dispute_case/{case_id}", json={"state": "closed"}, headers=api_auth(client, "dispatcher"))
    assert r.status_code == 400
