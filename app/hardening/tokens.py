"""JWTs that end for real: a blocklist of revoked logins and tokens, a per-user "valid after"
time, and the same 12-hour cap as browser sessions.

Every token carries, besides FAB's claims (``additional_claims_loader``):

* ``jf_iat_us``  its issue time in microseconds;
* ``jf_fam``     the login it belongs to: the access and refresh tokens of one
                 ``POST /api/v1/security/login`` share a random family id, and every access
                 token that ``POST /api/v1/security/refresh`` makes from that refresh token
                 inherits it;
* ``jf_auth``    the time of that login (microseconds); refreshed tokens inherit it too.

flask_jwt_extended asks ``token_in_blocklist_loader`` about every token it verifies (access
and refresh).  A token is refused (401 "Token has been revoked") when

* its ``jti``, or its family (stored as ``fam:<id>``), is in ``jf_token_blocklist``:
  ``POST /api/v1/security/logout`` with the access OR the refresh token blocks both the token
  and its family, so the refresh token of that login dies with it, and so does every access
  token refreshed from it;
* it was issued before the user's ``jf_token_epoch.tokens_valid_after`` (a password change
  or deactivation, ``sessions.revoke_all``);
* its login is older than ``SESSION_MAX_HOURS`` (12): a refresh token never outlives the
  browser session's absolute limit, whatever its ``exp`` (which is set to the same 12 hours,
  ``JWT_REFRESH_TOKEN_EXPIRES``).  Tokens issued before these claims existed count from ``iat``.

The issue time is compared in microseconds, so a token issued just after a password change is
accepted and one issued just before is not, even within the same second (``iat`` has whole
seconds).  The blocklist and epoch checks are ONE statement.
"""

from __future__ import annotations

import datetime as _dt
import secrets
from typing import Any, Iterable, Mapping, Optional

from flask import current_app, g, has_request_context, jsonify, request
from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import clock

FAMILY = "fam:"  # jf_token_blocklist.jti of a revoked login (family)
_LOGIN_CLAIMS = "_jf_login_claims"


def _tables() -> Any:
    return current_app.extensions["jiefen"].security


def _issued_us(payload: Mapping[str, Any]) -> int:
    issued = payload.get("jf_iat_us")
    return issued if isinstance(issued, int) else int(payload.get("iat", 0) or 0) * 1_000_000


def login_time_us(payload: Mapping[str, Any]) -> int:
    """When the login this token belongs to happened (microseconds since the epoch)."""
    auth = payload.get("jf_auth")
    return auth if isinstance(auth, int) else _issued_us(payload)


def family(payload: Mapping[str, Any]) -> Optional[str]:
    fam = payload.get("jf_fam")
    return str(fam) if fam else None


def _claims(_identity: Any) -> dict[str, Any]:
    now = clock.micros(clock.now())
    claims: dict[str, Any] = {"jf_iat_us": now}
    if not has_request_context():
        return claims
    # g can outlive a request when an app context is already pushed (tests, scripts): everything
    # kept on it is tied to this request object.
    this = request._get_current_object()
    parent = g.get("_jwt_extended_jwt") or {}  # the refresh token verified by POST /refresh
    if (request.endpoint or "").endswith(".refresh") and parent.get("type") == "refresh":
        claims["jf_auth"] = login_time_us(parent)
        if family(parent):
            claims["jf_fam"] = family(parent)
        return claims
    memo = g.get(_LOGIN_CLAIMS)
    if memo is None or memo[0] is not this:  # the first token of this login: its tokens share these
        memo = (this, {"jf_fam": secrets.token_urlsafe(16), "jf_auth": now})
        setattr(g, _LOGIN_CLAIMS, memo)
    claims.update(memo[1])
    return claims


def _too_old(payload: Mapping[str, Any]) -> bool:
    hours = float(current_app.config.get("SESSION_MAX_HOURS", 12))
    return clock.micros(clock.now()) - login_time_us(payload) > hours * 3600 * 1_000_000


def refused(_header: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    tables = _tables()
    block = tables.token_blocklist.__table__
    epoch = tables.token_epoch.__table__
    try:
        user_id = int(payload.get("sub"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True
    if _too_old(payload):
        return True
    keys = [str(payload.get("jti"))] + ([FAMILY + fam] if (fam := family(payload)) else [])
    row = current_app.appbuilder.sm.session.execute(select(
        exists().where(block.c.jti.in_(keys)),
        select(epoch.c.tokens_valid_after).where(epoch.c.user_id == user_id).scalar_subquery(),
    )).one()
    if row[0]:
        return True
    if row[1] is None:
        return False
    return _issued_us(payload) < clock.micros(row[1])


def block(payload: Mapping[str, Any]) -> None:
    """Refuse this token, and every token of its login (family), from now on (logout)."""
    exp = payload.get("exp")
    expires = _dt.datetime.fromtimestamp(exp, _dt.timezone.utc).replace(tzinfo=None) if exp else None
    try:
        user_id = int(payload.get("sub"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        user_id = None
    now = clock.now()
    rows = [{"jti": str(payload["jti"]), "user_id": user_id, "expires_at": expires, "revoked_at": now}]
    fam = family(payload)
    if fam:
        login_ends = clock.EPOCH + _dt.timedelta(microseconds=login_time_us(payload)) + _dt.timedelta(
            hours=float(current_app.config.get("SESSION_MAX_HOURS", 12)))
        rows.append({"jti": FAMILY + fam, "user_id": user_id, "expires_at": login_ends, "revoked_at": now})
    engine = current_app.appbuilder.sm.session.get_bind()
    for row in rows:
        try:
            with engine.begin() as conn:
                conn.execute(insert(_tables().token_blocklist.__table__), [row])
        except IntegrityError:
            pass  # already revoked


def bump(conn: Any, user_ids: Iterable[int], at: _dt.datetime) -> None:
    """Tokens of these users issued before ``at`` are refused from now on."""
    t = _tables().token_epoch.__table__
    for uid in user_ids:
        done = conn.execute(update(t).where(t.c.user_id == uid).values(tokens_valid_after=at)).rowcount
        if not done:
            conn.execute(insert(t), [{"user_id": uid, "tokens_valid_after": at}])


def _invalid(reason: str) -> Any:
    """A token that is not ours (bad signature, e.g. forged with another key) or not a JWT at all:
    401 like a missing, expired or revoked one (flask_jwt_extended's default is 422)."""
    return jsonify(msg=reason), 401


def install(jwt_manager: Any) -> None:
    jwt_manager.token_in_blocklist_loader(refused)
    jwt_manager.additional_claims_loader(_claims)
    jwt_manager.invalid_token_loader(_invalid)
