"""Password login with throttling and audit, shared by the login form and the JWT login.

``JiefenSecurityManager.auth_user_db`` calls ``authenticate``.  The answer for an unknown
username and for a wrong password is the same ``None`` (FAB's views then answer the same
flash / the same 401), FAB's fake hash check runs for unknown names, and the lockout counts
unknown names like real ones.  While the attempt is refused (``throttle``: this client address
has used up its failed logins, or the name is locked for this address) the password is not
even compared (the fake hash check runs instead, so the time is the same) and
``g._jf_login_refused`` tells the views why (the form flashes it, the API answers 429).

Audited (``app.audit``): ``login``, ``login_failed`` (detail ``locked`` or ``address_limited``
while refused), ``lockout`` (the failure that locks).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from flask import current_app, g
from werkzeug.security import check_password_hash

from . import throttle

log = logging.getLogger(__name__)
REFUSED = "_jf_login_refused"  # "account" (locked for this address) | "address" (address limit)


def _audit(event: str, **kw: Any) -> None:
    from app.audit import log as audit

    try:
        audit.record(event, **kw)
    except Exception:  # noqa: BLE001 - a failing audit write must not open the door or 500 the login
        log.exception("audit %s not recorded", event)


def _account_key(sm: Any, username: str) -> str:
    """The lockout key: the account's username when the name (or e-mail) names one, else the input."""
    user = sm.find_user(username=username) or sm.find_user(email=username)
    return user.username if user is not None else username


def authenticate(sm: Any, check: Callable[[str, str], Optional[Any]], username: Any,
                 password: Any) -> Optional[Any]:
    g.pop(REFUSED, None)  # g may outlive a request when an app context was already pushed
    if not username:
        return None
    name = str(username)
    key = _account_key(sm, name)
    address = throttle.client_address()
    standing = throttle.standing(key, address)
    refusal = None
    if not standing.known and throttle.address_limited(address):
        refusal = "address"
    elif standing.locked:
        refusal = "account"
    if refusal is not None:
        setattr(g, REFUSED, refusal)
        check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], "password")
        throttle.count_address_failure(address)
        _audit("login_failed", username=name, detail="locked" if refusal == "account" else "address_limited")
        return None
    user = check(name, password)
    if user is not None:
        throttle.record_success(key, address)
        _audit("login", username=user.username, user_id=user.id)
        return user
    _audit("login_failed", username=name)
    throttle.count_address_failure(address)
    if throttle.record_failure(key, address, standing.known):  # the NEXT attempts are refused as locked
        where = " from a usual address" if standing.known else ""
        log.warning("login locked for %r%s after %s failures", key, where, throttle.max_failures())
        _audit("lockout", username=name,
               detail=f"{throttle.max_failures()} failures{where}; locked {throttle.lockout_minutes()} min")
    return None


def refusal() -> Optional[str]:
    """Why this request's login was refused before the password was checked, if it was."""
    value = g.get(REFUSED)
    return str(value) if value else None


def is_locked_now() -> bool:
    return refusal() is not None
