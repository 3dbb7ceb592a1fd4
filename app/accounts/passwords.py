"""Passwords are stored only as hashes made by FAB's hasher (werkzeug ``generate_password_hash``).

* ``hash_password`` hashes with FAB's settings (``FAB_PASSWORD_HASH_METHOD``, default scrypt, and
  ``FAB_PASSWORD_HASH_SALT_LENGTH``), exactly as FAB's own user form, ``add_user`` and
  ``reset_password`` do.
* ``install()`` puts a tripwire on ``ab_user``: inside the app, inserting a row, or updating its
  password, with a value that is not such a hash raises ``PlaintextPassword`` in the flush, so
  nothing is written.
  Whatever new path creates accounts (a view, an API, a script) cannot store a password in clear
  and leave an account that cannot log in.  ``None`` and ``""`` are allowed (no usable password).
* ``rehash_plaintext(session)`` hashes, in place, the clear passwords that the 新增 form of
  versions before issue #11 stored (``flask setup`` runs it): those accounts then log in with
  the password the administrator typed.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from flask import current_app, has_app_context
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import event, inspect, select, update
from werkzeug.security import generate_password_hash

# werkzeug: "<method>$<salt>$<hex digest>", method "scrypt:n:r:p" or "pbkdf2:<hash>:<iterations>"
_HASHED = re.compile(r"^(scrypt|pbkdf2:[a-z0-9_]+)(:\d+)*\$[^$]+\$[0-9a-f]+$")


class PlaintextPassword(ValueError):
    """An ``ab_user`` row was about to be written with a password that is not a hash."""


def is_hashed(value: Optional[str]) -> bool:
    return isinstance(value, str) and bool(_HASHED.match(value))


def _acceptable(value: Any) -> bool:
    return value is None or value == "" or is_hashed(value)


def hash_password(password: str) -> str:
    config: Any = current_app.config if has_app_context() else {}
    return generate_password_hash(password=password,
                                  method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
                                  salt_length=config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16))


def _refuse(target: Any) -> None:
    raise PlaintextPassword(f"refusing to store the password of account {target.username!r} in clear: "
                            "hash it with FAB's hasher (app.accounts.passwords.hash_password)")


def _guarding() -> bool:
    """Inside a Jiefen app (every view, API and CLI command runs in its app context); plain
    SQLAlchemy sessions outside one (unit tests of app/demo.py with a stand-in hasher) are not."""
    return has_app_context() and "jiefen" in current_app.extensions


def _before_insert(_mapper: Any, _conn: Any, target: Any) -> None:
    if _guarding() and not _acceptable(target.password):
        _refuse(target)


def _before_update(_mapper: Any, _conn: Any, target: Any) -> None:
    if _guarding() and inspect(target).attrs.password.history.has_changes() and not _acceptable(target.password):
        _refuse(target)


_installed: list[bool] = []


def install() -> None:
    """The tripwire on FAB's user class (once per process; every app shares the class)."""
    if not _installed:
        event.listen(User, "before_insert", _before_insert, propagate=True)
        event.listen(User, "before_update", _before_update, propagate=True)
        _installed.append(True)


def rehash_plaintext(session: Any, user_model: type = User) -> list[str]:
    """Hash every stored password that is not a hash; returns the usernames repaired (caller commits)."""
    table = user_model.__table__  # type: ignore[attr-defined]
    rows = session.execute(select(table.c.id, table.c.username, table.c.password)
                           .where(table.c.password.is_not(None), table.c.password != "")).all()
    repaired = []
    for uid, username, password in rows:
        if not is_hashed(password):
            session.execute(update(table).where(table.c.id == uid).values(password=hash_password(password)))
            repaired.append(username)
    return repaired
