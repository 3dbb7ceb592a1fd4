"""Offline check helpers: find references to other hosts in HTML, CSS and JS.

Jiefen must work on a closed network, so no page may make the browser fetch
anything from another host.  Two helpers, used by the app and browser tests:

``external_refs(html)``
    Every ``src``/``href``/``action``/``srcset``/... attribute, every CSS
    ``url()``/``@import`` (``<style>`` blocks and ``style=""``), and every
    absolute URL in a string literal of an inline ``<script>`` that points to
    another host: ``scheme://host...`` or protocol-relative ``//host...``.
    Relative URLs, ``data:``/``blob:``/``javascript:``/``mailto:``, ``#frag``
    and our own host (``localhost``, ``127.0.0.1``, ``::1``; more can be passed)
    are not reported.  HTML comments are ignored.  ``<a href>`` is reported too:
    a link to another host is a dead end offline (pass ``loads_only=True`` to
    keep only what the browser fetches by itself).

``scan_static(app)``
    Walks every static folder the Flask app serves (the app's own and every
    blueprint's, FAB's ``appbuilder`` one included) and reports, per served URL
    path, the external URLs in ``.js``/``.mjs``/``.css``/``.html``/``.htm``/``.svg``
    files: CSS ``url()``/``@import`` (comments stripped), URLs inside JS string
    literals (comments stripped with a small tokenizer that knows strings,
    template literals and regex literals), and HTML/SVG attributes.
    XML namespace identifiers (``http://www.w3.org/2000/svg`` ...) are never
    fetched and are skipped everywhere.  Anything else must be on ``ALLOW`` with
    a reason, scoped to the files it is found in.

What FAB 5.3.0 ships (checked when this module was written):

* Default theme pages load only ``/static/appbuilder/...`` (bootstrap 3,
  jQuery, select2, datepicker, Font Awesome 6 with local webfonts, flags).
  The only absolute URLs in those files are inside license comments.
* ``css/themes/*.css`` (Bootswatch): 16 of 18 ``@import`` Google Fonts
  (``fonts.googleapis.com``); cerulean and slate do not.  Loaded only when
  ``APP_THEME`` names them, so the allow-list entry stops applying to the
  configured theme.
* ``js/google_charts.js``: Google's loader, fetches ``www.gstatic.com`` /
  ``www.gstatic.cn`` / ``*.googleapis.com`` at run time.  Included only by the
  chart widgets (GroupByChartView, DirectByChartView, and FAB's own "User's
  Statistics" ``UserStatsChartView``, which the security manager registers by
  default: set ``userstatschartview = None`` on the app's security manager).
* ``js/swagger-ui-bundle.js`` (swagger-ui 5): ``validatorUrl`` defaults to
  ``https://validator.swagger.io/validator`` (an ``<img>`` badge that also leaks
  the spec URL); disabled by ``app/templates/appbuilder/swagger/swagger.html``
  (``validatorUrl: null``).  Its other absolute URLs are never fetched: JSON
  Schema/OAS dialect identifiers, error/deprecation message links, linkify
  link targets for hashtags/mentions, ``example.com`` sample values, the
  ``https://swagger.io`` top-bar link of the standalone layout (FAB uses
  ``BaseLayout``), the Petstore URL of the unused default config, and SPDX
  license links (``<a>`` only).
* ``templates/appbuilder/general/widgets/{direct,multiple}_chart.html``:
  ``code.google.com`` only inside a JS comment.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from typing import Callable, Iterable, Iterator

__all__ = [
    "ALLOW",
    "Allowed",
    "OWN_HOSTS",
    "css_urls",
    "external_refs",
    "host_of",
    "is_external",
    "js_urls",
    "scan_file",
    "scan_static",
]

OWN_HOSTS: frozenset[str] = frozenset({"localhost", "127.0.0.1", "::1"})

#: XML namespace names: identifiers compared as strings, never dereferenced.
XML_NAMESPACES: frozenset[str] = frozenset({
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/1998/Math/MathML",
    "http://www.w3.org/XML/1998/namespace",
    "http://www.w3.org/2000/xmlns/",
})

# ---------------------------------------------------------------- URLs

_ABS_RE = re.compile(r"^(?:([a-zA-Z][a-zA-Z0-9+.\-]*):)?//([^/?#]*)")


def _normalise(url: str) -> str:
    # What a browser does before parsing: trim, drop tabs/newlines, and treat
    # "\" as "/" (special schemes), so "\\evil.com/x.js" is protocol-relative.
    url = re.sub(r"[\t\n\r]", "", url.strip(" \t\n\r\f\x00"))
    return url.replace("\\", "/")


def host_of(url: str) -> str | None:
    """The host of an absolute (``scheme://host``) or protocol-relative URL, else None."""
    m = _ABS_RE.match(_normalise(url))
    if not m:
        return None
    authority = m.group(2).rsplit("@", 1)[-1]
    if authority.startswith("["):  # [::1]:5000
        host = authority[1:].split("]", 1)[0]
    else:
        host = authority.split(":", 1)[0]
    host = host.lower().rstrip(".")
    return host or None


def is_external(url: str, own_hosts: Iterable[str] = OWN_HOSTS) -> bool:
    """True if ``url`` points to a host other than ours."""
    if _normalise(url) in XML_NAMESPACES:
        return False
    host = host_of(url)
    return host is not None and host not in {h.lower() for h in own_hosts}


# ---------------------------------------------------------------- CSS

_CSS_STR = r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
_CSS_TOKEN = re.compile(
    r"(?P<comment>/\*.*?(?:\*/|\Z))"
    r"|(?P<url>\burl\(\s*(?:(?P<q>" + _CSS_STR + r")|(?P<u>[^)\s\"']*))\s*\))"
    r"|(?P<import>@import\s+(?P<iq>" + _CSS_STR + r"))"
    r"|(?P<str>" + _CSS_STR + r")",
    re.S | re.I,
)
_CSS_ESC = re.compile(r"\\([0-9a-fA-F]{1,6}\s?|.)", re.S)


def _css_unescape(s: str) -> str:
    def rep(m: re.Match) -> str:
        g = m.group(1)
        if re.fullmatch(r"[0-9a-fA-F]{1,6}\s?", g):
            try:
                return chr(int(g.strip(), 16))
            except (ValueError, OverflowError):
                return "\ufffd"
        return "" if g == "\n" else g
    return _CSS_ESC.sub(rep, s)


def css_urls(css: str) -> list[str]:
    """All ``url(...)`` and ``@import`` targets in CSS, comments skipped (any host)."""
    out: list[str] = []
    for m in _CSS_TOKEN.finditer(css):
        if m.group("url"):
            raw = m.group("q")[1:-1] if m.group("q") is not None else m.group("u")
        elif m.group("import"):
            raw = m.group("iq")[1:-1]
        else:
            continue
        out.append(_css_unescape(raw).strip())
    return out


# ---------------------------------------------------------------- JS

_JS_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<lc>//[^\n\r\u2028\u2029]*)"
    r"|(?P<bc>/\*.*?(?:\*/|\Z))"
    r"|(?P<str>\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?)"
    r"|(?P<id>[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*)"
    r"|(?P<num>\.?\d[\w.]*)"
    r"|(?P<p>.)",
    re.S,
)
_JS_REGEX = re.compile(r"/(?:[^/\\\[\n]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/[A-Za-z]*")
_JS_TPL_CHUNK = re.compile(r"(?:[^`\\$]|\\.|\$(?!\{))*", re.S)
# After these, "/" starts a regex literal rather than a division.
_REGEX_AFTER_WORDS = frozenset({
    "return", "typeof", "instanceof", "in", "of", "new", "delete", "void",
    "throw", "case", "do", "else", "yield", "await",
})
_REGEX_AFTER_PUNCT = frozenset("(,=:[!&|?{};+-*%<>~^}")


def _js_literals(src: str) -> list[str]:
    """Contents of every string and template-literal chunk in JS source."""
    out: list[str] = []
    _js_scan(src, 0, out, in_template_expr=False)
    return out


def _js_scan(src: str, pos: int, out: list[str], in_template_expr: bool) -> int:
    n = len(src)
    depth = 0
    prev = ""  # last significant token: "" at start, a word, "v" for a value, or a punctuator
    while pos < n:
        c = src[pos]
        if c == "`":
            pos = _js_template(src, pos + 1, out)
            prev = "v"
            continue
        if c == "/" and not src.startswith(("//", "/*"), pos):
            regex_ok = prev == "" or prev in _REGEX_AFTER_PUNCT or prev in _REGEX_AFTER_WORDS
            if regex_ok:
                m = _JS_REGEX.match(src, pos)
                if m:
                    pos = m.end()
                    prev = "v"
                    continue
        m = _JS_TOKEN.match(src, pos)
        assert m is not None  # (?P<p>.) with re.S matches any character
        pos = m.end()
        kind = m.lastgroup
        if kind in ("ws", "lc", "bc"):
            continue
        if kind == "str":
            out.append(m.group()[1:-1])
            prev = "v"
        elif kind == "id":
            prev = m.group() if m.group() in _REGEX_AFTER_WORDS else "v"
        elif kind == "num":
            prev = "v"
        else:
            p = m.group()
            if p == "{":
                depth += 1
            elif p == "}":
                if in_template_expr and depth == 0:
                    return pos
                depth -= 1
            prev = p if p not in ")]" else "v"
    return pos


def _js_template(src: str, pos: int, out: list[str]) -> int:
    n = len(src)
    while pos < n:
        m = _JS_TPL_CHUNK.match(src, pos)
        out.append(m.group())
        pos = m.end()
        if pos >= n:
            break
        if src[pos] == "`":
            return pos + 1
        # "${": scan the expression up to its closing brace
        pos = _js_scan(src, pos + 2, out, in_template_expr=True)
    return pos


_URL_IN_TEXT = re.compile(r"\b(?:https?|wss?|ftp)://[^\s\"'`<>\\]+", re.I)
_PROTO_REL_AT_START = re.compile(r"^//[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+[^\s\"'`<>\\]*")


def js_urls(js: str) -> list[str]:
    """Absolute and protocol-relative URLs inside JS string/template literals.

    Comments are skipped.  A protocol-relative URL is only taken at the start
    of a literal (``"//cdn.example.com/x.js"``); ``"a//b"`` is not one.
    """
    out: list[str] = []
    for lit in _js_literals(js):
        lit = lit.replace("\\/", "/")
        out.extend(m.group() for m in _URL_IN_TEXT.finditer(lit))
        m = _PROTO_REL_AT_START.match(lit)
        if m:
            out.append(m.group())
    return out


# ---------------------------------------------------------------- HTML

# attribute -> tags it is a fetch for (None: every tag); "href" on <a>/<area> is navigation.
_URL_ATTRS = {
    "src": None, "href": None, "action": None, "formaction": None,
    "poster": None, "background": None, "data": {"object"}, "manifest": {"html"},
    "xlink:href": None, "longdesc": None, "ping": None, "codebase": None,
    "archive": None, "cite": {"blockquote", "q", "del", "ins"},
}
_SRCSET_ATTRS = {"srcset", "imagesrcset"}
_NAVIGATION = {("a", "href"), ("area", "href"), ("form", "action"), ("button", "formaction"),
               ("input", "formaction"), ("a", "ping"), ("area", "ping"), ("img", "longdesc"),
               ("blockquote", "cite"), ("q", "cite"), ("del", "cite"), ("ins", "cite")}
_JS_TYPES = {"", "text/javascript", "application/javascript", "module", "text/ecmascript",
             "application/ecmascript", "text/jscript"}


class _RefParser(HTMLParser):
    def __init__(self, loads_only: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.loads_only = loads_only
        self.urls: list[str] = []
        self._raw: str | None = None  # "style" / "script" while inside one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)
        if tag == "style":
            self._raw = "style"
        elif tag == "script":
            type_ = (dict(attrs).get("type") or "").strip().lower()
            self._raw = "script" if type_ in _JS_TYPES else None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw == "style":
            self.urls.extend(css_urls(data))
        elif self._raw == "script":
            self.urls.extend(js_urls(data))

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = {k.lower(): (v or "") for k, v in attrs}
        for name, value in d.items():
            if name in _URL_ATTRS:
                tags = _URL_ATTRS[name]
                if tags is not None and tag not in tags:
                    continue
                if self.loads_only and (tag, name) in _NAVIGATION:
                    continue
                if name == "ping":
                    self.urls.extend(value.split())
                elif name == "archive":
                    self.urls.extend(re.split(r"[\s,]+", value))
                else:
                    self.urls.append(value)
            elif name in _SRCSET_ATTRS:
                for cand in value.split(","):
                    parts = cand.split()
                    if parts:
                        self.urls.append(parts[0])
            elif name == "style":
                self.urls.extend(css_urls(value))
        if tag == "meta" and d.get("http-equiv", "").lower() == "refresh":
            m = re.search(r"url\s*=\s*['\"]?([^'\";]+)", d.get("content", ""), re.I)
            if m:
                self.urls.append(m.group(1))


def external_refs(html: str, own_hosts: Iterable[str] = OWN_HOSTS, *, loads_only: bool = False) -> list[str]:
    """External URLs referenced by an HTML page, in document order, each once."""
    parser = _RefParser(loads_only)
    parser.feed(html)
    parser.close()
    return _dedupe(u for u in parser.urls if is_external(u, own_hosts))


def _dedupe(urls: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for u in urls:
        seen.setdefault(u.strip(), None)
    return list(seen)


# ---------------------------------------------------------------- static files

@dataclass(frozen=True)
class Allowed:
    """A known external URL in a served static file that is acceptable, and why.

    ``files`` is an fnmatch pattern on the served URL path, ``url`` a regex
    searched in the URL.  ``unless`` (optional) gets the app and the served
    path and returns True when the entry must NOT apply (e.g. the configured theme).
    """

    files: str
    url: str
    reason: str
    unless: Callable[[object, str], bool] | None = None

    def covers(self, app: object, path: str, url: str) -> bool:
        if not fnmatch.fnmatchcase(path, self.files) or not re.search(self.url, url):
            return False
        return not (self.unless and self.unless(app, path))


def _is_configured_theme(app, path: str) -> bool:
    theme = (getattr(app, "config", {}) or {}).get("APP_THEME") or ""
    return bool(theme) and path.endswith("/css/themes/" + theme)


_SWAGGER = "/static/appbuilder/js/swagger-ui-bundle.js"
_MERMAID = "/static/vendor/mermaid/mermaid.min.js"

ALLOW: tuple[Allowed, ...] = (
    Allowed("/static/appbuilder/css/themes/*.css", r"^(https?:)?//fonts\.googleapis\.com/",
            "Bootswatch theme @import of Google Fonts; a theme file is only linked when APP_THEME "
            "names it, and the entry stops applying to the configured theme", _is_configured_theme),
    Allowed("/static/appbuilder/js/google_charts.js",
            r"^https://(www\.gstatic\.(com|cn)|maps\.googleapis\.com|maps-api-ssl\.google\.com"
            r"|ajax\.googleapis\.com)/",
            "Google Charts loader; only chart widgets include it and the app registers no chart "
            "view (FAB's UserStatsChartView must be disabled: userstatschartview = None)"),
    Allowed(_SWAGGER, r"^https://validator\.swagger\.io/validator$",
            "swagger-ui validator badge default; app/templates/appbuilder/swagger/swagger.html "
            "sets validatorUrl: null (tested)"),
    Allowed(_SWAGGER, r"^https://(json-schema\.org/draft/2020-12/schema|spec\.openapis\.org/oas/3\.1/dialect/base)$",
            "JSON Schema / OAS 3.1 dialect identifiers ($schema values), compared, not fetched"),
    Allowed(_SWAGGER, r"^https?://(reactjs\.org/(docs/error-decoder|link/)|fb\.me/|redux\.js\.org/Errors"
            r"|github\.com/highlightjs/highlight\.js/)",
            "links inside error/deprecation message text (console only)"),
    Allowed(_SWAGGER, r"^https://github\.com/zloirock/core-js",
            "core-js package metadata (license/source fields), never loaded"),
    Allowed(_SWAGGER, r"^https://((www\.)?(twitter|facebook|instagram|soundcloud|tiktok)\.com)/",
            "linkify link targets for #hashtags/@mentions in rendered Markdown (<a href>, navigation only)"),
    Allowed(_SWAGGER, r"^https://(example\.com|실례\.com)/",
            "sample values generated for format: uri/iri/uri-template"),
    Allowed(_SWAGGER, r"^https://swagger\.io$", "logo link of the StandaloneLayout top bar; FAB uses BaseLayout"),
    Allowed(_SWAGGER, r"^https://petstore\.swagger\.io/v2/swagger\.json$",
            "default url of the unused built-in config; FAB's template always passes its own url"),
    Allowed(_SWAGGER, r"^https://spdx\.org/licenses/", "license link (<a href>) built from the spec's license id"),
    Allowed(_MERMAID, r"^https://(chevrotain\.io/docs/|github\.com/(mermaid-js/mermaid|chevrotain/chevrotain"
            r"|markedjs/marked)|langium\.org/docs/|en\.wikipedia\.org/wiki/LL_parser)",
            "mermaid 11 (vendored for the workflow diagram page): links inside error/warning message "
            "text of mermaid, its parser generator (chevrotain/langium) and marked; never fetched"),
)

STATIC_SUFFIXES = (".js", ".mjs", ".css", ".html", ".htm", ".svg")


def scan_file(path: str) -> list[str]:
    """External URLs a static file would make the browser fetch (unfiltered by ALLOW)."""
    st = os.stat(path)
    return list(_scan_file(path, st.st_mtime_ns, st.st_size))


@lru_cache(maxsize=512)  # swagger-ui-bundle.js alone takes ~2 s to tokenize
def _scan_file(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    return tuple(_scan_text(path))


def _scan_text(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    low = path.lower()
    if low.endswith(".css"):
        urls = css_urls(text)
    elif low.endswith((".js", ".mjs")):
        urls = js_urls(text)
    else:
        return external_refs(text, loads_only=True)
    return _dedupe(u for u in urls if is_external(u))


def _static_roots(app) -> Iterator[tuple[str, str]]:
    """(filesystem folder, served URL prefix) for the app and every blueprint with static files."""
    prefixes: dict[str, str] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            prefixes[rule.endpoint] = rule.rule.split("<", 1)[0].rstrip("/")
    if app.static_folder and "static" in prefixes:
        yield app.static_folder, prefixes["static"]
    for name, bp in app.blueprints.items():
        ep = f"{name}.static"
        if bp.static_folder and ep in prefixes:
            yield bp.static_folder, prefixes[ep]


def scan_static(app, allow: Iterable[Allowed] = ALLOW) -> dict[str, list[str]]:
    """{served path: [external URLs]} for every served static file with a finding not in ``allow``."""
    allow = tuple(allow)
    found: dict[str, list[str]] = {}
    for folder, prefix in _static_roots(app):
        if not os.path.isdir(folder):
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for fn in sorted(filenames):
                if not fn.lower().endswith(STATIC_SUFFIXES):
                    continue
                full = os.path.join(dirpath, fn)
                served = prefix + "/" + os.path.relpath(full, folder).replace(os.sep, "/")
                urls = [u for u in scan_file(full) if not any(a.covers(app, served, u) for a in allow)]
                if urls:
                    found[served] = urls
    return found
