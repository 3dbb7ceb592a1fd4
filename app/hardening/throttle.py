"""Login lockout: 5 failed logins for one username within 15 minutes lock it for 15 minutes.

The counters live in ``jf_login_throttle`` so every worker process sees them.  They are kept
per *username*, whether or not an account of that name exists: an unknown name is locked
exactly like a real one, so the answers never tell which accounts exist.  While a name is
locked even the right password is refused.  Every read and write runs on a connection of its
own and commits at once (like ``audit.record``), outside the request's transaction.

Settings: LOGIN_MAX_FAILURES (5), LOGIN_FAILURE_WINDOW_MINUTES (15), LOGIN_LOCKOUT_MINUTES (15).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import clock


def _table() -> Any:
    return current_app.extensions["jiefen"].security.login_throttle.__table__


def _engine() -> Any:
    return current_app.appbuilder.sm.session.get_bind()


def _minutes(key: str, default: int) -> _dt.timedelta:
    return _dt.timedelta(minutes=int(current_app.config.get(key, default)))


def max_failures() -> int:
    return int(current_app.config.get("LOGIN_MAX_FAILURES", 5))


def lockout_minutes() -> int:
    return int(current_app.config.get("LOGIN_LOCKOUT_MINUTES", 15))


def key(username: Any) -> str:
    return str(username or "").strip().lower()[:256]


def is_locked(username: str) -> bool:
    t = _table()
    with _engine().connect() as conn:
        until = conn.execute(select(t.c.locked_until).where(t.c.username == key(username))).scalar()
    return until is not None and until > clock.now()


def record_failure(username: str) -> bool:
    """Count one failed login; True when this failure locks the name (once per lockout)."""
    t, k, now = _table(), key(username), clock.now()
    window = _minutes("LOGIN_FAILURE_WINDOW_MINUTES", 15)
    for _attempt in range(2):  # a concurrent first insert: retry as an update
        try:
            with _engine().begin() as conn:
                row = conn.execute(select(t.c.failures, t.c.window_start, t.c.locked_until)
                                   .where(t.c.username == k)).first()
                if row is None:
                    conn.execute(insert(t), [{"username": k, "failures": 1, "window_start": now,
                                              "locked_until": None}])
                    failures = 1
                elif row.window_start + window <= now or (row.locked_until is not None
                                                          and row.locked_until <= now):
                    conn.execute(update(t).where(t.c.username == k)
                                 .values(failures=1, window_start=now, locked_until=None))
                    failures = 1
                else:
                    conn.execute(update(t).where(t.c.username == k).values(failures=t.c.failures + 1))
                    failures = conn.execute(select(t.c.failures).where(t.c.username == k)).scalar_one()
                if failures >= max_failures() and (row is None or row.locked_until is None
                                                    or row.locked_until <= now):
                    conn.execute(update(t).where(t.c.username == k)
                                 .values(locked_until=now + _minutes("LOGIN_LOCKOUT_MINUTES", 15)))
                    return True
                return False
        except IntegrityError:
            continue
    return False


def clear(username: str) -> None:
    """A successful login forgets the name's failures."""
    t = _table()
    with _engine().begin() as conn:
        conn.execute(delete(t).where(t.c.username == key(username)))
