"""FAB's login form view and security API with lockout, server-side sessions and safe ``next``.

Both classes keep FAB's names (``AuthDBView``, ``SecurityApi``): FAB builds endpoints such as
``AuthDBView.login`` from the class name (``has_access`` redirects there).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, request
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.api import safe
from flask_appbuilder.security.api import SecurityApi as _FabSecurityApi
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.views import AuthDBView as _FabAuthDBView
from flask_appbuilder.views import expose
from flask_babel import lazy_gettext
from flask_jwt_extended import get_jwt, jwt_required
from flask_login import logout_user

from . import auth, sessions, throttle
from .redirects import safe_next

LOCKED_MESSAGE = lazy_gettext("Too many failed logins: sign-in for this user name is locked for "
                              "%(minutes)s minutes. Please try again later.")
ADDRESS_MESSAGE = lazy_gettext("Too many failed logins from your network address: sign-in from it is "
                               "paused for up to %(minutes)s minutes. Please try again later.")


def locked_message() -> str:
    """The message for a login refused before the password was checked (throttle.py)."""
    if auth.refusal() == "address":
        return str(ADDRESS_MESSAGE) % {"minutes": throttle.address_window_minutes()}
    return str(LOCKED_MESSAGE) % {"minutes": throttle.lockout_minutes()}


class AuthDBView(_FabAuthDBView):
    """FAB's login form; ``next`` through ``safe_next``, a server-side session at login."""

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self) -> Any:
        if g.user is not None and g.user.is_authenticated:
            return redirect(safe_next(request.args.get("next")))
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = safe_next(request.args.get("next"))
            user = self.appbuilder.sm.auth_user_db(form.username.data, form.password.data)
            if not user:
                message = locked_message() if auth.is_locked_now() else as_unicode(self.invalid_login_message)
                flash(message, "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            sessions.start(user)
            return redirect(next_url)
        return self.render_template(self.login_template, title=self.title, form=form, appbuilder=self.appbuilder)

    @expose("/logout/", methods=["GET", "POST"])
    @no_cache
    def logout(self) -> Any:
        """POST (with the CSRF token, checked by CSRFProtect) logs out.  GET only asks: a link or
        an ``<img src=/logout/>`` on any page must not end the session."""
        if request.method != "POST":
            if not (g.user is not None and g.user.is_authenticated):
                return redirect(self.appbuilder.get_url_for_login)
            return self.render_template("jiefen/logout.html", title=lazy_gettext("Logout"),
                                        appbuilder=self.appbuilder)
        user = self._get_authenticated_user()
        sessions.end()
        logout_user()
        if user is not None:
            auth._audit("logout", username=user.username, user_id=user.id)
            self.appbuilder.sm.on_user_logout(user)
        return redirect(current_app.config.get("LOGOUT_REDIRECT_URL", self.appbuilder.get_url_for_index))


class SecurityApi(_FabSecurityApi):
    """FAB's JWT login (429 while the name is locked) plus ``POST /logout``."""

    @expose("/login", methods=["POST"])
    @safe
    def login(self) -> Any:
        response = _FabSecurityApi.login.__wrapped__(self)  # FAB's body, without its own @safe
        if response.status_code == 401 and auth.is_locked_now():
            return self.response(429, message=locked_message())
        return response

    login.__doc__ = _FabSecurityApi.login.__doc__

    @expose("/logout", methods=["POST"])
    @jwt_required(verify_type=False)
    @safe
    def logout(self) -> Any:
        """Revoke the tokens of this login
        ---
        post:
          description: >-
            Send the access token, or the refresh token of the same login (e.g. once the access
            token has expired), in the Authorization header.  Both tokens of that login, and every
            access token refreshed from it, are refused from now on.  Other logins of the user
            keep working.
          responses:
            200:
              description: Token revoked
            401:
              $ref: '#/components/responses/401'
          security:
            - jwt: []
        """
        payload = get_jwt()
        from . import tokens

        tokens.block(payload)
        user_id = payload.get("sub")
        auth._audit("logout", user_id=int(user_id) if str(user_id).isdigit() else None, detail="jwt")
        return self.response(200, message="OK")
