"""``next=`` after login: only a path on this site, else the index.

FAB 5.3's ``is_safe_redirect_url`` accepts ``/\\evil.com``, ``\\\\evil.com`` and ``\\/evil.com``
(browsers read a backslash as a slash, so these mean ``//evil.com``; Werkzeug 3.1 happens to
percent-encode ``\\`` in ``Location`` today, security-tests.md §B.2 #5) and relative junk such
as ``%2F%2Fevil.com``.  ``safe_next`` accepts:

* a path starting with exactly one ``/`` (``/case/12?x=1``), or
* an absolute ``http(s)`` URL whose host is this request's host (FAB's ``has_access`` puts
  ``request.url`` in ``next``), reduced to its path;

and refuses anything with a backslash, a control or space character, or a percent-encoded
form of those or of a leading ``//`` (decoded up to three times).
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from flask import current_app, request


def _bad_chars(text: str) -> bool:
    return "\\" in text or any(unicodedata.category(c)[0] in "CZ" for c in text)


def is_safe(url: Any) -> bool:
    if not isinstance(url, str) or not url or len(url) > 2048:
        return False
    decoded = url
    for _ in range(3):
        if _bad_chars(decoded):
            return False
        decoded = unquote(decoded)
    if _bad_chars(decoded):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return False
        url = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    path = unquote(unquote(urlsplit(url).path))
    return url.startswith("/") and not url.startswith("//") and not path.startswith("//")


def safe_next(url: Any) -> str:
    """``url`` reduced to a local path when safe, else the application index."""
    if is_safe(url):
        parts = urlsplit(url)
        return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    return str(current_app.appbuilder.get_url_for_index)
