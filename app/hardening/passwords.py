"""Password policy (FAB_PASSWORD_COMPLEXITY_VALIDATOR): at least 8 characters, at least three of
upper-case letters, lower-case letters, digits and symbols, and not containing the username.

FAB calls the validator with the password only; the username comes from the request: the
user form's ``username`` field (add), the ``pk`` of ResetPasswordView, or the signed-in
user (ResetMyPasswordView).
"""

from __future__ import annotations

from typing import Any, Optional

from flask import g, has_request_context, request
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import lazy_gettext

MIN_LENGTH = 8
MESSAGE = lazy_gettext("The password must have at least 8 characters, use at least three of: upper-case "
                       "letters, lower-case letters, digits and symbols, and must not contain the user name.")


def classes(password: str) -> int:
    return sum((any(c.isupper() for c in password), any(c.islower() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() and not c.isspace() for c in password)))


def acceptable(password: Any, username: Optional[str] = None) -> bool:
    if not isinstance(password, str) or len(password) < MIN_LENGTH or classes(password) < 3:
        return False
    name = (username or "").strip().lower()
    return not (len(name) >= 3 and name in password.lower())


def _username_in_request() -> Optional[str]:
    if not has_request_context():
        return None
    if request.form.get("username"):
        return request.form["username"]
    body = request.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("username"), str):
        return body["username"]
    endpoint = request.endpoint or ""
    if endpoint.startswith("ResetPasswordView.") and request.args.get("pk"):
        from flask import current_app

        try:
            user = current_app.appbuilder.sm.get_user_by_id(int(request.args["pk"]))
        except (TypeError, ValueError):
            user = None
        return user.username if user is not None else None
    user = getattr(g, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user.username
    return None


def validate(password: str) -> None:
    """FAB's hook: raise PasswordComplexityValidationError with a message in the UI language."""
    if not acceptable(password, _username_in_request()):
        raise PasswordComplexityValidationError(str(MESSAGE))
