"""The harness itself: external requests are really blocked and recorded (else the offline checks
of every browser test would pass vacuously)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_external_requests_are_blocked_and_recorded(page, live_server: str, page_log) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login/")
    # Our pages' Content-Security-Policy already stops the browser from asking other hosts
    # (tests/app/test_hardening.py); a blank page has no CSP, so the harness's own blocking shows.
    page.goto("about:blank")
    result = page.evaluate("""async () => {
        try { await fetch('https://cdn.example.com/lib.js'); return 'fetched'; }
        catch (e) { return 'blocked'; }
    }""")
    page.evaluate("""() => new Promise(done => {
        const img = new Image(); img.onload = img.onerror = () => done(); img.src = 'http://fonts.example.net/x.png';
    })""")
    assert result == "blocked"
    assert page_log.external == ["https://cdn.example.com/lib.js", "http://fonts.example.net/x.png"]
    page_log.external.clear()  # expected here; any other test with a blocked request fails at teardown
