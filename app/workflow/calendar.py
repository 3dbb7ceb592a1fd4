"""The Chinese working-day calendar of the deadline engine.

Which days are working days, in this order:

1. a year listed under ``calendar.overrides`` in config/workflows.yaml: its ``holidays`` are days
   off, its ``workdays`` are working days (调休上班), other days Monday–Friday;
2. a year the ``chinesecalendar`` package covers (1.11.0: 2004–2026): the package, including its
   调休 make-up working Saturdays and Sundays;
3. any other year: **not covered**.  Monday–Friday is assumed, a warning is logged once per year
   and process, and every computation that touched such a day carries the warning
   (``DayCounter.warnings``), so a page can say "the due date may be wrong".  Never an exception.

Counting rules (config/workflows.yaml header; 民事诉讼法 Art 85): the start day is not counted;
natural-day limits whose last day is not a working day move to the next working day; working-day
limits count working days after the start day.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from typing import Iterable, Optional

from generator.spec import CalendarYear

log = logging.getLogger(__name__)
_WARNED: set[int] = set()


def uncovered_message(year: int) -> str:
    return (f"工作日历未覆盖 {year} 年，按周一至周五推算，期限可能不准确；请在 workflows.yaml 的 calendar.overrides "
            f"中补充该年放假安排 / the working-day calendar does not cover {year}: Monday–Friday assumed, the due "
            f"date may be wrong; add the year under calendar.overrides in workflows.yaml")


class WorkCalendar:
    """Working days from the YAML overrides and ``chinesecalendar``; immutable, cache-friendly."""

    def __init__(self, overrides: Iterable[CalendarYear] = ()) -> None:
        self.overrides: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = {}
        for y in overrides:
            self.overrides[y.year] = (frozenset(dt.date.fromisoformat(d) for d in y.holidays),
                                      frozenset(dt.date.fromisoformat(d) for d in y.workdays))
        self._day = lru_cache(maxsize=8192)(self._lookup)

    def _lookup(self, day: dt.date) -> tuple[bool, bool]:
        """(is a working day, covered)."""
        if day.year in self.overrides:
            off, on = self.overrides[day.year]
            if day in on:
                return True, True
            if day in off:
                return False, True
            return day.weekday() < 5, True
        try:
            import chinese_calendar

            return bool(chinese_calendar.is_workday(day)), True
        except NotImplementedError:
            return day.weekday() < 5, False

    def is_workday(self, day: dt.date) -> tuple[bool, bool]:
        return self._day(day)  # type: ignore[no-any-return]

    def covered_years(self) -> tuple[int, int]:
        """The first and last year covered without a gap (package range plus adjacent overrides)."""
        try:
            import chinese_calendar.constants as cc

            years = {d.year for d in cc.holidays} | {d.year for d in cc.workdays}
            lo, hi = min(years), max(years)
        except Exception:  # noqa: BLE001 - a package without the tables: overrides only
            lo = hi = min(self.overrides) if self.overrides else dt.date.today().year
        while hi + 1 in self.overrides:
            hi += 1
        return lo, hi


class DayCounter:
    """Day arithmetic on one calendar, collecting coverage warnings for one computation."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self.warnings: list[str] = []
        self._seen: set[int] = set()

    def workday(self, day: dt.date) -> bool:
        ok, covered = self.calendar.is_workday(day)
        if not covered and day.year not in self._seen:
            self._seen.add(day.year)
            self.warnings.append(uncovered_message(day.year))
            if day.year not in _WARNED:
                _WARNED.add(day.year)
                log.warning("workflow calendar: %s", uncovered_message(day.year))
        return ok

    def roll_to_workday(self, day: dt.date) -> dt.date:
        for _ in range(60):
            if self.workday(day):
                return day
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted); ``n <= 0``: start."""
        day = start
        left = n
        while left > 0:
            day += dt.timedelta(days=1)
            if self.workday(day):
                left -= 1
        return day

    def add_natural_days(self, start: dt.date, n: int) -> dt.date:
        """``start + n`` days, moved to the next working day when that day is not one."""
        return self.roll_to_workday(start + dt.timedelta(days=n))

    def working_days_between(self, after: dt.date, until: dt.date) -> int:
        """Working days ``d`` with ``after < d <= until`` (negative when ``until < after``)."""
        if until < after:
            return -self.working_days_between(until, after)
        count = 0
        day = after
        while day < until:
            day += dt.timedelta(days=1)
            if self.workday(day):
                count += 1
        return count


_CALENDARS: dict[int, WorkCalendar] = {}


def calendar_for(spec: object) -> WorkCalendar:
    """The calendar of a compiled spec (cached per spec object)."""
    key = id(spec)
    cal = _CALENDARS.get(key)
    if cal is None:
        cal = WorkCalendar(getattr(spec, "calendar", ()))
        _CALENDARS[key] = cal
    return cal


def reset_warnings(years: Optional[Iterable[int]] = None) -> None:
    """Forget which years were logged (tests)."""
    if years is None:
        _WARNED.clear()
    else:
        _WARNED.difference_update(years)
