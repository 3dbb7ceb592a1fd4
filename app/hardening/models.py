"""The security tables: login throttle, server-side sessions, revoked JWTs, token epochs.

Built once per declarative base like ``jf_user_org`` and ``jf_audit_log`` (registry_for), so
schema sync creates them and every worker process shares them through the database.

    jf_login_throttle   username (normalised) → failures in the current window, locked_until
    jf_login_address    (username, address) of a successful login: the account's usual addresses,
                        with their own failure counter and lock
    jf_user_session     sid → user_id, created, last_seen, revoked_at   (one row per HTML login)
    jf_token_blocklist  jti of a JWT refused from now on (logout), with its expiry
    jf_token_epoch      user_id → tokens_valid_after: JWTs issued before it are refused
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String

from generator import names


@dataclass(frozen=True)
class SecurityTables:
    login_throttle: type
    user_session: type
    token_blocklist: type
    token_epoch: type
    login_address: type


def _model(base: type, table: str, class_name: str, doc: str, columns: dict[str, Any]) -> type:
    attrs: dict[str, Any] = {"__tablename__": table, "__module__": names.MODELS_MODULE,
                             "__qualname__": class_name, "__doc__": doc, **columns}
    cls = type(class_name, (base,), attrs)
    for idx in cls.__table__.indexes:  # type: ignore[attr-defined]
        if len(idx.columns) == 1:
            idx.name = names.index_name(table, *idx.columns.keys(), unique=bool(idx.unique))
    return cls


def _user_fk(table: str, **kw: Any) -> Column:
    return Column("user_id", Integer,
                  ForeignKey(User.__table__.c.id, ondelete="CASCADE", name=names.fk_name(table, "user_id")), **kw)


def build_security_tables(base: type) -> SecurityTables:
    """The mapped classes on ``base`` (once per declarative base)."""
    throttle = _model(base, "jf_login_throttle", "LoginThrottle",
                      "Failed logins per username (app/hardening/throttle.py).", {
                          "username": Column(String(256), primary_key=True),
                          "failures": Column(Integer, nullable=False, default=0),
                          "window_start": Column(DateTime, nullable=False),
                          "locked_until": Column(DateTime),
                      })
    session = _model(base, "jf_user_session", "UserSession",
                     "Server-side record of one signed-in browser session (app/hardening/sessions.py).", {
                         "sid": Column(String(64), primary_key=True),
                         "user_id": _user_fk("jf_user_session", nullable=False, index=True),
                         "created": Column(DateTime, nullable=False),
                         "last_seen": Column(DateTime, nullable=False),
                         "revoked_at": Column(DateTime),
                     })
    blocklist = _model(base, "jf_token_blocklist", "TokenBlocklist",
                       "JWTs refused before their expiry (POST /api/v1/security/logout).", {
                           "jti": Column(String(64), primary_key=True),
                           "user_id": Column(Integer, index=True),
                           "expires_at": Column(DateTime),
                           "revoked_at": Column(DateTime, nullable=False),
                       })
    epoch = _model(base, "jf_token_epoch", "TokenEpoch",
                   "JWTs of this user issued before tokens_valid_after are refused (password change).", {
                       "user_id": _user_fk("jf_token_epoch", primary_key=True, autoincrement=False),
                       "tokens_valid_after": Column(DateTime, nullable=False),
                   })
    address = _model(base, "jf_login_address", "LoginAddress",
                     "An account's usual addresses (a successful login from there) with their own failure "
                     "counter (app/hardening/throttle.py).", {
                         "username": Column(String(256), primary_key=True),
                         "address": Column(String(64), primary_key=True),
                         "last_success": Column(DateTime, nullable=False),
                         "failures": Column(Integer, nullable=False, default=0),
                         "window_start": Column(DateTime),
                         "locked_until": Column(DateTime),
                     })
    return SecurityTables(throttle, session, blocklist, epoch, address)
