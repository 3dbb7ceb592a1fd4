"""Security headers on every response, and the Origin check on cookie-authenticated API writes.

Headers (``after_request``): ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy: same-origin``, ``Permissions-Policy`` (no camera, microphone, location,
payment, USB...), and a ``Content-Security-Policy`` allowing only this site (FAB's pages use
inline scripts, inline event handlers and inline styles, hence ``'unsafe-inline'`` for script
and style; no other host anywhere, no framing, forms post only here).  Dynamic responses get
``Cache-Control: no-store`` unless the view set a cache policy itself.

CSRF: FAB exempts its REST APIs from Flask-WTF's token (``csrf_exempt``), and with
``allow_browser_login`` a browser's session cookie authenticates them (FAB's ``protect()`` tries
the cookie before any ``Authorization`` header).  So a POST/PUT/PATCH/DELETE under ``/api/`` that
carries a session cookie with a signed-in user must come from this site, whatever other headers
come with it (an ``Authorization`` header does not exempt it): an ``Origin`` with this site's
scheme and host, or (no Origin) a ``Referer`` on this scheme and host; a ``Sec-Fetch-Site:
cross-site`` is refused too.  Otherwise 403 JSON, before any view runs.  Requests whose cookie
names nobody (a JWT client's cookie jar holds at most the chosen language) are not concerned:
no browser authority comes with them.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlsplit

from flask import Response, jsonify, request, session
from flask_babel import gettext

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
PERMISSIONS_POLICY = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                      "interest-cohort=(), browsing-topics=()")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": CSP,
    "Permissions-Policy": PERMISSIONS_POLICY,
}
WRITES = frozenset(("POST", "PUT", "PATCH", "DELETE"))
EXEMPT = ("/api/v1/security/login",)  # takes credentials, no cookie authority involved


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    endpoint = request.endpoint or ""
    if not (endpoint == "static" or endpoint.endswith(".static")) and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def _site_of(url: Optional[str]) -> Optional[tuple[str, str]]:
    """(scheme, host) of an http(s) URL; None when absent, ("", "") when not one."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        if parts.scheme in ("http", "https") and parts.netloc:
            return parts.scheme.lower(), parts.netloc.lower()
    except ValueError:
        pass
    return "", ""


def same_site_request() -> bool:
    """Origin (else Referer) names this scheme and host, and the browser does not call it cross-site."""
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return False
    here = (request.scheme.lower(), request.host.lower())
    origin = request.headers.get("Origin")
    if origin is not None:
        return _site_of(origin) == here
    return _site_of(request.headers.get("Referer")) == here


def check_api_origin() -> Optional[Any]:
    if request.method not in WRITES or not request.path.startswith("/api/"):
        return None
    if request.path.rstrip("/") in EXEMPT:
        return None
    if "_user_id" not in session:
        # no signed-in user in the cookie (none, or only the language a JWT client picked up):
        # no cookie authority to abuse; FAB authenticates the request by its token or answers 401
        return None
    if same_site_request():
        return None
    return jsonify(message=gettext("Cross-site request refused.")), 403
