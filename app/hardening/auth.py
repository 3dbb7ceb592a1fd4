"""Password login with lockout and audit, shared by the login form and the JWT login.

``JiefenSecurityManager.auth_user_db`` calls ``authenticate``.  The answer for an unknown
username and for a wrong password is the same ``None`` (FAB's views then answer the same
flash / the same 401), FAB's fake hash check runs for unknown names, and the lockout counts
unknown names like real ones.  While a name is locked the password is not even compared
(the fake hash check runs instead, so the time is the same) and ``g._jf_login_locked`` tells
the views to say so (the form flashes it, the API answers 429).

Audited (``app.audit``): ``login``, ``login_failed`` (detail ``locked`` while locked),
``lockout`` (the failure that locks).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from flask import current_app, g
from werkzeug.security import check_password_hash

from . import throttle

log = logging.getLogger(__name__)
LOCKED = "_jf_login_locked"


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
    if not username:
        return None
    name = str(username)
    key = _account_key(sm, name)
    if throttle.is_locked(key):
        setattr(g, LOCKED, True)
        check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], "password")
        _audit("login_failed", username=name, detail="locked")
        return None
    user = check(name, password)
    if user is not None:
        throttle.clear(key)
        _audit("login", username=user.username, user_id=user.id)
        return user
    _audit("login_failed", username=name)
    if throttle.record_failure(key):  # the NEXT attempts are refused as locked
        log.warning("login locked for %r after %s failures", key, throttle.max_failures())
        _audit("lockout", username=name,
               detail=f"{throttle.max_failures()} failures; locked {throttle.lockout_minutes()} min")
    return None


def is_locked_now() -> bool:
    return bool(g.get(LOCKED))
