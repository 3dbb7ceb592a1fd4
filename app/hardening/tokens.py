"""JWTs that end for real: a blocklist of revoked ``jti`` and a per-user "valid after" time.

flask_jwt_extended asks ``token_in_blocklist_loader`` about every token it verifies (access
and refresh).  A token is refused (401 "Token has been revoked") when

* its ``jti`` is in ``jf_token_blocklist`` (``POST /api/v1/security/logout``), or
* it was issued before the user's ``jf_token_epoch.tokens_valid_after`` (a password change
  or deactivation, ``sessions.revoke_all``).

The issue time is compared in microseconds: every token carries ``jf_iat_us`` (added by
``additional_claims_loader``), so a token issued just after a password change is accepted
and one issued just before is not, even within the same second (``iat`` has whole seconds).
Both checks are ONE statement.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable, Mapping

from flask import current_app
from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import clock


def _tables() -> Any:
    return current_app.extensions["jiefen"].security


def _claims(_identity: Any) -> dict[str, Any]:
    return {"jf_iat_us": clock.micros(clock.now())}


def refused(_header: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    tables = _tables()
    block = tables.token_blocklist.__table__
    epoch = tables.token_epoch.__table__
    try:
        user_id = int(payload.get("sub"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True
    row = current_app.appbuilder.sm.session.execute(select(
        exists().where(block.c.jti == str(payload.get("jti"))),
        select(epoch.c.tokens_valid_after).where(epoch.c.user_id == user_id).scalar_subquery(),
    )).one()
    if row[0]:
        return True
    if row[1] is None:
        return False
    issued = payload.get("jf_iat_us")
    if not isinstance(issued, int):
        issued = int(payload.get("iat", 0)) * 1_000_000
    return issued < clock.micros(row[1])


def block(payload: Mapping[str, Any]) -> None:
    """Refuse this token from now on (logout)."""
    exp = payload.get("exp")
    expires = _dt.datetime.fromtimestamp(exp, _dt.timezone.utc).replace(tzinfo=None) if exp else None
    try:
        user_id = int(payload.get("sub"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        user_id = None
    engine = current_app.appbuilder.sm.session.get_bind()
    try:
        with engine.begin() as conn:
            conn.execute(insert(_tables().token_blocklist.__table__),
                         [{"jti": str(payload["jti"]), "user_id": user_id, "expires_at": expires,
                           "revoked_at": clock.now()}])
    except IntegrityError:
        pass  # already revoked


def bump(conn: Any, user_ids: Iterable[int], at: _dt.datetime) -> None:
    """Tokens of these users issued before ``at`` are refused from now on."""
    t = _tables().token_epoch.__table__
    for uid in user_ids:
        done = conn.execute(update(t).where(t.c.user_id == uid).values(tokens_valid_after=at)).rowcount
        if not done:
            conn.execute(insert(t), [{"user_id": uid, "tokens_valid_after": at}])


def install(jwt_manager: Any) -> None:
    jwt_manager.token_in_blocklist_loader(refused)
    jwt_manager.additional_claims_loader(_claims)
