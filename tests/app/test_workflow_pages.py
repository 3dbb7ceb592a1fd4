"""The case workflow's HTML pages (app/workflow/views.py): the case panel of the case page, its
action and extension forms, 待我处理, the overdue list, the funnel and the diagram page.

Client-based, on the workflow tests' own demo app (``workflow_app``): each test makes its own cases
at the demo stations, so the demo data and the other workflow tests are not disturbed."""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from generator import names
from tests.support import workflow as wfs

from .conftest import login
from .offline import external_refs


@contextmanager
def db(app: Flask) -> Iterator[tuple[Any, Any]]:
    """Session and workflow context for setting up and checking; requests run outside it (a
    request inside a pushed app context would share its ``g``, and so its per-request memos)."""
    with app.app_context():
        from app.workflow import common

        session = app.appbuilder.sm.session
        try:
            yield session, common.context()
        finally:
            session.rollback()


def client(app: Flask, username: str, lang: str = "zh") -> FlaskClient:
    c = app.test_client()
    login(c, username)
    c.get(f"/lang/{lang}")
    return c


def principal(session: Any, ctx: Any, username: str) -> Any:
    from app.workflow import common

    return common.principal_for(session, wfs.user_id(session, username), ctx)


def case_url(case_id: int) -> str:
    return f"/{names.view_class('dispute_case').lower()}/show/{case_id}"


def buttons(html: str) -> set[str]:
    return set(re.findall(r'<details class="jf-action" data-action="([a-z_]+)"', html))


def flashes(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", m) for m in re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S))


def state_of(session: Any, ctx: Any, case_id: int) -> tuple[str, int]:  # noqa: D103
    session.expire_all()
    c = ctx.case_model
    row = session.execute(select(c.state, c.version).where(c.id == case_id)).one()
    return row[0], row[1]


def station_case(app: Flask, head: str = "station_head_t1s1", state: str = "med_enterprise",
                 documents: tuple[str, ...] = (), route: bool = False) -> tuple[int, int]:
    """A new case at ``head``'s station: (id, version).  ``route``: made in triage and routed to
    the enterprise station by its head (so the mediation deadline runs from now)."""
    from app.workflow import engine

    with db(app) as (session, ctx):
        p = principal(session, ctx, head)
        case = wfs.new_case(session, ctx, "triage" if route else state, p.org_id)
        for kind in documents:
            wfs.add_document(session, ctx, case.id, kind)
        session.commit()
        if route:
            engine.perform(session, case.id, "route_enterprise", principal=p, expected_version=case.version,
                           data={"fields": {"current_org": p.org_id}})
        return case.id, state_of(session, ctx, case.id)[1]


# ---------------------------------------------------------------- the case page

def test_case_page_shows_only_my_actions_deadlines_and_timeline(workflow_app: Flask) -> None:
    from app.workflow import engine

    case_id, version = station_case(workflow_app)
    html = client(workflow_app, "station_head_t1s1").get(case_url(case_id)).get_data(as_text=True)
    assert 'class="panel panel-primary jf-case"' in html and 'data-state="med_enterprise"' in html
    with db(workflow_app) as (session, ctx):
        head = principal(session, ctx, "station_head_t1s1")
        expected = {a["name"] for a in engine.available(session, session.get(ctx.case_model, case_id), head)}
    assert buttons(html) == expected and "escalate_to_township" in expected
    # the escalation form asks for its field and names the missing attachment
    form = html[html.index('data-action="escalate_to_township"'):]
    form = form[:form.index("</details>")]
    assert 'name="f_escalation_reason"' in form and 'data-name="transfer_materials"' in form
    assert 'name="csrf_token"' in form and f'name="version" value="{version}"' in form
    assert "移交材料" in form
    # a mediator of the same station may not escalate (workflows.yaml gives it to the station head)
    med = client(workflow_app, "mediator_t1s1").get(case_url(case_id))
    if med.status_code == 200:
        assert "escalate_to_township" not in buttons(med.get_data(as_text=True))
    # a head of another station does not even see the case
    assert client(workflow_app, "station_head_t2s1").get(case_url(case_id)).status_code in (302, 403, 404)


def test_case_page_deadline_countdown(workflow_app: Flask) -> None:
    case_id, _v = station_case(workflow_app, route=True)
    html = client(workflow_app, "station_head_t1s1").get(case_url(case_id)).get_data(as_text=True)
    row = re.search(r'<tr class="jf-deadline jf-dl-(\w+)" data-deadline="mediation_15d">(.*?)</tr>', html, re.S)
    assert row, "the mediation deadline is listed"
    assert row.group(1) in ("on_time", "due_soon")
    assert "正常" in row.group(2) or "即将到期" in row.group(2)
    assert "剩余" in row.group(2) and "个工作日" in row.group(2)
    assert 'class="jf-extend-form' in row.group(2)  # station heads may extend the mediation deadline
    assert '<li class="jf-step" data-transition="route_enterprise">' in html  # the timeline
    en = client(workflow_app, "station_head_t1s1", "en").get(case_url(case_id)).get_data(as_text=True)
    assert "Working days left" in en and ("On time" in en or "Due soon" in en)


def test_transition_through_the_form_changes_state_and_timeline(workflow_app: Flask) -> None:
    case_id, version = station_case(workflow_app, documents=("transfer_materials",))
    c = client(workflow_app, "station_head_t1s1")
    resp = c.post(f"/workflow/case/{case_id}/act/escalate_to_township",
                  data={"version": version, "f_escalation_reason": "涉及人数多，需乡镇调解（测试）", "comment": "请乡镇接手"})
    assert resp.status_code == 302
    with db(workflow_app) as (session, ctx):
        assert state_of(session, ctx, case_id)[0] == "med_township"
    html = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已完成“上报乡镇调解”" in flashes(html)
    town = client(workflow_app, "township_head_t1")
    page = town.get(case_url(case_id)).get_data(as_text=True)
    assert 'data-state="med_township"' in page
    assert 'data-transition="escalate_to_township"' in page and "请乡镇接手" in page
    assert f'data-case="{case_id}"' in town.get("/workflow/inbox").get_data(as_text=True)


def test_refusals_come_back_as_flash_messages(workflow_app: Flask) -> None:
    case_id, version = station_case(workflow_app)
    with db(workflow_app) as (session, ctx):
        before = wfs.counts(session, ctx, case_id)
    head = client(workflow_app, "station_head_t1s1")
    url = f"/workflow/case/{case_id}/act/escalate_to_township"
    # 422: the reason and the transfer materials are missing
    text = flashes(head.post(url, data={"version": version}, follow_redirects=True).get_data(as_text=True))
    assert "条件不足" in text and "上报理由" in text and "移交材料" in text
    # 409: a stale version
    resp = head.post(url, data={"version": version + 5, "f_escalation_reason": "x"}, follow_redirects=True)
    assert "操作冲突" in flashes(resp.get_data(as_text=True))
    # 403: a registrar may not escalate (roles.yaml grants it no transition of this kind)
    resp = client(workflow_app, "registrar_t1s1").post(url, data={"version": version, "f_escalation_reason": "x"})
    assert resp.status_code == 302
    assert "无权操作" in flashes(client_follow(workflow_app, "registrar_t1s1", url, version))
    # English
    resp = client(workflow_app, "station_head_t1s1", "en").post(url, data={"version": version}, follow_redirects=True)
    assert "Requirements missing" in flashes(resp.get_data(as_text=True))
    with db(workflow_app) as (session, ctx):
        assert wfs.counts(session, ctx, case_id) == before


def client_follow(app: Flask, username: str, url: str, version: int) -> str:
    """Post the form as ``username`` and read the flash on the next page it can open (its inbox)."""
    c = client(app, username)
    c.post(url, data={"version": version, "f_escalation_reason": "x"})
    return c.get("/workflow/inbox").get_data(as_text=True)


def test_extension_form(workflow_app: Flask) -> None:
    from app.workflow import deadlines as dl

    case_id, _v = station_case(workflow_app, route=True)
    with db(workflow_app) as (session, _ctx):
        due = {d.name: d for d in dl.case_deadlines(session, case_id).deadlines}["mediation_15d"].due_on
    c = client(workflow_app, "station_head_t1s1")
    url = f"/workflow/case/{case_id}/extend/mediation_15d"
    resp = c.post(url, data={"days": "5", "reason": ""}, follow_redirects=True)
    assert "延长理由" in flashes(resp.get_data(as_text=True))
    resp = c.post(url, data={"days": "5", "reason": "双方同意延长"}, follow_redirects=True)
    assert "已批准延期" in flashes(resp.get_data(as_text=True))
    with db(workflow_app) as (session, _ctx):
        after = {d.name: d for d in dl.case_deadlines(session, case_id).deadlines}["mediation_15d"]
    assert after.extended_days == 5 and after.due_on > due
    # a mediator may not approve extensions
    m = client(workflow_app, "mediator_t1s1")
    m.post(url, data={"days": "1", "reason": "x"})
    assert "无权操作" in flashes(m.get("/workflow/inbox").get_data(as_text=True))


# ---------------------------------------------------------------- lists

def ids_on(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'<tr data-case="(\d+)"', html)}


def test_inbox_is_scoped_to_my_role_and_organisation(workflow_app: Flask) -> None:
    from app.workflow import queries

    mine, _v = station_case(workflow_app)
    theirs, _v = station_case(workflow_app, head="station_head_t2s1")
    html = client(workflow_app, "station_head_t1s1").get("/workflow/inbox").get_data(as_text=True)
    with db(workflow_app) as (session, ctx):
        data = queries.inbox(session, principal(session, ctx, "station_head_t1s1"), limit=50)
    assert ids_on(html) == {i["id"] for i in data["items"]}
    assert mine in ids_on(html) and theirs not in ids_on(html)
    assert "待我处理" in html
    other = client(workflow_app, "station_head_t2s1").get("/workflow/inbox").get_data(as_text=True)
    assert theirs in ids_on(other) and mine not in ids_on(other)


def test_overdue_list_is_scoped(workflow_app: Flask) -> None:
    from app.workflow import queries

    county = client(workflow_app, "jm_office").get("/workflow/overdue").get_data(as_text=True)
    station = client(workflow_app, "station_head_t1s1").get("/workflow/overdue").get_data(as_text=True)
    with db(workflow_app) as (session, ctx):
        head = principal(session, ctx, "station_head_t1s1")
        expected = queries.overdue(session, head)
        every = queries.overdue(session, principal(session, ctx, "jm_office"))
        readable = ctx.access.clause(ctx.case_model, "read", p=head)
        m = ctx.case_model
        assert set(session.scalars(select(m.id).where(m.id.in_(ids_on(station)), readable))) == ids_on(station)
    assert ids_on(station) == {i["id"] for i in expected["items"]}
    assert ids_on(county) == {i["id"] for i in every["items"]}
    totals = [int(re.search(r'<span class="badge jf-total">(\d+)</span>', h).group(1)) for h in (county, station)]
    assert totals == [every["total"], expected["total"]] and every["total"] > expected["total"]


def test_funnel_counts_per_scope(workflow_app: Flask) -> None:
    from app.workflow import queries

    totals = {}
    for user in ("jm_office", "township_head_t1"):
        html = client(workflow_app, user).get("/workflow/funnel").get_data(as_text=True)
        with db(workflow_app) as (session, ctx):
            data = queries.funnel(session, principal(session, ctx, user))
        total = re.search(r'各状态在办案件 <span class="badge jf-total">(\d+)</span>', html)
        assert total and int(total.group(1)) == data["open_total"], user
        for tier in queries.TIER_ORDER:
            row = re.search(rf'<tr data-tier="{tier}"><td>[^<]+</td><td class="text-right">(\d+)</td>', html)
            assert row and int(row.group(1)) == data["resolved"][tier], (user, tier)
        totals[user] = data["open_total"]
    assert 0 < totals["township_head_t1"] < totals["jm_office"]


def test_menu_entries_follow_the_read_grant(workflow_app: Flask) -> None:
    html = client(workflow_app, "station_head_t1s1").get("/").get_data(as_text=True)
    for href in ("/workflow/inbox", "/workflow/overdue", "/workflow/funnel"):
        assert f'href="{href}"' in html
    assert 'href="/workflow-diagram/"' not in html  # a system page
    spec = workflow_app.extensions["jiefen"].spec
    no_read = next(r for r in ("finance", "justice", "editor") if "read" not in spec.roles[r].actions_on("dispute_case"))
    c = client(workflow_app, no_read)
    assert 'href="/workflow/inbox"' not in c.get("/").get_data(as_text=True)
    assert c.get("/workflow/inbox").status_code in (302, 403)


def test_diagram_page_renders_locally(workflow_app: Flask) -> None:
    c = client(workflow_app, "admin")
    html = c.get("/workflow-diagram/").get_data(as_text=True)
    assert '<pre class="mermaid" id="jf-mermaid">stateDiagram-v2' in html
    assert "/static/vendor/mermaid/mermaid.min.js" in html and "/static/js/workflow-diagram.js" in html
    assert external_refs(html) == []
    for path in ("/static/vendor/mermaid/mermaid.min.js", "/static/js/workflow-diagram.js"):
        with c.get(path) as resp:
            assert resp.status_code == 200
    assert client(workflow_app, "station_head_t1s1").get("/workflow-diagram/").status_code in (302, 403)
