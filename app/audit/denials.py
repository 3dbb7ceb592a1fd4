"""Every refusal is an audit event (``denied``): permission checks and row-scope checks.

* FAB refuses a screen with 403 or a redirect to the login page for a signed-in user, and an
  API call with 403: seen here on the way out (``after_request``).
* The access module refuses writes out of scope (app/access/rules.py ``AccessRefused``): it notes
  the reason on ``g`` and the row is written here, after the request's own transaction was
  rolled back (a second connection writing while the first holds SQLite's write lock would
  wait for it).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request

from app.audit import log as audit

_NOTE = "_jf_denial"


def note(reason: str, entity: str | None = None, record_id: Any = None) -> None:
    setattr(g, _NOTE, (reason, entity, record_id))


def _after(response: Any) -> Any:
    noted = g.pop(_NOTE, None)
    user = getattr(g, "user", None)
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    refused = response.status_code == 403 or (
        signed_in and response.status_code == 302 and "/login" in response.headers.get("Location", ""))
    if noted is None and not (refused and signed_in):
        return response
    reason, entity, record_id = noted or (f"HTTP {response.status_code}", None, None)
    try:
        audit.record("denied", entity=entity, record_id=record_id,
                     detail=f"{request.method} {request.path[:300]}: {reason}")
    except Exception:  # noqa: BLE001 - never turn a refusal into a server error
        import logging

        logging.getLogger(__name__).exception("could not audit a denial")
    return response


def install(app: Flask) -> None:
    app.after_request(_after)
