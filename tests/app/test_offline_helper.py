"""Unit tests for tests/app/offline.py (the offline/CDN checker), plus its run over FAB's real assets."""

from __future__ import annotations

from pathlib import Path

import flask_appbuilder
import pytest
from flask import Blueprint, Flask

from tests.app.offline import (ALLOW, css_urls, external_refs, host_of, is_external, js_urls, scan_file,
                               scan_static)

ROOT = Path(__file__).resolve().parents[2]
FAB = Path(flask_appbuilder.__file__).parent


# ---------------------------------------------------------------- URLs

@pytest.mark.parametrize("url, host", [
    ("https://cdn.example.com/x.js", "cdn.example.com"),
    ("HTTP://CDN.Example.COM:8080/x", "cdn.example.com"),
    ("//fonts.googleapis.com/css?family=Lato", "fonts.googleapis.com"),
    ("\\\\evil.example/x.js", "evil.example"),  # browsers treat "\" as "/"
    ("  https://user:pw@h.example/  ", "h.example"),
    ("http://[::1]:5000/static/x.css", "::1"),
    ("wss://push.example/socket", "push.example"),
    ("/static/appbuilder/js/ab.js", None),
    ("static/x.css", None),
    ("#top", None),
    ("data:image/png;base64,AAAA", None),
    ("javascript:void(0)", None),
    ("mailto:someone@example.com", None),
    ("file:///etc/passwd", None),
    ("?page=2", None),
])
def test_host_of(url: str, host: str | None) -> None:
    assert host_of(url) == host


def test_is_external_own_hosts_and_namespaces() -> None:
    assert not is_external("http://localhost:5000/static/x.js")
    assert not is_external("http://127.0.0.1/x")
    assert not is_external("http://[::1]/x")
    assert not is_external("http://www.w3.org/2000/svg")  # namespace name, never fetched
    assert is_external("http://www.w3.org/TR/html5/")  # a real document on that host is external
    assert is_external("https://jiefen.gov.cn/x")
    assert not is_external("https://jiefen.gov.cn/x", own_hosts={"jiefen.gov.cn"})


# ---------------------------------------------------------------- HTML

PAGE = """<!DOCTYPE html>
<html manifest="https://m.example/app.appcache">
<head>
  <!-- <script src="https://commented.example/x.js"></script> -->
  <link href="/static/appbuilder/css/bootstrap.min.css" rel="stylesheet">
  <link href="https://cdn.example/bootstrap.css" rel="stylesheet">
  <link rel="preconnect" href="//fonts.gstatic.com">
  <link href="http://localhost:5000/static/local.css" rel="stylesheet">
  <style>
    /* @import url("https://in-comment.example/x.css"); */
    @import "https://import.example/a.css";
    @import url(//import2.example/b.css);
    body { background: url('https://bg.example/bg.png') }
    .i { background: url("data:image/svg+xml;utf8,<svg xmlns=\\"http://www.w3.org/2000/svg\\"></svg>") }
    .s::after { content: "https://not-a-fetch.example/" }
  </style>
  <script src="https://cdn.example/jquery.js"></script>
  <script src="/static/appbuilder/js/ab.js"></script>
  <script>
    // var old = "https://js-comment.example/x.js";
    /* loader: "https://block-comment.example/y.js" */
    var s = document.createElement("script");
    s.src = "https://script-created.example/loader.js";
    var rel = "//proto-rel.example/lib.js", notUrl = "a//b", ns = "http://www.w3.org/1999/xlink";
    var re = /https?:\\/\\/regex.example/g;
    var t = `${base}/x and https://template.example/${v}`;
  </script>
  <script type="application/ld+json">{"@context": "https://schema.org"}</script>
  <script type="text/template"><img src="https://tpl.example/x.png"></script>
  <meta http-equiv="refresh" content="5; url=https://refresh.example/">
</head>
<body style="background-image: url(https://inline-style.example/a.png)">
  <a href="https://gov.example/help">help</a>
  <a href="/cases/list/">cases</a>
  <a href="#top">top</a>
  <img src="data:image/png;base64,AAAA" srcset="https://srcset.example/a.png 1x, /b.png 2x, https://srcset.example/c.png 3x">
  <form action="https://form.example/post"><button formaction="//btn.example/go">go</button></form>
  <svg xmlns="http://www.w3.org/2000/svg"><use xlink:href="https://sprite.example/s.svg#i"></use></svg>
  <video poster="https://poster.example/p.jpg"></video>
  <object data="https://object.example/o.swf"></object>
  <iframe src="https://frame.example/"></iframe>
  <img src="https://cdn.example/jquery.js">
</body>
</html>"""

EXPECTED = [
    "https://m.example/app.appcache",
    "https://cdn.example/bootstrap.css",
    "//fonts.gstatic.com",
    "https://import.example/a.css",
    "//import2.example/b.css",
    "https://bg.example/bg.png",
    "https://cdn.example/jquery.js",
    "https://script-created.example/loader.js",
    "//proto-rel.example/lib.js",
    "https://template.example/",
    "https://refresh.example/",
    "https://inline-style.example/a.png",
    "https://gov.example/help",
    "https://srcset.example/a.png",
    "https://srcset.example/c.png",
    "https://form.example/post",
    "//btn.example/go",
    "https://sprite.example/s.svg#i",
    "https://poster.example/p.jpg",
    "https://object.example/o.swf",
    "https://frame.example/",
]


def test_external_refs_finds_everything_in_document_order_once() -> None:
    assert external_refs(PAGE) == EXPECTED


def test_external_refs_loads_only_skips_navigation() -> None:
    got = external_refs(PAGE, loads_only=True)
    assert "https://gov.example/help" not in got
    assert "https://form.example/post" not in got and "//btn.example/go" not in got
    assert "https://cdn.example/jquery.js" in got and "https://frame.example/" in got


def test_external_refs_clean_page() -> None:
    html = """<html><head><link href="/static/appbuilder/css/ab.css" rel="stylesheet">
    <script src="/static/appbuilder/js/jquery-latest.js"></script>
    <script>$(function(){ var u = "/api/v1/case/?q=" + encodeURIComponent(q); })</script></head>
    <body><a href="/lang/en">English</a><a href="http://127.0.0.1:5000/">home</a>
    <img src="data:image/gif;base64,R0lGOD"><form action=""></form></body></html>"""
    assert external_refs(html) == []


def test_external_refs_entities_and_whitespace() -> None:
    html = '<img src="  https&#58;//ent.example/x.png ">' \
           '<link href="\n https://ws.example/a.css\t">' \
           '<script src="&#47;&#47;slash.example/x.js"></script>'
    assert external_refs(html) == ["https://ent.example/x.png", "https://ws.example/a.css", "//slash.example/x.js"]


# ---------------------------------------------------------------- CSS

def test_css_urls_skip_comments_and_plain_strings() -> None:
    css = """/*! Bootstrap v3.4.1 (https://getbootstrap.com/) | Licensed under MIT (https://github.com/x) */
    @import url("https://fonts.googleapis.com/css?family=Lato");
    @import 'local.css';
    @font-face { src: url(../webfonts/fa-solid-900.woff2) format("woff2"), url( "https://f.example/a.ttf" ); }
    .a { background: URL(https://upper.example/x.png) }
    .b { content: "url(https://in-string.example/x)" }
    .c { background: url("data:image/svg+xml;charset=utf-8,<svg xmlns=\\"http://www.w3.org/2000/svg\\"/>") }
    .d { background: url(ht\\74ps://escaped.example/x.png) }"""
    urls = css_urls(css)
    assert [u for u in urls if is_external(u)] == [
        "https://fonts.googleapis.com/css?family=Lato", "https://f.example/a.ttf",
        "https://upper.example/x.png", "https://escaped.example/x.png"]
    assert "local.css" in urls and "../webfonts/fa-solid-900.woff2" in urls


def test_css_unterminated_comment_hides_rest() -> None:
    assert css_urls("a{} /* url(https://x.example/a.png)") == []


# ---------------------------------------------------------------- JS

def test_js_urls_strings_not_comments() -> None:
    js = r"""/*! jQuery v3 | (c) OpenJS Foundation | https://jquery.org/license */
    // see https://line-comment.example/
    var a = "https://dq.example/a.js", b = 'https://sq.example/b.js';
    var c = "//cdn.example/c.js";                 // protocol-relative at string start
    var d = "see //not.example here";              // not at start: not a URL
    var e = "https:\/\/escaped-slash.example\/e";  // JSON-style escaped slashes
    var f = x / 2 / "https://after-division.example/";
    var g = /"https:\/\/in-regex.example"/.test(h), i = "https://after-regex.example/";
    var j = `prefix ${ {k: "https://in-template-expr.example/"}.k } https://template-text.example/`;
    var k = "http://www.w3.org/2000/svg";
    var l = "https://";  // no host: dynamic, not reportable
    """
    assert [u for u in js_urls(js) if is_external(u)] == [
        "https://dq.example/a.js", "https://sq.example/b.js", "//cdn.example/c.js",
        "https://escaped-slash.example/e", "https://after-division.example/", "https://after-regex.example/",
        "https://in-template-expr.example/", "https://template-text.example/"]


def test_js_regex_with_quotes_and_slashes_does_not_desync() -> None:
    js = r"""var r = /['"]\/\/[^/]+/g; if (x) return /\/\*/.test(y); var u = "https://after.example/";"""
    assert js_urls(js) == ["https://after.example/"]


def test_js_comment_markers_inside_strings() -> None:
    js = r"""var a = "/* not a comment", b = "https://kept.example/", c = "*/"; var d = "// nope https://kept2.example/";"""
    assert js_urls(js) == ["https://kept.example/", "https://kept2.example/"]


# ---------------------------------------------------------------- static files

def _app_with_static(tmp_path: Path) -> Flask:
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "js" / "ok.js").write_text('/* https://license.example */ var x = "/static/y.js";')
    (static / "js" / "bad.js").write_text('var s = document.createElement("script"); s.src = "https://cdn.example/x.js";')
    (static / "app.css").write_text('@import url("https://fonts.googleapis.com/css?family=X");')
    (static / "page.html").write_text('<a href="https://gov.example/">x</a><img src="https://img.example/a.png">')
    (static / "image.png").write_bytes(b"\x89PNG https://not-scanned.example/")
    bp_static = tmp_path / "bp_static"
    bp_static.mkdir()
    (bp_static / "w.js").write_text('fetch("//api.example/data")')
    app = Flask("scan_test", static_folder=str(static))
    app.register_blueprint(Blueprint("extra", "scan_test", static_folder=str(bp_static),
                                     static_url_path="/static/extra"))
    return app


def test_scan_static_walks_app_and_blueprint_static(tmp_path: Path) -> None:
    found = scan_static(_app_with_static(tmp_path))
    assert found == {
        "/static/js/bad.js": ["https://cdn.example/x.js"],
        "/static/app.css": ["https://fonts.googleapis.com/css?family=X"],
        "/static/page.html": ["https://img.example/a.png"],  # <a href> in a static page is navigation
        "/static/extra/w.js": ["//api.example/data"],
    }


def test_allow_list_entries_have_reasons_and_are_scoped() -> None:
    for entry in ALLOW:
        assert entry.reason.strip() and entry.files.startswith("/static/"), entry
        assert entry.files not in ("/static/*", "*"), "allow-list entries must name the files"


# ---------------------------------------------------------------- FAB's real assets

def _fab_app(**config: object) -> Flask:
    from flask_appbuilder import AppBuilder
    from flask_appbuilder.models.sqla.base import SQLA

    app = Flask("fab_offline", static_folder=None)
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="x" * 32, FAB_UPDATE_PERMS=False, **config)
    db = SQLA()
    db.init_app(app)
    with app.app_context():
        AppBuilder().init_app(app, db.session)
    return app


@pytest.fixture(scope="module")
def fab_app() -> Flask:
    return _fab_app()


def test_fab_static_default_theme_is_offline(fab_app: Flask) -> None:
    assert scan_static(fab_app) == {}


def test_fab_static_unfiltered_findings_are_the_known_ones(fab_app: Flask) -> None:
    """Without the allow-list exactly the documented files show up (a FAB upgrade that adds one fails here)."""
    found = scan_static(fab_app, allow=())
    themes = {p for p in found if p.startswith("/static/appbuilder/css/themes/")}
    assert len(themes) == 16 and not {"cerulean.css", "slate.css"} & {p.rsplit("/", 1)[1] for p in themes}
    assert set(found) - themes == {"/static/appbuilder/js/google_charts.js", "/static/appbuilder/js/swagger-ui-bundle.js"}
    assert "https://validator.swagger.io/validator" in found["/static/appbuilder/js/swagger-ui-bundle.js"]
    assert all("gstatic" in u or "google" in u for u in found["/static/appbuilder/js/google_charts.js"])


def test_configured_theme_is_not_allow_listed() -> None:
    found = scan_static(_fab_app(APP_THEME="cosmo.css"))
    assert found == {"/static/appbuilder/css/themes/cosmo.css":
                     ["https://fonts.googleapis.com/css?family=Source+Sans+Pro:300,400,700"]}


def test_fab_templates_have_no_external_urls_outside_comments() -> None:
    """FAB's Jinja templates: only the chart widgets mention Google (in a JS comment) and load google_charts.js."""
    import re

    hits = {}
    for path in sorted((FAB / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", text, flags=re.S)  # drop Jinja
        refs = external_refs(text)
        if refs:
            hits[str(path.relative_to(FAB / "templates"))] = refs
    assert hits == {}
    chart_users = sorted(str(p.relative_to(FAB / "templates")) for p in (FAB / "templates").rglob("*.html")
                         if "google_charts.js" in p.read_text(encoding="utf-8"))
    assert chart_users == ["appbuilder/general/widgets/chart.html", "appbuilder/general/widgets/direct_chart.html",
                           "appbuilder/general/widgets/multiple_chart.html"]


def test_swagger_override_disables_validator_badge() -> None:
    ours = (ROOT / "app" / "templates" / "appbuilder" / "swagger" / "swagger.html").read_text(encoding="utf-8")
    fab = (FAB / "templates" / "appbuilder" / "swagger" / "swagger.html").read_text(encoding="utf-8")
    assert "validatorUrl: null" in ours
    assert "validatorUrl" not in fab  # FAB relies on swagger-ui's default https://validator.swagger.io
    # everything FAB's template loads, ours loads too
    for needle in ("css/swagger/swagger-ui.css", "js/swagger-ui-bundle.js", "SwaggerUIBundle.presets.apis",
                   "url: '{{openapi_uri}}'", '{% extends "appbuilder/base.html" %}'):
        assert needle in ours


def test_scan_file_on_fab_bundle_ignores_license_comments() -> None:
    urls = scan_file(str(FAB / "static" / "appbuilder" / "js" / "bootstrap.min.js"))
    assert urls == []  # "Bootstrap v3.4.1 (https://getbootstrap.com/)" is a comment
