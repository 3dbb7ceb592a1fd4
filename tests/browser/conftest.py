"""Browser harness: the real app on a live server, driven by Debian's chromium through Playwright.

Fixtures
    ``live_server`` (session)  base URL of the app (own private DB, ``setup`` run, CSRF on),
                               served by werkzeug in a daemon thread.
    ``browser``     (session)  headless chromium at ``$CHROMIUM`` (default /usr/bin/chromium);
                               skips when it is missing.  Never downloads a browser.
    ``page_log``    (function) what the current page did: blocked external requests, console
                               errors, uncaught JS errors, 5xx responses.
    ``page``        (function) a fresh zh-CN context + page.  Every request to a host other than
                               127.0.0.1/localhost is aborted and recorded; at teardown the test
                               fails if there was any (the app must work offline), or if a page
                               threw an uncaught JS error or the server answered 5xx.

Helpers
    ``login(page, base, username, password)``, ``logout(page, base)``,
    ``screenshot(page, name)`` (→ tests/artifacts/<name>.png, gitignored),
    ``choose_option(page, field_id)`` (native <select> or FAB's select2 widget).

Every test collected under tests/browser/ gets the ``browser`` marker
(``pytest -m "not browser"`` skips them all).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from tests.app.conftest import PASSWORD, ROOT, make_app, run_setup
from tests.support.database import private_database

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic"]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
ARTIFACTS = ROOT / "tests" / "artifacts"
VIEWPORT = {"width": 1366, "height": 900}
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# ---------------------------------------------------------------- server

@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as ``make run`` sets it up, on a private DB, served on 127.0.0.1:<free port>."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):  # one log line per static file drowns the failure report
        def log_request(self, *args: object, **kwargs: object) -> None:
            pass

    with private_database(tmp_path_factory.mktemp("browser")) as uri:
        app = make_app(uri, WTF_CSRF_ENABLED=True)  # real forms: the browser posts the token
        run_setup(app)
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            with app.app_context():  # close pooled connections before the schema is dropped
                app.appbuilder.sm.session.remove()
                app.appbuilder.sm.session.get_bind().dispose()


# ---------------------------------------------------------------- browser

@pytest.fixture(scope="session")
def browser() -> Iterator["object"]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no chromium at {CHROMIUM}: run `make browser-deps` (apt-get install chromium "
                    f"fonts-noto-cjk) or set CHROMIUM=/path/to/chromium; never `playwright install`")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not "
                                   "installed in this venv (make venv)")
    pw = sync_api.sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@dataclass
class PageLog:
    """What happened in one browser context."""

    external: list[str] = field(default_factory=list)        # blocked requests to other hosts
    console_errors: list[str] = field(default_factory=list)  # console.error / failed loads
    page_errors: list[str] = field(default_factory=list)     # uncaught JS exceptions
    server_errors: list[str] = field(default_factory=list)   # 5xx responses from our server

    def problems(self) -> list[str]:
        return ([f"external request blocked: {u}" for u in self.external]
                + [f"uncaught JS error: {e}" for e in self.page_errors]
                + [f"server error: {e}" for e in self.server_errors])


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-error", "javascript"):
        return True
    return (parts.hostname or "").lower() in LOCAL_HOSTS


@pytest.fixture()
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture()
def page(browser, page_log: PageLog) -> Iterator["object"]:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORT, timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)

    def guard(route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            page_log.external.append(url)
            route.abort("blockedbyclient")

    def guard_ws(ws) -> None:  # type: ignore[no-untyped-def]
        if is_local(ws.url):
            ws.connect_to_server()
        else:
            page_log.external.append(ws.url)
            ws.close()

    context.route("**/*", guard)
    context.route_web_socket(re.compile(r".*"), guard_ws)
    pg = context.new_page()
    pg.on("console", lambda msg: page_log.console_errors.append(f"{msg.text} @ {msg.location.get('url', '')}")
          if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: page_log.page_errors.append(str(exc)))
    pg.on("response", lambda resp: page_log.server_errors.append(f"{resp.status} {resp.url}")
          if resp.status >= 500 and is_local(resp.url) else None)
    try:
        yield pg
    finally:
        context.close()
    problems = page_log.problems()
    assert not problems, "the page misbehaved:\n" + "\n".join(problems)


# ---------------------------------------------------------------- helpers

def login(page, base: str, username: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Log in through FAB's login form and wait until we are past it."""
    page.goto(f"{base}/login/")
    form = page.locator("form:has(input[type=password])")
    form.locator("#username, [name=username]").first.fill(username)
    form.locator("#password, [name=password]").first.fill(password)
    form.locator("[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, f"login as {username} failed: still on {page.url}"


def logout(page, base: str) -> None:  # type: ignore[no-untyped-def]
    """Log out as a user does: the user menu's 退出登录, a form that POSTs with the CSRF token
    (GET /logout/ only asks).  Checks that the session is over."""
    if page.locator("form.jf-logout-form").count() == 0:
        page.goto(f"{base}/")
    button = page.locator("form.jf-logout-form button[type=submit]")
    if not button.is_visible():
        page.locator(".navbar-right .dropdown-toggle:has(.fa-user)").click()  # open the user menu
    button.click()
    page.wait_for_load_state("networkidle")
    page.goto(f"{base}/users/userinfo/")
    assert "/login/" in page.url, f"still signed in after logging out: {page.url}"


def screenshot(page, name: str, full_page: bool = True) -> Path:  # type: ignore[no-untyped-def]
    """Save a PNG under tests/artifacts/ (gitignored) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", name).strip("_") + ".png")
    page.screenshot(path=str(path), full_page=full_page)
    return path


def choose_option(page, field_id: str, index: int = 0) -> str:  # type: ignore[no-untyped-def]
    """Pick the ``index``-th real (non-empty) option of a form select, the way a user would.

    FAB renders relations as select2 widgets over a hidden <select>: open the widget, click the
    option in its dropdown.  Plain <select>s (our enums) get ``select_option``.  Returns the value
    now selected on the underlying <select>.
    """
    select = page.locator(f"select#{field_id}")
    values = [v for v in select.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
    assert len(values) > index, f"select #{field_id} has no option #{index} (options: {values})"
    wanted = values[index]
    if "select2-hidden-accessible" in (select.get_attribute("class") or ""):
        text = select.locator(f"option[value='{wanted}']").inner_text().strip()
        page.locator(f"select#{field_id} + .select2-container .select2-selection").click()
        results = page.locator(".select2-container--open .select2-results__option")
        results.filter(has_text=text).first.click()
    else:
        select.select_option(wanted)
    got = select.input_value()
    assert got == wanted, f"#{field_id}: wanted {wanted!r}, got {got!r}"
    return got


def flash_text(page) -> str:  # type: ignore[no-untyped-def]
    alerts = page.locator(".alert")
    return " ".join(t.strip() for t in alerts.all_inner_texts())
