"""The rating rules: pure functions from sub-item results to item results, the overall rating,
the validity date and the rectification due date.  No database, no Flask.

Sub-item results: ``pass`` 达标, ``basic`` 基本达标, ``fail`` 不达标, ``not_applicable`` 不适用,
``pending`` 待评定 (not yet recorded; an inspection with one cannot be submitted).

The checklist's ``rating`` rules are tried top to bottom, the first that holds gives the result:

* ``any_gate_failed``  a hard-gate (``gate: true``) sub-item is ``fail``
* ``any_failed``       any sub-item is ``fail``
* ``any_basic``        any sub-item is ``basic``
* ``always``           otherwise

An *item* (有牌子, 有印章 …) is rated by the same rules over its own sub-items; an item with no
applicable sub-item is ``not_applicable``.  An item *passes* (the workflow's seal guard) when its
result is ``pass`` or ``basic``: no hard gate of it failed.
"""

from __future__ import annotations

import calendar
import datetime as _dt
from decimal import Decimal
from typing import Any, Iterable, Mapping, Optional

from .definitions import Definition, SubDef

RESULTS = ("pass", "basic", "fail", "not_applicable", "pending")
PASSING = frozenset({"pass", "basic"})


def add_months(day: _dt.date, months: int) -> _dt.date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return _dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _holds(when: str, pairs: list[tuple[bool, str]]) -> bool:
    if when == "any_gate_failed":
        return any(gate and r == "fail" for gate, r in pairs)
    if when == "any_failed":
        return any(r == "fail" for _g, r in pairs)
    if when == "any_basic":
        return any(r == "basic" for _g, r in pairs)
    return when == "always"


def rate(rules: Iterable[tuple[str, str]], pairs: Iterable[tuple[bool, str]]) -> Optional[str]:
    """The first rule that holds over ``(gate, result)`` pairs; None when none does."""
    pairs = [(g, r) for g, r in pairs if r != "not_applicable"]
    for result, when in rules:
        if _holds(when, pairs):
            return result
    return None


def item_results(d: Definition, org_type: Optional[str], results: Mapping[str, str]) -> dict[str, str]:
    """Item name → its rating for this org type (``not_applicable`` when nothing of it applies)."""
    out = {}
    for item in d.items:
        subs = [s for s in item.subs if s.applies(org_type)]
        pairs = [(s.gate, results.get(s.name, "pending")) for s in subs]
        pairs = [p for p in pairs if p[1] != "not_applicable"]
        out[item.name] = (rate(d.rating, pairs) or "pass") if pairs else "not_applicable"
    return out


def overall(d: Definition, org_type: Optional[str], results: Mapping[str, str]) -> Optional[str]:
    return rate(d.rating, [(s.gate, results.get(s.name, "pending")) for s in d.applicable(org_type)])


def valid_until(d: Definition, on: _dt.date, result: Optional[str]) -> Optional[_dt.date]:
    """达标 and 基本达标 are valid ``validity_months`` from the inspection day; 不达标 never."""
    return add_months(on, d.validity_months) if result in PASSING else None


def reinspect_on(d: Definition, on: _dt.date) -> _dt.date:
    return add_months(on, d.reinspect_months)


def rectification_due(d: Definition, on: _dt.date) -> _dt.date:
    return on + _dt.timedelta(days=d.rectification_days)


def suggestion(sub: SubDef, value: Any, date: Optional[_dt.date], on: _dt.date) -> Optional[tuple[str, str, str]]:
    """What the recorded number or date says: ``(result, zh reason, en reason)``, or None.

    A number is compared with the threshold (``at_least``: not below it; ``at_most``: not above
    it); a validity date must not lie before the inspection day, or with ``within_months`` must lie
    no more than that many months before it."""
    num = sub.number
    if num is not None and num.threshold is not None and value not in (None, ""):
        v = Decimal(str(value))
        t = Decimal(str(num.threshold))
        unit = num.unit.zh if num.unit else ""
        unit_en = num.unit.en if num.unit else ""
        ok = v >= t if num.compare == "at_least" else v <= t
        sign = ("≥" if num.compare == "at_least" else "≤")
        if not ok:
            return ("fail", f"实测 {_num(v)}{unit}，要求 {sign} {_num(t)}{unit}",
                    f"observed {_num(v)} {unit_en}, required {sign} {_num(t)} {unit_en}".strip())
    val = sub.validity
    if val is not None and date is not None:
        if val.within_months:
            earliest = add_months(on, -val.within_months)
            if date < earliest:
                return ("fail", f"日期 {date:%Y-%m-%d} 早于 {earliest:%Y-%m-%d}（须在 {val.within_months} 个月内）",
                        f"date {date:%Y-%m-%d} is before {earliest:%Y-%m-%d} (within {val.within_months} months)")
        elif date < on:
            return ("fail", f"有效期 {date:%Y-%m-%d} 已过", f"valid until {date:%Y-%m-%d}: expired")
    if (num is not None and value in (None, "")) or (val is not None and date is None):
        return None
    if num is not None or val is not None:
        return ("pass", "实测值符合要求", "the recorded value meets the requirement")
    return None


def _num(v: Decimal) -> str:
    return format(v.normalize(), "f") if v == v.to_integral() else str(v)


def contradictions(d: Definition, org_type: Optional[str], rows: Mapping[str, Mapping[str, Any]],
                   on: _dt.date) -> list[tuple[str, str, str]]:
    """Sub-items rated 达标/基本达标 although their own number or date says 不达标:
    ``(sub, zh, en)`` for each (submitting refuses them)."""
    out = []
    for s in d.applicable(org_type):
        row = rows.get(s.name) or {}
        if row.get("result") in PASSING:
            sug = suggestion(s, row.get("value"), row.get("date"), on)
            if sug and sug[0] == "fail":
                out.append((s.name, f"{s.label.zh}：{sug[1]}，不能评为达标", f"{s.label.en}: {sug[2]}; cannot pass"))
    return out
