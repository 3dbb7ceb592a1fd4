"""Every transition of the shipped workflow, generated from the spec: one allowed role succeeds,
one role without it gets 403, and each guard (field, attachment, condition, comment) unmet gets 422,
with the case's state, version, organisation, history, audit rows and related records unchanged."""

from __future__ import annotations

import json

from typing import Any, Iterator

import pytest
from flask import Flask
from sqlalchemy import delete, select, update

from generator import load
from generator.spec import Transition
from tests.app.conftest import CONFIG
from tests.support import workflow as wfs

SPEC = load(str(CONFIG)).spec
WF = SPEC.workflows["case_flow"]
# Roles tried, in order, as the one that may not run a transition (those the config has).
OUTSIDERS = tuple(r for r in ("registrar", "court_liaison", "arb_clerk", "union_liaison", "dispatcher", "arbitrator",
                              "mediator") if r in SPEC.roles) + tuple(sorted(SPEC.roles))


def _allowed_role(t: Transition) -> str:
    able = [r for r in t.roles if SPEC.roles[r].may_run(WF.name, t.name)]
    county = [r for r in able if SPEC.roles[r].scope in ("county", "all")]
    return (county or able)[0]


def _outsider(t: Transition) -> str:
    return next(r for r in OUTSIDERS if not (r in t.roles and SPEC.roles[r].may_run(WF.name, t.name)))


def _can_be_empty(field: str) -> bool:
    """A NOT NULL column (a field required by entities.yaml) can only be "empty" when it is text."""
    f = SPEC.entities["dispute_case"].fields[field]
    return not f.required or f.type in ("string", "text")


def _guards(t: Transition) -> list[tuple[str, str]]:
    out = [("field", f) for f in t.required_fields if _can_be_empty(f)]
    out += [("attachment", a) for a in t.required_attachments]
    out += [("condition", str(i)) for i in range(len(t.conditions))]
    if t.comment_required:
        out.append(("comment", "comment"))
    return out


GUARD_CASES = [(t.name, kind, name) for t in WF.transitions.values() for kind, name in _guards(t)]


@pytest.fixture()
def env(workflow_app: Flask) -> Iterator[tuple[Any, Any]]:
    with workflow_app.app_context():
        from app.workflow import common

        session = workflow_app.appbuilder.sm.session
        yield session, common.context()
        session.rollback()


def _principal(session: Any, ctx: Any, role: str) -> Any:
    from app.workflow import common

    return common.principal_for(session, wfs.user_id(session, role), ctx)


def _ready(session: Any, ctx: Any, t: Transition, role: str) -> tuple[Any, Any]:
    p = _principal(session, ctx, role)
    mediator = None
    if SPEC.roles[role].scope == "own":
        m = ctx.model("mediator")
        mediator = session.execute(select(m.id).where(m.user_id == p.user_id)).scalar()
    case = wfs.ready_case(session, ctx, t, p, mediator)
    session.commit()
    return case.id, p


def test_every_transition_is_covered() -> None:
    assert len(WF.transitions) >= 50
    assert all(_allowed_role(t) and _outsider(t) for t in WF.transitions.values())


@pytest.mark.parametrize("name", list(WF.transitions))
def test_allowed_role_succeeds(env: tuple[Any, Any], name: str) -> None:
    from app.workflow import engine

    session, ctx = env
    t = WF.transitions[name]
    case_id, p = _ready(session, ctx, t, _allowed_role(t))
    before = wfs.counts(session, ctx, case_id)
    result = engine.perform(session, case_id, name, principal=p, expected_version=before["version"],
                            comment="测试意见（演示）")
    after = wfs.counts(session, ctx, case_id)
    assert (result.from_state, result.to_state) == (t.sources[0], t.target)
    assert after["state"] == t.target and after["version"] == before["version"] + 1
    assert after["history"] == before["history"] + 1 and after["audit"] == before["audit"] + 1
    created = [e.create for e in t.effects if e.create]
    for ent in set(created):
        assert after[ent] == before[ent] + created.count(ent), ent
    hist = engine.history(session, case_id)[-1]
    assert hist["transition"] == name and hist["actor_user_id"] == p.user_id and hist["comment"] == "测试意见（演示）"
    if t.assign is not None:
        assert result.assigned is not None and result.assigned["role"] == t.assign.role


@pytest.mark.parametrize("name", list(WF.transitions))
def test_role_without_the_transition_gets_403(env: tuple[Any, Any], name: str) -> None:
    from app.workflow import TransitionForbidden, engine

    session, ctx = env
    t = WF.transitions[name]
    case_id, _p = _ready(session, ctx, t, _allowed_role(t))
    outsider = _principal(session, ctx, _outsider(t))
    before = wfs.counts(session, ctx, case_id)
    with pytest.raises(TransitionForbidden) as err:
        engine.perform(session, case_id, name, principal=outsider, expected_version=before["version"], comment="x")
    assert err.value.status == 403
    assert wfs.counts(session, ctx, case_id) == before


@pytest.mark.parametrize("name,kind,item", GUARD_CASES)
def test_each_unmet_guard_gets_422(env: tuple[Any, Any], name: str, kind: str, item: str) -> None:
    from app.workflow import GuardFailed, engine
    from generator import names

    session, ctx = env
    t = WF.transitions[name]
    case_id, p = _ready(session, ctx, t, _allowed_role(t))
    comment: Any = "测试意见（演示）"
    case = ctx.case_model
    if kind == "field":
        f = SPEC.entities["dispute_case"].fields[item]
        empty = "" if f.required else None
        session.execute(update(case).where(case.id == case_id).values({names.column_name(f.name, f.type): empty}))
    elif kind == "attachment":
        doc = ctx.model("case_document")
        session.execute(delete(doc).where(doc.dispute_case_id == case_id, doc.doc_type == item))
    elif kind == "condition":
        cond = t.conditions[int(item)]
        if cond.checklist:
            res, insp = ctx.model("inspection_item_result"), ctx.model("inspection")
            org = session.execute(select(getattr(case, names.column_name(cond.org_field, "ref")))
                                  .where(case.id == case_id)).scalar()
            session.execute(update(res).where(res.inspection_id.in_(select(insp.id).where(insp.org_id == org)))
                            .values(item_result="fail"))
            # the tracker rates from the submitted inspection's summary: the seal item now fails
            for iid, summary in session.execute(select(insp.id, insp.item_summary).where(insp.org_id == org)).all():
                rated = json.loads(summary) if summary else {}
                rated[cond.item] = "fail"
                session.execute(update(insp).where(insp.id == iid).values(item_summary=json.dumps(rated)))
        else:
            rel = ctx.model(cond.related)
            session.execute(delete(rel).where(rel.dispute_case_id == case_id))
    else:
        comment = "  "
    session.commit()
    before = wfs.counts(session, ctx, case_id)
    with pytest.raises(GuardFailed) as err:
        engine.perform(session, case_id, name, principal=p, expected_version=before["version"], comment=comment)
    assert err.value.status == 422
    kinds = [(m["kind"], m["name"]) for m in err.value.missing]
    from app.workflow.guards import condition_name

    expected = (kind, condition_name(t.conditions[int(item)]) if kind == "condition" else item)
    assert expected in kinds, kinds
    # only what depends on the removed item may be listed with it (no sealing org: no seal check)
    dependent = {("condition", condition_name(c)) for c in t.conditions if kind == "field" and c.org_field == item}
    assert set(kinds) - {expected} <= dependent, kinds
    assert wfs.counts(session, ctx, case_id) == before
    if kind == "condition" and t.conditions[int(item)].checklist:  # put the seal back for later tests
        res = ctx.model("inspection_item_result")
        session.execute(update(res).where(res.item_result == "fail").values(item_result="pass"))
        session.commit()


def test_wrong_source_state_and_stale_version_get_409(env: tuple[Any, Any]) -> None:
    from app.workflow import VersionConflict, WrongState, engine

    session, ctx = env
    t = WF.transitions["submit_triage"]
    case_id, p = _ready(session, ctx, t, "dispatcher")
    before = wfs.counts(session, ctx, case_id)
    with pytest.raises(VersionConflict):
        engine.perform(session, case_id, t.name, principal=p, expected_version=before["version"] + 7)
    assert wfs.counts(session, ctx, case_id) == before
    engine.perform(session, case_id, t.name, principal=p, expected_version=before["version"])
    mid = wfs.counts(session, ctx, case_id)
    with pytest.raises(WrongState) as err:
        engine.perform(session, case_id, t.name, principal=p, expected_version=mid["version"])
    assert err.value.status == 409 and wfs.counts(session, ctx, case_id) == mid


def test_available_lists_only_my_transitions_with_what_they_lack(env: tuple[Any, Any]) -> None:
    from app.workflow import engine

    session, ctx = env
    p = _principal(session, ctx, "station_head")
    case = wfs.new_case(session, ctx, "med_enterprise", p.org_id)
    session.commit()
    actions = {a["name"]: a for a in engine.available(session, case, p)}
    expected = {t.name for t in WF.transitions.values() if "med_enterprise" in t.sources
                and "station_head" in t.roles and SPEC.roles["station_head"].may_run(WF.name, t.name)}
    assert set(actions) == expected
    esc = actions["escalate_to_township"]
    assert not esc["ready"] and {(m["kind"], m["name"]) for m in esc["missing"]} == {
        ("field", "escalation_reason"), ("attachment", "transfer_materials")}
    outsider = _principal(session, ctx, "station_head_t2s1")
    assert engine.available(session, case, outsider) == []  # another station: out of scope


def test_escalation_moves_the_case_to_the_parent_township(env: tuple[Any, Any]) -> None:
    from app.workflow import engine, queries

    session, ctx = env
    head = _principal(session, ctx, "station_head_t1s1")
    case = wfs.new_case(session, ctx, "med_enterprise", head.org_id)
    wfs.add_document(session, ctx, case.id, "transfer_materials")
    session.commit()
    res = engine.perform(session, case.id, "escalate_to_township", principal=head, expected_version=case.version,
                         data={"fields": {"escalation_reason": "金额较大，需乡镇调解（演示）"}})
    org = ctx.model("org")
    parent = session.execute(select(org.parent_id).where(org.id == head.org_id)).scalar()
    assert res.assigned["org_id"] == parent and res.to_state == "med_township"
    town = _principal(session, ctx, "township_head_t1")
    assert town.org_id == parent
    ids = [i["id"] for i in queries.inbox(session, town, limit=500)["items"]]
    assert case.id in ids
    assert case.id not in [i["id"] for i in queries.inbox(session, head, limit=500)["items"]]


def test_fields_sent_with_a_transition_must_be_editable(env: tuple[Any, Any]) -> None:
    from app.workflow import BadInput, engine

    session, ctx = env
    p = _principal(session, ctx, "dispatcher")
    case = wfs.new_case(session, ctx, "med_failed", p.org_id)
    session.commit()
    before = wfs.counts(session, ctx, case.id)
    with pytest.raises(BadInput):
        engine.perform(session, case.id, "drop_case", principal=p, expected_version=case.version, comment="x",
                       data={"fields": {"registry_no": "X"}})
    assert wfs.counts(session, ctx, case.id) == before
