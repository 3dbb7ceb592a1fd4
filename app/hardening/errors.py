"""Error pages: Chinese (English on request), never a traceback.

* Any unhandled exception → 500 with an incident id; the traceback goes to the log under
  that id.  HTML pages get ``jiefen/error.html`` (standalone: no navbar, no DB access, so it
  renders even when the database is the problem); paths under ``/api/`` get
  ``{"message": ..., "incident": ...}``.
* 404 and 403 (``abort``) get the same page / JSON without an incident id.

HTTP errors other than these keep Flask's, FAB's and flask_jwt_extended's own answers.
Note: FAB's REST endpoints catch their own exceptions (``@safe``) and answer
``{"message": "Fatal error"}`` with 500; those never reach this handler.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

TITLES = {
    403: lazy_gettext("Access denied"),
    404: lazy_gettext("Page not found"),
    500: lazy_gettext("Something went wrong"),
}
MESSAGES = {
    403: lazy_gettext("You do not have permission to open this page."),
    404: lazy_gettext("The page you asked for does not exist or has been removed."),
    500: lazy_gettext("The system could not complete this request. Please try again later; if it "
                      "keeps happening, tell the administrator the incident number below."),
}


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _answer(code: int, incident: str | None = None) -> Any:
    message = str(MESSAGES[code])
    if _is_api():
        body = {"message": message}
        if incident:
            body["incident"] = incident
        return jsonify(body), code
    try:
        html = render_template("jiefen/error.html", code=code, title=str(TITLES[code]), message=message,
                               incident=incident)
    except Exception:  # noqa: BLE001 - the error page itself must not fail
        log.exception("error page could not be rendered")
        html = f"<!doctype html><meta charset=utf-8><title>{code}</title><p>{code} {incident or ''}</p>"
    return html, code, {"Content-Type": "text/html; charset=utf-8"}


def not_found(_e: Exception) -> Any:
    return _answer(404)


def forbidden(_e: Exception) -> Any:
    return _answer(403)


def unhandled(e: Exception) -> Any:
    if isinstance(e, HTTPException) and e.code != 500:
        return e.get_response()
    incident = uuid.uuid4().hex[:12]
    log.error("incident %s: unhandled %s on %s %s", incident, type(e).__name__, request.method, request.path,
              exc_info=e)
    try:
        current_app.appbuilder.session.rollback()
    except Exception:  # noqa: BLE001
        pass
    return _answer(500, incident)


def install(app: Flask) -> None:
    app.register_error_handler(404, not_found)
    app.register_error_handler(403, forbidden)
    app.register_error_handler(500, unhandled)
    app.register_error_handler(Exception, unhandled)
