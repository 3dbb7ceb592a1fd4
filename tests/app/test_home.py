"""The home page: each card in the user's scope, numbers equal to the pages they link to."""

from __future__ import annotations

import re

from flask import Flask

from tests.app.conftest import login


def cards(html: str) -> dict[str, str]:
    out = {}
    for name in re.findall(r'data-card="(\w+)"', html):
        block = html[html.index(f'data-card="{name}"'):]
        m = re.search(r'jf-big[^>]*>(\d+)<', block)
        out[name] = m.group(1) if m and name != "checklist" else ""
    return out


def test_anonymous_goes_to_login(demo_app: Flask) -> None:
    resp = demo_app.test_client().get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_cards_match_the_scoped_pages(demo_app: Flask) -> None:
    for who in ("station_head_t1s1", "township_head_t1", "dispatcher"):
        c = demo_app.test_client()
        login(c, who)
        html = c.get("/").get_data(as_text=True)
        got = cards(html)
        # the 五有 card needs read on inspection (roles.yaml): heads have it, the dispatcher not
        assert set(got) - {"checklist"} == {"inbox", "overdue", "funnel"}, (who, got)
        assert ("checklist" in got) == (who != "dispatcher"), (who, got)
        inbox = c.get("/api/v1/workflow/inbox").get_json()["result"]
        funnel = c.get("/api/v1/workflow/funnel").get_json()["result"]
        assert int(got["inbox"]) == inbox["total"], who
        assert int(got["funnel"]) == funnel["open_total"], who


def test_a_role_without_the_grants_gets_no_cards(demo_app: Flask) -> None:
    c = demo_app.test_client()
    login(c, "finance")  # reads subsidies, not cases or inspections (roles.yaml)
    html = c.get("/").get_data(as_text=True)
    assert cards(html) == {} and "jf-home" in html
