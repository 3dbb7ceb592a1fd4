"""Bad requests answered as such: a refused argument is a 400 with a message, never a 500.

* ``parse.BadQuery`` raised anywhere while serving a page (a filter on masked personal data, an
  unknown sort column, ``page=abc``, an unknown list action) → the error page with the message in
  the user's language, 400; under ``/api/`` → ``{"message": ...}``, 400.
* Before FAB reads them with ``int()``, every ``page_*``/``psize_*``/``_od_*`` argument of a page
  is checked (a show page lists several related views, each with its own arguments).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request

from app.access import parse
from app.access.validation import current_lang

TITLE = {"zh": "请求有误", "en": "Bad request"}


def bad_query(exc: parse.BadQuery) -> Any:
    lang = current_lang()
    if request.path.startswith("/api/"):
        return jsonify({"message": str(exc)}), 400
    html = render_template("jiefen/error.html", code=400, title=TITLE[lang], message=exc.text(lang), incident=None)
    return html, 400, {"Content-Type": "text/html; charset=utf-8"}


def _check_paging() -> None:
    if request.method == "GET" and not request.path.startswith("/api/") and request.args:
        parse.check_paging_args(request.args)


def install(app: Flask) -> None:
    app.register_error_handler(parse.BadQuery, bad_query)
    app.before_request(_check_paging)
