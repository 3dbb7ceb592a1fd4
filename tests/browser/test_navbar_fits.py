"""The navigation bar fits one row on a 1366 px office screen, in Chinese and in English."""

from __future__ import annotations

import pytest

from .conftest import login

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_navbar_is_one_row_at_1366(page, live_server: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server, "admin")
    page.goto(f"{live_server}/lang/{lang}")
    page.goto(f"{live_server}/")
    brand = page.evaluate("document.querySelector('.navbar-brand').getBoundingClientRect().top")
    items = page.evaluate("Array.from(document.querySelectorAll('.navbar-nav > li'))"
                          ".map(li => li.getBoundingClientRect().top)")
    assert len(items) >= 8, items  # 7 menu groups, language, user
    assert max(items) - min(items) < 5 and abs(min(items) - brand) < 20, (lang, brand, items)
