"""Deadlines under frozen time: 国庆 and 春节 with their 调休 working Saturdays, an award deadline
extended by 15 days, a paused deadline, a date beyond the calendar's coverage, the YAML override
year, and extensions through the database (role, reason, cap, audit, nothing changed on refusal)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from generator import load
from tests.support import workflow as wfs

ROOT = Path(__file__).resolve().parents[2]
SPEC = load(str(ROOT / "config")).spec
D = dt.date
T = dt.datetime


@pytest.fixture(scope="module")
def ctx() -> Any:
    from app.registry import registry_for
    from app.workflow import common

    return common.context(reg=registry_for(SPEC))


def _report(ctx: Any, steps: list[tuple[dt.datetime, str]], as_of: dt.date, ext: list[Any] = ()) -> dict[str, Any]:
    from app.workflow import deadlines as dl

    rep = dl.compute(ctx, dl.as_steps([{"at": a, "to_state": s} for a, s in steps]), list(ext), as_of)
    return {"by": {d.name: d for d in rep.deadlines}, "warnings": rep.warnings}


def test_mediation_started_before_national_day_ends_after_the_holiday(ctx: Any) -> None:
    r = _report(ctx, [(T(2026, 9, 20, 10), "med_enterprise")], D(2026, 10, 7))
    med = r["by"]["mediation_15d"]
    # 9-20 + 15 = 10-05, inside 国庆 (10-01..10-07): moved to the first working day after it
    assert med.due_on == D(2026, 10, 8) and med.day_type == "natural"
    assert med.status == "due_soon" and r["warnings"] == []
    assert _report(ctx, [(T(2026, 9, 20, 10), "med_enterprise")], D(2026, 10, 9))["by"]["mediation_15d"].status == "overdue"
    assert _report(ctx, [(T(2026, 9, 20, 10), "med_enterprise")], D(2026, 9, 25))["by"]["mediation_15d"].status == "on_time"


def test_working_days_over_national_day_count_the_make_up_saturday(ctx: Any) -> None:
    r = _report(ctx, [(T(2026, 9, 30, 16), "arb_applied")], D(2026, 10, 8))
    acc = r["by"]["arb_accept_5d"]
    # working days after 9-30: 10-08, 10-09, 10-10 (调休 Saturday), 10-12, 10-13
    assert acc.due_on == D(2026, 10, 13) and acc.remaining_working_days == 4 and acc.status == "on_time"


def test_spring_festival_make_up_saturday_and_holiday_roll(ctx: Any) -> None:
    r = _report(ctx, [(T(2026, 2, 13, 9), "triage")], D(2026, 2, 13))
    # working days after Fri 2-13: 2-14 (调休 Saturday), 2-24, 2-25 (2-15..2-23 春节)
    assert r["by"]["triage_3wd"].due_on == D(2026, 2, 25)
    med = _report(ctx, [(T(2026, 2, 3, 9), "med_township")], D(2026, 2, 3))["by"]["mediation_15d"]
    assert med.due_on == D(2026, 2, 24)  # 2-18 is 春节: the next working day


def test_award_deadline_extended_by_15_days(ctx: Any) -> None:
    start = T(2026, 3, 2, 9)
    plain = _report(ctx, [(start, "arb_accepted")], D(2026, 4, 1))["by"]["award_45d"]
    assert plain.due_on == D(2026, 4, 16) and plain.extension_max == 15 and plain.extension_roles == ("arb_head",)
    ext = _report(ctx, [(start, "arb_accepted")], D(2026, 4, 20), [("award_45d", start, 15)])["by"]["award_45d"]
    # 3-02 + 60 = 5-01, 劳动节 5-01..5-05: due 5-06; not overdue on 4-20 any more
    assert ext.due_on == D(2026, 5, 6) and ext.extended_days == 15 and ext.status == "on_time"
    other_run = _report(ctx, [(start, "arb_accepted")], D(2026, 4, 20), [("award_45d", start.replace(day=1), 15)])
    assert other_run["by"]["award_45d"].due_on == D(2026, 4, 16)  # an extension of an earlier run does not count


def test_paused_deadline_does_not_count_the_suspension(ctx: Any) -> None:
    steps = [(T(2026, 3, 2, 9), "arb_accepted"), (T(2026, 3, 10, 9), "arb_suspended")]
    paused = _report(ctx, steps, D(2026, 3, 15))["by"]["award_45d"]
    assert paused.status == "paused" and paused.is_open and paused.paused_days == 5
    resumed = _report(ctx, steps + [(T(2026, 3, 20, 9), "hearing")], D(2026, 4, 20))["by"]["award_45d"]
    # 45 + 10 paused days = 4-26 (Sunday) → Monday 4-27
    assert resumed.paused_days == 10 and resumed.due_on == D(2026, 4, 27) and resumed.status == "due_soon"
    done = _report(ctx, steps + [(T(2026, 3, 20, 9), "hearing"), (T(2026, 4, 28, 9), "award")], D(2026, 5, 1))
    assert done["by"]["award_45d"].status == "missed" and not done["by"]["award_45d"].is_open


def test_a_new_mediation_level_restarts_the_clock_and_stop_states_stop_it(ctx: Any) -> None:
    steps = [(T(2026, 6, 1, 9), "med_enterprise"), (T(2026, 6, 10, 9), "med_township")]
    assert _report(ctx, steps, D(2026, 6, 11))["by"]["mediation_15d"].started_at == T(2026, 6, 10, 9)
    r = _report(ctx, steps + [(T(2026, 6, 12, 9), "agreed")], D(2026, 6, 30))
    assert r["by"]["mediation_15d"].status == "met"
    assert {"arb_review_window_15d", "judicial_conf_window_30d"} <= {n for n, d in r["by"].items() if d.is_open}


def test_yaml_override_year_is_covered(ctx: Any) -> None:
    r = _report(ctx, [(T(2026, 12, 17, 9), "med_enterprise")], D(2026, 12, 20))
    # 12-17 + 15 = 2027-01-01 元旦 (calendar.overrides 2027) → Sat, Sun → Monday 1-04
    assert r["by"]["mediation_15d"].due_on == D(2027, 1, 4) and r["warnings"] == []


def test_a_date_beyond_coverage_warns_and_still_computes(ctx: Any, caplog: pytest.LogCaptureFixture) -> None:
    from app.workflow import calendar as wcal

    wcal.reset_warnings()
    with caplog.at_level(logging.WARNING, logger="app.workflow.calendar"):
        r = _report(ctx, [(T(2028, 3, 1, 9), "arb_applied")], D(2028, 3, 2))
    acc = r["by"]["arb_accept_5d"]
    assert acc.due_on == D(2028, 3, 8)  # Monday–Friday assumed
    assert len(r["warnings"]) == 1 and "2028" in r["warnings"][0]
    assert any("2028" in rec.getMessage() for rec in caplog.records)
    lo, hi = ctx.calendar.covered_years()
    assert lo <= 2026 and hi == 2027


# ------------------------------------------------------------------ extensions in the database

@pytest.fixture()
def env(workflow_app: Flask) -> Any:
    with workflow_app.app_context():
        from app.workflow import common

        session = workflow_app.appbuilder.sm.session
        yield session, common.context()
        session.rollback()


def _accepted_case(session: Any, ctx: Any) -> tuple[int, Any]:
    from app.workflow import common, engine

    filing = common.principal_for(session, wfs.user_id(session, "arb_filing"), ctx)
    case = wfs.new_case(session, ctx, "arb_applied", wfs.org_of_type(session, ctx, "arb_institute"),
                        arb_case_no="阳劳人仲案字〔2026〕T1号")
    wfs.add_document(session, ctx, case.id, "acceptance_notice")
    session.commit()
    engine.perform(session, case.id, "accept_arbitration", principal=filing, expected_version=case.version,
                   now=T(2026, 3, 2, 9))
    return case.id, filing


def test_extension_needs_the_role_a_reason_and_stays_within_the_cap(env: Any) -> None:
    from app.workflow import BadInput, GuardFailed, TransitionForbidden, common
    from app.workflow import deadlines as dl

    session, ctx = env
    case_id, filing = _accepted_case(session, ctx)
    head = common.principal_for(session, wfs.user_id(session, "arb_head"), ctx)
    ext = ctx.tables.extension
    audit = ctx.reg.audit_log

    def n_rows() -> tuple[int, int]:
        return (session.execute(select(func.count()).select_from(ext).where(ext.case_id == case_id)).scalar(),
                session.execute(select(func.count()).select_from(audit).where(
                    audit.event == "deadline_extension", audit.record_id == str(case_id))).scalar())

    with pytest.raises(TransitionForbidden):
        dl.extend(session, case_id, "award_45d", 15, "案情复杂", principal=filing)
    with pytest.raises(GuardFailed):
        dl.extend(session, case_id, "award_45d", 15, "  ", principal=head)
    with pytest.raises(BadInput):
        dl.extend(session, case_id, "award_45d", 16, "案情复杂", principal=head)
    with pytest.raises(BadInput):
        dl.extend(session, case_id, "award_45d", 0, "案情复杂", principal=head)
    assert n_rows() == (0, 0)
    row = dl.extend(session, case_id, "award_45d", 15, "案情复杂，经仲裁院负责人批准（演示）", principal=head,
                    now_=T(2026, 4, 10, 9))
    assert row["total_extended"] == 15 and n_rows() == (1, 1)
    award = {d.name: d for d in dl.case_deadlines(session, case_id, D(2026, 4, 20)).deadlines}["award_45d"]
    assert award.due_on == D(2026, 5, 6) and award.extended_days == 15
    stored = session.execute(select(ctx.tables.deadline.due_on).where(
        ctx.tables.deadline.case_id == case_id, ctx.tables.deadline.deadline == "award_45d")).scalar()
    assert stored == D(2026, 5, 6)
    with pytest.raises(BadInput):
        dl.extend(session, case_id, "award_45d", 1, "再延长", principal=head)
    assert n_rows() == (1, 1)


def test_recompute_open_rewrites_stored_due_dates(env: Any) -> None:
    from app.workflow import deadlines as dl

    session, ctx = env
    case_id, _filing = _accepted_case(session, ctx)
    d = ctx.tables.deadline
    session.execute(d.__table__.update().where(d.case_id == case_id).values(due_on=D(2030, 1, 1)))
    session.commit()
    assert dl.recompute_open(session) >= 1
    assert session.execute(select(d.due_on).where(d.case_id == case_id, d.deadline == "award_45d")).scalar() \
        == D(2026, 4, 16)
