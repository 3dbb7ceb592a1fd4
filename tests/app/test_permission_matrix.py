"""The permission matrix, generated from roles.yaml: role × entity × action → expected status.

Every role of roles.yaml signs in with its demo account and tries every action on every
entity, on the HTML screens and on the REST API.  The expectation comes from the same
grants the permissions were built from (``Role.actions_on``), so a new entity or a new
grant brings its own rows.  Probing uses ids that do not exist, so a granted write answers
404 (the row check ran) and a refused one answers 403 (or FAB's redirect for HTML) — the
matrix never changes data.
"""

from __future__ import annotations

import pytest
from flask import Flask

from generator import load, names
from tests.app.conftest import CONFIG, api_auth, login

SPEC = load(str(CONFIG)).spec
assert SPEC is not None
ROLES = sorted(SPEC.roles)
MISSING = 987654321


def probe_html(client, base: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out = {}
    for action, (method, url) in {"read": ("get", f"{base}/list/"), "create": ("get", f"{base}/add"),
                                  "update": ("get", f"{base}/edit/{MISSING}"),
                                  "delete": ("post", f"{base}/delete/{MISSING}"),
                                  "export": ("get", f"{base}/export")}.items():
        resp = getattr(client, method)(url)
        out[action] = resp.status_code
    return out


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_html_and_api(demo_app: Flask, role: str) -> None:
    r = SPEC.roles[role]
    html = demo_app.test_client()
    login(html, role)
    api = demo_app.test_client()
    auth = api_auth(api, role)
    problems = []
    for ent in sorted(SPEC.entities):
        granted = set(r.actions_on(ent)) if not r.admin else {"read", "create", "update", "delete", "export"}
        base = f"/{names.view_class(ent).lower()}"
        got = probe_html(html, base)
        # HTML: granted read/create/export → 200; granted update/delete → 404 (no such row);
        # anything not granted → refused (403 / redirect), never 200.
        for action, status in got.items():
            if action in granted:
                want = 404 if action in ("update", "delete") else 200
                if status != want:
                    problems.append(f"HTML {ent}.{action}: granted, got {status} (want {want})")
            elif status not in (302, 403):  # FAB refuses a screen with a redirect or 403
                problems.append(f"HTML {ent}.{action}: not granted, got {status}")
        # REST
        res = f"/api/v1/{names.resource_name(ent)}/"
        checks = {
            "read": api.get(res, headers=auth).status_code,
            "create": api.post(res, json={}, headers=auth).status_code,
            "update": api.put(f"{res}{MISSING}", json={}, headers=auth).status_code,
            "delete": api.delete(f"{res}{MISSING}", headers=auth).status_code,
        }
        for action, status in checks.items():
            if action in granted:
                ok = {"read": status == 200, "create": status in (400, 422),
                      "update": status == 404, "delete": status == 404}[action]
                if not ok:
                    problems.append(f"API {ent}.{action}: granted, got {status}")
            elif status != 403:
                problems.append(f"API {ent}.{action}: not granted, got {status} (want 403)")
    assert not problems, f"role {role}:\n" + "\n".join(problems)


def test_the_matrix_has_both_answers() -> None:
    """Guards the generated test: roles.yaml grants some actions and withholds others."""
    pairs = {(r, e, a) for r in ROLES for e in SPEC.entities for a in SPEC.roles[r].actions_on(e)}
    assert len(pairs) > 100
    assert any(not SPEC.roles[r].actions_on(e) for r in ROLES for e in SPEC.entities)
