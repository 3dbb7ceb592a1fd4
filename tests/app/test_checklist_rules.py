"""Rating rules and hard gates (pure), on the shipped checklist and on hand-made rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.checklists import rules
from app.checklists.definitions import Definition
from generator import load

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def d() -> Definition:
    spec = load(str(ROOT / "config")).spec
    assert spec is not None
    return Definition.from_spec(spec.checklists["five_essentials"])


def all_pass(d: Definition, org_type: str) -> dict[str, str]:
    return {s.name: "pass" for s in d.applicable(org_type)}


def test_shipped_checklist_shape(d: Definition) -> None:
    assert [i.name for i in d.items] == ["signage", "premises", "rules", "staff", "seal"]
    assert len(d.subs) == 28
    gates = sorted(s.name for s in d.subs.values() if s.gate)
    assert gates == ["f1", "f1_county", "f1_township", "m1", "m2", "m2_county", "m3", "p1", "r1", "r2", "s1", "s2"]
    # an enterprise station is asked its own F1 and M2, not the county's
    names = {s.name for s in d.applicable("enterprise_station")}
    assert {"f1", "m2"} <= names and not {"f1_county", "f1_township", "m2_county", "p3", "f2"} & names


def test_rating_rules_and_gates(d: Definition) -> None:
    t = "enterprise_station"
    res = all_pass(d, t)
    assert rules.overall(d, t, res) == "pass"
    assert rules.overall(d, t, {**res, "s3": "fail"}) == "basic"       # a non-gate failure
    assert rules.overall(d, t, {**res, "s1": "fail"}) == "fail"        # a hard gate
    assert rules.overall(d, t, {**res, "s1": "basic"}) == "pass"       # basic is not a failure under these rules
    assert rules.overall(d, t, {**res, "s5": "not_applicable"}) == "pass"
    items = rules.item_results(d, t, {**res, "s3": "fail", "m3": "fail"})
    assert items == {"signage": "pass", "premises": "pass", "rules": "pass", "staff": "fail", "seal": "basic"}
    assert rules.item_results(d, t, {**res, "s1": "fail"})["seal"] == "fail"


def test_rule_order_is_first_match() -> None:
    strict = (("fail", "any_gate_failed"), ("basic", "any_failed"), ("basic", "any_basic"), ("pass", "always"))
    assert rules.rate(strict, [(False, "basic"), (False, "pass")]) == "basic"
    assert rules.rate(strict, [(True, "fail"), (False, "basic")]) == "fail"
    assert rules.rate((("pass", "always"), ("fail", "any_failed")), [(True, "fail")]) == "pass"
    assert rules.rate((("fail", "any_failed"),), [(False, "pass")]) is None


def test_validity_and_due_dates(d: Definition) -> None:
    on = dt.date(2026, 1, 31)
    assert rules.valid_until(d, on, "pass") == dt.date(2027, 1, 31)
    assert rules.valid_until(d, on, "basic") == dt.date(2027, 1, 31)
    assert rules.valid_until(d, on, "fail") is None
    assert rules.add_months(on, 1) == dt.date(2026, 2, 28)
    assert rules.rectification_due(d, on) == dt.date(2026, 3, 2)
    assert rules.reinspect_on(d, on) == dt.date(2027, 1, 31)


def test_number_and_date_evidence_suggest_results(d: Definition) -> None:
    on = dt.date(2026, 6, 1)
    f1, m3, r5 = d.subs["f1"], d.subs["m3"], d.subs["r5"]
    assert rules.suggestion(f1, 9, None, on)[0] == "fail"
    assert rules.suggestion(f1, 10, None, on)[0] == "pass"
    assert rules.suggestion(f1, None, None, on) is None
    assert rules.suggestion(m3, None, dt.date(2026, 5, 31), on)[0] == "fail"   # appointment expired
    assert rules.suggestion(m3, None, dt.date(2026, 6, 1), on)[0] == "pass"
    assert rules.suggestion(r5, None, dt.date(2024, 5, 31), on)[0] == "fail"   # reviewed > 24 months ago
    assert rules.suggestion(r5, None, dt.date(2024, 6, 1), on)[0] == "pass"
    bad = rules.contradictions(d, "enterprise_station", {"f1": {"result": "pass", "value": 8}}, on)
    assert [b[0] for b in bad] == ["f1"]


def test_structure_hash_ignores_wording_only(d: Definition) -> None:
    import dataclasses

    from generator.spec import Label

    reworded = dataclasses.replace(d, label=Label("五有", "5E"))
    assert reworded.structure_hash() == d.structure_hash()
    assert Definition.from_json(d.as_json()) == d
    fewer = dataclasses.replace(d, items=d.items[:4])
    assert fewer.structure_hash() != d.structure_hash()
