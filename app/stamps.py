"""Who created and who last changed a record: set on the server, never from a form or payload.

A ``before_flush`` listener on the app's session stamps ``created_by_id`` on new rows and
``changed_by_id`` on changed rows of every generated model (the ones that have the columns),
from the signed-in user of the current request.  Outside a request (CLI, demo loading) they
stay empty.
"""

from __future__ import annotations

from typing import Any, Optional

from flask import g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

_installed: set[int] = set()


def _current_user_id() -> Optional[int]:
    if not has_request_context():
        return None
    user = getattr(g, "user", None)
    uid = getattr(user, "id", None)
    return uid if getattr(user, "is_authenticated", False) else None


def _stamp(session: Session, flush_context: Any, instances: Any) -> None:
    uid = _current_user_id()
    if uid is None:
        return
    for obj in session.new:
        if hasattr(obj, "created_by_id"):
            obj.created_by_id = uid
            obj.changed_by_id = uid
    for obj in session.dirty:
        if hasattr(obj, "changed_by_id") and session.is_modified(obj, include_collections=False):
            obj.changed_by_id = uid


def install(session_factory: Any) -> None:
    """Listen on the session class behind Flask-SQLAlchemy's scoped session (once per class)."""
    target = session_factory.session_factory.class_ if hasattr(session_factory, "session_factory") \
        else session_factory
    if id(target) not in _installed:
        event.listen(target, "before_flush", _stamp)
        _installed.add(id(target))
