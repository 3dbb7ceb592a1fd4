"""The Content-Security-Policy (app/hardening/headers.py) does not break FAB's pages.

Chromium reports every blocked script, style, font, image or eval as a console error
("Refused to ... because it violates the following Content Security Policy directive").
"""

from __future__ import annotations

from generator import names

from .conftest import login, logout, screenshot

PAGES = ["/", "/users/list/", "/users/add", "/roles/list/", "/users/userinfo/", "/resetmypassword/form"]


def _csp(errors: list[str]) -> list[str]:
    return [e for e in errors if "Content Security Policy" in e or "Refused to" in e]


def test_pages_work_under_the_csp(page, live_server: str, page_log) -> None:  # type: ignore[no-untyped-def]
    base = live_server
    resp = page.goto(f"{base}/login/")
    assert "default-src 'self'" in resp.headers["content-security-policy"]
    login(page, base, "admin")
    case = "/" + names.view_class("dispute_case").lower()
    for path in PAGES + [f"{case}/list/", f"{case}/add", f"{case}/show/1"]:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{base}{case}/add")
    page.wait_for_load_state("networkidle")
    assert page.locator(".select2-container").count() > 0  # FAB's inline init scripts ran
    page.goto(f"{base}/swagger/v1")
    page.wait_for_selector(".opblock", timeout=60_000)  # swagger-ui renders
    # a same-origin write with the session cookie passes the Origin check (then fails validation)
    status = page.evaluate("""async () => (await fetch('/api/v1/employer/', {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body: '{}'})).status""")
    assert status not in (401, 403), status
    assert _csp(page_log.console_errors) == [], page_log.console_errors
    assert page_log.page_errors == []


def test_pages_cannot_be_framed(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    """A page of the app inside an <iframe> of another page stays empty (frame-ancestors 'none')."""
    page.goto(f"{live_server}/static/css/jiefen.css")  # any same-site document to host the frame
    page.set_content(f'<iframe id="f" src="{live_server}/login/"></iframe>')
    page.wait_for_timeout(1500)
    frame = page.frame_locator("#f")
    assert frame.locator("input[name=username]").count() == 0


def test_logout_is_a_menu_button_that_posts(page, live_server: str, page_log) -> None:  # type: ignore[no-untyped-def]
    """退出登录 sits in the user menu like a link, POSTs the CSRF token, and needs no inline script."""
    base = live_server
    login(page, base, "admin")
    page.goto(f"{base}/logout/")  # a plain GET (a link, an <img>) only asks
    assert page.locator("form.jf-logout-confirm").is_visible()
    page.goto(f"{base}/users/userinfo/")
    assert "/login/" not in page.url  # still signed in
    page.locator(".navbar-right .dropdown-toggle:has(.fa-user)").click()
    button = page.locator("form.jf-logout-form button[type=submit]")
    assert button.is_visible() and "退出登录" in button.inner_text()
    item = page.locator(".navbar-right .dropdown-menu a", has_text="个人资料").first
    assert abs(button.bounding_box()["x"] - item.bounding_box()["x"]) < 2  # drawn like the menu's links
    screenshot(page, "logout-menu-item", full_page=False)
    logout(page, base)
    assert _csp(page_log.console_errors) == [], page_log.console_errors
