"""The demo registry is alive: a case in every state, each with a history ending in its state,
versions matching the history, derived deadlines, some overdue; the inbox of each demo head is non-empty."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask import Flask
from sqlalchemy import select

from app.demo.loader import BASE_DATE
from tests.support import workflow as wfs


def test_demo_cases_in_every_state_with_histories(workflow_app: Flask) -> None:
    with workflow_app.app_context():
        from app.workflow import common, queries

        session = workflow_app.appbuilder.sm.session
        ctx = common.context()
        case = ctx.case_model
        h = ctx.tables.history
        rows = session.execute(select(case.id, case.state, case.version).where(case.registry_no.like("YX-DJ-%"))).all()
        assert {r.state for r in rows} == set(ctx.wf.states)
        hist = defaultdict(list)
        for r in session.execute(select(h.case_id, h.seq, h.from_state, h.to_state).order_by(h.case_id, h.seq)):
            hist[r.case_id].append(r)
        for cid, state, version in rows:
            steps = hist[cid]
            if state == ctx.wf.initial:
                assert steps == []
                continue
            assert steps and steps[-1].to_state == state and steps[-1].seq == version
            assert steps[0].from_state == ctx.wf.initial
            assert all(a.to_state == b.from_state for a, b in zip(steps, steps[1:]))
        admin = common.principal_for(session, wfs.user_id(session, "admin"), ctx)
        late = queries.overdue(session, admin, today=BASE_DATE)
        assert late["total"] >= 5
        assert all(dt.date.fromisoformat(i["due_on"]) < BASE_DATE for i in late["items"])
        for user in ("station_head", "township_head_t1", "dispatcher", "arb_filing", "court_liaison"):
            p = common.principal_for(session, wfs.user_id(session, user), ctx)
            assert queries.inbox(session, p)["total"] > 0, user
        funnel = queries.funnel(session, admin)
        assert funnel["resolved_total"] > 0 and funnel["resolved"]["enterprise"] > 0
