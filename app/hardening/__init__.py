"""Security hardening around FAB 5.3 (issue "hardening"); ``install(app)`` wires it in.

    models.py        the tables: jf_login_throttle, jf_login_address, jf_user_session, jf_token_blocklist,
                     jf_token_epoch
    throttle.py      login throttling: per client address (Flask-Limiter, Redis or memory), per
                     account (5 failures / 15 min → locked 15 min) except the account's usual addresses
    auth.py          password login = throttling + FAB's check + audit (JiefenSecurityManager.auth_user_db)
    views.py         FAB's AuthDBView / SecurityApi with lockout messages, safe next, sid at login,
                     logout as a POST only (GET asks), POST /api/v1/security/logout
    sessions.py      server-side sessions: checked on every request, revoked at logout and on
                     password change (with every JWT of that user)
    tokens.py        JWT blocklist (tokens and whole logins) + "tokens valid after" + the 12 h cap
    headers.py       security headers; Origin check on every cookie-authenticated API write
    redirects.py     safe ``next=``
    passwords.py     password policy (FAB_PASSWORD_COMPLEXITY_VALIDATOR)
    errors.py        403/404/500 pages and JSON, incident ids
    deploy_check.py  ``flask check-deploy``
"""

from __future__ import annotations

from flask import Flask


def _first(app: Flask, func: object) -> None:
    """Run ``func`` before every other before_request function (FAB's included)."""
    app.before_request_funcs.setdefault(None, []).insert(0, func)  # type: ignore[arg-type]


def install(app: Flask) -> None:
    """Wire everything into ``app`` (behind TRUSTED_PROXIES proxies, ProxyFix first)."""
    from . import errors, headers, sessions, tokens

    sm = app.appbuilder.sm  # type: ignore[attr-defined]
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:  # the client's address and scheme as the reverse proxies in front saw them
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    errors.install(app)
    tokens.install(sm.jwt_manager)
    with app.app_context():
        sessions.install(sm.session)
    _first(app, sessions.check_request)
    _first(app, headers.check_api_origin)  # refuses before any session work
    app.after_request(sessions.reissue_after_own_change)
    app.after_request(headers.add_headers)
