"""Server-side session records: logging out (or a password change) really ends a session.

Flask keeps its session in a signed cookie; FAB's logout only empties the cookie the browser
holds, so a copy taken earlier stays valid (security-tests.md §B.2 #3).  Here every HTML login
gets a random ``sid`` stored both in the cookie (``session["_jf_sid"]``) and in
``jf_user_session``; the security manager's Flask-Login loader (``load_user``) reads the user
row and the session row in ONE statement and refuses the cookie when the row is missing,
revoked, idle for longer than ``IDLE_TIMEOUT_MINUTES`` (30) or older than
``SESSION_MAX_HOURS`` (12).  ``check_request`` (first ``before_request``) then logs the
browser out: a redirect to the login page, or 401 JSON under ``/api/``.

Revocation:
* logout revokes the sid;
* a password change (``ab_user.password`` written on an existing user, by any path:
  ResetMyPasswordView, ResetPasswordView, a user edit, the API) or deactivating an account
  revokes every session of that user and every JWT issued before it (``tokens.bump``), in the
  same transaction as the change.  The browser that made its own password change keeps
  working: it gets a fresh sid at the end of that request.
"""

from __future__ import annotations

import datetime as _dt
import secrets
from typing import Any, Iterable, Optional

from flask import (Response, current_app, flash, g, has_app_context, has_request_context, jsonify,
                   redirect, request, session, url_for)
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import and_, event, insert, inspect, select, update
from sqlalchemy.orm import Session

from . import clock

SID_KEY = "_jf_sid"
_PENDING = "jf_revoke_users"
_REISSUE = "_jf_reissue_sid"
_REFUSED = "_jf_session_refused"


def _tables() -> Any:
    return current_app.extensions["jiefen"].security


def _engine() -> Any:
    return current_app.appbuilder.sm.session.get_bind()


def idle_timeout() -> _dt.timedelta:
    return _dt.timedelta(minutes=float(current_app.config.get("IDLE_TIMEOUT_MINUTES", 30)))


def max_age() -> _dt.timedelta:
    return _dt.timedelta(hours=float(current_app.config.get("SESSION_MAX_HOURS", 12)))


# ---------------------------------------------------------------- login / logout
def _new_sid(user_id: int) -> str:
    sid = secrets.token_urlsafe(32)
    now = clock.now()
    with _engine().begin() as conn:
        conn.execute(insert(_tables().user_session.__table__),
                     [{"sid": sid, "user_id": user_id, "created": now, "last_seen": now}])
    return sid


def start(user: Any) -> None:
    """Log ``user`` in with a fresh session: old cookie contents dropped (no fixation), new sid."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    sid = _new_sid(user.id)
    login_user(user, remember=False)
    session[SID_KEY] = sid


def end() -> None:
    """Revoke this browser's sid (logout)."""
    sid = session.pop(SID_KEY, None)
    if sid:
        t = _tables().user_session.__table__
        with _engine().begin() as conn:
            conn.execute(update(t).where(and_(t.c.sid == sid, t.c.revoked_at.is_(None)))
                         .values(revoked_at=clock.now()))


# ---------------------------------------------------------------- the check on every request
def load_user(sm: Any, pk: Any) -> Optional[Any]:
    """Flask-Login's loader: the user, only if this cookie's sid is a live session of theirs."""
    sid = session.get(SID_KEY) if has_request_context() else None
    if not sid:
        return None
    t = _tables().user_session.__table__
    row = sm.session.execute(
        select(sm.user_model, t.c.created, t.c.last_seen, t.c.revoked_at)
        .outerjoin(t, and_(t.c.sid == sid, t.c.user_id == sm.user_model.id))
        .where(sm.user_model.id == int(pk))).first()
    if row is None:
        return None
    user, created, last_seen, revoked_at = row
    now = clock.now()
    if (created is None or revoked_at is not None or now - last_seen > idle_timeout()
            or now - created > max_age() or not user.is_active):
        g.setdefault(_REFUSED, True)
        return None
    if now - last_seen > min(_dt.timedelta(minutes=1), idle_timeout() / 2):
        with _engine().begin() as conn:
            conn.execute(update(t).where(t.c.sid == sid).values(last_seen=now))
    return user


def _is_static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def check_request() -> Optional[Response]:
    """First before_request: a cookie naming a user whose session record refuses it is logged out."""
    if "_user_id" not in session or _is_static():
        return None
    if current_user.is_authenticated:
        return None
    end()
    logout_user()
    message = gettext("Your session has ended. Please sign in again.")
    if request.path.startswith("/api/"):
        return jsonify(message=message), 401  # type: ignore[return-value]
    sm = current_app.appbuilder.sm
    login_endpoint = f"{sm.auth_view.__class__.__name__}.login"
    if request.endpoint == login_endpoint:
        return None
    flash(message, "warning")
    return redirect(url_for(login_endpoint, next=request.url if request.method == "GET" else None))


def reissue_after_own_change(response: Response) -> Response:
    """after_request: the user who changed their own password keeps a (new) session."""
    uids = g.get(_REISSUE)
    if uids and session.get(SID_KEY) and current_user.is_authenticated and current_user.id in uids:
        session[SID_KEY] = _new_sid(current_user.id)
    return response


# ---------------------------------------------------------------- revocation on password change
def revoke_all(conn: Any, user_ids: Iterable[int], at: Optional[_dt.datetime] = None) -> None:
    """Revoke every live session of these users and every JWT issued before now."""
    from . import tokens

    at = at or clock.now()
    ids = sorted(set(user_ids))
    t = _tables().user_session.__table__
    conn.execute(update(t).where(and_(t.c.user_id.in_(ids), t.c.revoked_at.is_(None))).values(revoked_at=at))
    tokens.bump(conn, ids, at)


def _credential_set(target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
    state = inspect(target)
    if not state.persistent or target.id is None:
        return  # a new account has no sessions yet
    if initiator.key == "active" and value:
        return  # only deactivation ends sessions
    if value == oldvalue:
        return
    state.session.info.setdefault(_PENDING, set()).add(target.id)


def _after_flush(session_: Session, _ctx: Any) -> None:
    ids = session_.info.pop(_PENDING, None)
    if not ids or not has_app_context() or "jiefen" not in current_app.extensions:
        return
    revoke_all(session_.connection(), ids)
    if has_request_context():
        g.setdefault(_REISSUE, set()).update(ids)


_installed: set[int] = set()


def install(session_factory: Any) -> None:
    """Listen on ab_user.password/active and on the app's session class (once per class)."""
    if not _installed:
        event.listen(User.password, "set", _credential_set)
        event.listen(User.active, "set", _credential_set)
        _installed.add(0)
    target = session_factory.session_factory.class_ if hasattr(session_factory, "session_factory") \
        else session_factory
    if id(target) not in _installed:
        event.listen(target, "after_flush", _after_flush)
        _installed.add(id(target))
