"""Login throttling, per account and per client address (issue #11; the policy is in the README).

Three counters, each shared by every worker process:

* **per address** (Flask-Limiter, FAB's ``sm.limiter``; Redis when ``REDIS_URL`` is set, else the
  process's memory): every refused login from one client address counts, whatever the name.
  Past LOGIN_ADDRESS_MAX_FAILURES (20) within LOGIN_ADDRESS_WINDOW_MINUTES (10, a moving
  window) that address is refused until the window has room again.  Password spraying (one
  guess for each of many names) is slowed to 20 guesses per 10 minutes per address.
* **per account** (``jf_login_throttle``, in the database): LOGIN_MAX_FAILURES (5) failures for one
  name within LOGIN_FAILURE_WINDOW_MINUTES (15) lock it for LOGIN_LOCKOUT_MINUTES (15), even
  for the right password, from every address except the account's usual ones.  Unknown names
  are counted and locked exactly like real ones, so the answers never tell which accounts exist.
* **per usual address** (``jf_login_address``): an address from which the account logged in
  successfully within LOGIN_KNOWN_ADDRESS_DAYS (30) is one of its usual addresses.  The account
  lock and the address limit do not apply there (an attacker elsewhere, or a sprayer behind the
  same network, cannot lock the owner out); failures from a usual address count in that
  address's own row instead and lock that address alone, with the same numbers.

Database reads and writes run on connections of their own and commit at once (like
``audit.record``), outside the request's transaction.  If the limiter's storage fails (Redis
down) the address limit fails open, logged; the database counters still hold.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import logging
from dataclasses import dataclass
from typing import Any, Mapping

from flask import current_app, request
from limits import RateLimitItemPerSecond
from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import clock

log = logging.getLogger(__name__)


def _tables() -> Any:
    return current_app.extensions["jiefen"].security


def _engine() -> Any:
    return current_app.appbuilder.sm.session.get_bind()


def _setting(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def _minutes(name: str, default: float) -> _dt.timedelta:
    return _dt.timedelta(minutes=_setting(name, default))


def max_failures() -> int:
    return int(_setting("LOGIN_MAX_FAILURES", 5))


def lockout_minutes() -> int:
    return int(_setting("LOGIN_LOCKOUT_MINUTES", 15))


def address_window_minutes() -> int:
    return max(1, round(_setting("LOGIN_ADDRESS_WINDOW_MINUTES", 10)))


def key(username: Any) -> str:
    return str(username or "").strip().lower()[:256]


def client_address() -> str:
    """The client's address (behind TRUSTED_PROXIES proxies: from X-Forwarded-For, see
    ``hardening.install``); IPv6 clients by their /64 network, which one host usually owns whole."""
    raw = (request.remote_addr or "").strip()
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


# ---------------------------------------------------------------- per address (Flask-Limiter)
def _address_limit() -> Any:
    amount = max(1, int(_setting("LOGIN_ADDRESS_MAX_FAILURES", 20)))
    seconds = max(1, round(_setting("LOGIN_ADDRESS_WINDOW_MINUTES", 10) * 60))
    return RateLimitItemPerSecond(amount, seconds)


def _address_ids(address: str) -> tuple[str, ...]:
    return (str(current_app.config.get("RATELIMIT_KEY_PREFIX") or "jiefen"), "login-failures", address)


def _strategy() -> Any:
    return current_app.appbuilder.sm.limiter.limiter  # the limits strategy on Flask-Limiter's storage


def address_limited(address: str) -> bool:
    """True while this address has used up its failed logins for the window."""
    try:
        return not _strategy().test(_address_limit(), *_address_ids(address))
    except Exception:  # noqa: BLE001 - storage down: fail open, the per-account lock still holds
        log.exception("login address limit unavailable (limiter storage)")
        return False


def count_address_failure(address: str) -> None:
    try:
        _strategy().hit(_address_limit(), *_address_ids(address))
    except Exception:  # noqa: BLE001
        log.exception("login address failure not counted (limiter storage)")


# ---------------------------------------------------------------- per account and per usual address
@dataclass(frozen=True)
class Standing:
    """Where one login attempt stands before the password is checked."""

    known: bool   # a usual address of the account
    locked: bool  # refused: the account lock (elsewhere than a usual address) or this usual address's lock


def standing(name: str, address: str) -> Standing:
    """ONE statement: the account's lock, and this address's row for the account."""
    t, a, k, now = _tables().login_throttle.__table__, _tables().login_address.__table__, key(name), clock.now()
    pair = and_(a.c.username == k, a.c.address == address)
    with _engine().connect() as conn:
        row = conn.execute(select(
            select(t.c.locked_until).where(t.c.username == k).scalar_subquery(),
            select(a.c.last_success).where(pair).scalar_subquery(),
            select(a.c.locked_until).where(pair).scalar_subquery(),
        )).one()
    account_until, last_success, address_until = row
    known = last_success is not None and now - last_success <= _dt.timedelta(
        days=_setting("LOGIN_KNOWN_ADDRESS_DAYS", 30))
    if known:
        return Standing(True, address_until is not None and address_until > now)
    return Standing(False, account_until is not None and account_until > now)


def _count(conn: Any, table: Any, where: Any, row: Any, now: _dt.datetime) -> bool:
    """One failure on ``row`` (columns failures, window_start, locked_until) of ``table``, inside
    ``conn``'s transaction; True when this failure locks (once per lockout)."""
    window = _minutes("LOGIN_FAILURE_WINDOW_MINUTES", 15)
    expired = (row.window_start is None or row.window_start + window <= now
               or (row.locked_until is not None and row.locked_until <= now))
    if expired:
        conn.execute(update(table).where(where).values(failures=1, window_start=now, locked_until=None))
        failures = 1
    else:
        conn.execute(update(table).where(where).values(failures=table.c.failures + 1))
        failures = conn.execute(select(table.c.failures).where(where)).scalar_one()
    if failures >= max_failures() and (expired or row.locked_until is None):
        conn.execute(update(table).where(where).values(locked_until=now + _minutes("LOGIN_LOCKOUT_MINUTES", 15)))
        return True
    return False


def record_failure(name: str, address: str, known: bool) -> bool:
    """Count one failed login; True when this failure locks the name (or, from a usual address,
    that address for the name)."""
    if known:
        a, k, now = _tables().login_address.__table__, key(name), clock.now()
        where = and_(a.c.username == k, a.c.address == address)
        with _engine().begin() as conn:
            row = conn.execute(select(a.c.failures, a.c.window_start, a.c.locked_until).where(where)).first()
            return row is not None and _count(conn, a, where, row, now)
    t, k, now = _tables().login_throttle.__table__, key(name), clock.now()
    where = t.c.username == k
    for _attempt in range(2):  # a concurrent first insert: retry as an update
        try:
            with _engine().begin() as conn:
                row = conn.execute(select(t.c.failures, t.c.window_start, t.c.locked_until).where(where)).first()
                if row is None:
                    conn.execute(insert(t), [{"username": k, "failures": 0, "window_start": now, "locked_until": None}])
                    row = _Fresh(now)
                return _count(conn, t, where, row, now)
        except IntegrityError:
            continue
    return False


@dataclass(frozen=True)
class _Fresh:
    window_start: _dt.datetime
    failures: int = 0
    locked_until: Any = None


def record_success(name: str, address: str) -> None:
    """A successful login: ``address`` is (again) one of the account's usual addresses, and its
    own failures are forgotten.  The account's counter is left alone: it holds failures from
    elsewhere, which the owner's success does not excuse."""
    a, k, now = _tables().login_address.__table__, key(name), clock.now()
    where = and_(a.c.username == k, a.c.address == address)
    values: Mapping[str, Any] = {"last_success": now, "failures": 0, "window_start": None, "locked_until": None}
    for _attempt in range(2):
        try:
            with _engine().begin() as conn:
                if not conn.execute(update(a).where(where).values(**values)).rowcount:
                    conn.execute(insert(a), [{"username": k, "address": address, **values}])
            return
        except IntegrityError:
            continue
