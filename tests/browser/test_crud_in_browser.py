"""An admin adds and edits a mediator through the real screens in chromium (zh), then switches to en.

The fields to fill come from the compiled spec, so a change to ``mediator`` in entities.yaml
(a new required field, a renamed menu) is followed here without editing the test.
"""

from __future__ import annotations

import random
import re

import pytest
from playwright.sync_api import expect

from generator import load, names
from generator.spec import Entity, Field
from tests.app.conftest import ROOT
from tests.support.payloads import text_value

from .conftest import choose_option, flash_text, login, screenshot

pytestmark = pytest.mark.browser

SPEC = load(str(ROOT / "config")).spec
ENTITY: Entity = SPEC.entities["mediator"]
MENU = SPEC.menus[ENTITY.menu]
TAG = "浏览器"


def fill_field(page, f: Field, rng: random.Random) -> str:  # type: ignore[no-untyped-def]
    """Fill one form field the way a user would; return what should then be displayed/stored."""
    if f.type in ("string", "text"):
        value = text_value(f, rng, TAG) if (f.pattern or f.format) else f"{TAG}{f.label.zh}"[: f.max_length or 40]
        page.locator(f"#{f.name}").fill(value)
        return value
    if f.type in ("enum", "ref", "user"):
        return choose_option(page, f.name)
    if f.type == "boolean":
        page.locator(f"#{f.name}").check()
        return "y"
    if f.type in ("integer", "decimal"):
        value = str(int(f.min) + 1 if f.min is not None else 7)
        page.locator(f"#{f.name}").fill(value)
        return value
    if f.type == "date":
        page.locator(f"#{f.name}").fill("2026-11-02")
        return "2026-11-02"
    if f.type == "datetime":
        page.locator(f"#{f.name}").fill("2026-11-02 10:00:00")
        return "2026-11-02 10:00:00"
    raise AssertionError(f"no browser filler for {f.type} ({f.name})")


def key_field() -> Field:
    """A unique, non-personal string field that shows in the list: identifies our new row."""
    return next(f for f in ENTITY.fields.values()
                if f.type == "string" and f.unique and not f.pii and f.name in ENTITY.list)


def editable_text_field() -> Field:
    """A free text field (no pattern/format/uniqueness, not personal data) to change on edit."""
    return next(f for f in ENTITY.fields.values()
                if f.type in ("string", "text") and not (f.readonly or f.pattern or f.format or f.unique or f.pii))


@pytest.mark.parametrize("fill", ["required_only", "with_optional_choices"])
def test_admin_adds_and_edits_a_mediator(page, live_server: str, page_log, fill: str) -> None:  # type: ignore[no-untyped-def]
    """``required_only``: what the spec marks required, every optional field left as the form
    offers it (an optional enum stays on "—").  ``with_optional_choices``: also picks the first
    real option of every optional enum select, as a user filling the form completely would."""
    base = live_server
    # -- the login page is in Chinese
    page.goto(f"{base}/login/")
    expect(page.locator("[type=submit]")).to_have_value(re.compile("登录"))
    expect(page.get_by_text("登录", exact=True).first).to_be_visible()
    screenshot(page, f"crud_{fill}_01_login_zh")
    login(page, base, "admin")

    # -- the menu group, then the entity's list
    page.locator("a.dropdown-toggle", has_text=MENU.label.zh).click()
    page.locator("ul.dropdown-menu a", has_text=re.compile(rf"^\s*{re.escape(ENTITY.label.zh)}\s*$")).click()
    page.wait_for_load_state("networkidle")
    list_url = page.url.split("?")[0]
    assert list_url.endswith("/list/"), page.url
    expect(page.locator(".panel-heading, .panel-title").first).to_contain_text(ENTITY.label.zh)
    screenshot(page, f"crud_{fill}_02_list_zh")

    # -- 新增: fill what the spec marks required
    # FAB's add button: a "+" icon whose accessible name is the sr-only text 新增
    page.get_by_role("link", name=re.compile(r"^\s*新增")).first.click()
    page.wait_for_load_state("networkidle")
    assert "/add" in page.url, page.url
    rng = random.Random(f"browser-{fill}")
    expected: dict[str, str] = {}
    for f in ENTITY.fields.values():
        if f.readonly:
            continue
        if f.required or (fill == "with_optional_choices" and f.type == "enum"):
            expected[f.name] = fill_field(page, f, rng)
    key = key_field()
    screenshot(page, f"crud_{fill}_03_add_form_filled")
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("networkidle")
    flash = flash_text(page)
    screenshot(page, f"crud_{fill}_04_after_add")
    assert re.search("新增成功|已添加|添加成功", flash), \
        f"no success flash after add; flash={flash!r}; errors={page.locator('.has-error').all_inner_texts()}"
    expect(page.locator(".alert-success")).to_contain_text(re.compile("新增成功|已添加|添加成功"))

    # -- the new row is in the list (filtered on its key so paging cannot hide it)
    page.goto(f"{list_url}?_flt_3_{key.name}={expected[key.name]}")
    row = page.locator("table tr", has_text=expected[key.name])
    expect(row).to_have_count(1)
    name_field = next((f for f in ENTITY.fields.values() if f.name in ENTITY.list and f.name in expected
                       and f.type == "string" and not f.pii and f.name != key.name), None)
    if name_field:
        expect(row).to_contain_text(expected[name_field.name])
    screenshot(page, f"crud_{fill}_05_list_with_new_row")

    # -- edit: change a free text field, save, see it on the show page
    row.locator("a[href*='/edit/']").first.click()
    page.wait_for_load_state("networkidle")
    assert "/edit/" in page.url, page.url
    pk = page.url.rstrip("/").split("/")[-1]
    target = editable_text_field()
    new_value = f"{TAG}已修改{target.label.zh}"[: target.max_length or 40]
    page.locator(f"#{target.name}").fill(new_value)
    screenshot(page, f"crud_{fill}_06_edit_form")
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("networkidle")
    flash = flash_text(page)
    assert re.search("修改成功|已修改|已保存", flash), \
        f"no success flash after edit; flash={flash!r}; errors={page.locator('.has-error').all_inner_texts()}"
    view_base = list_url.rsplit("/list/", 1)[0]
    assert view_base.endswith("/" + names.view_class("mediator").lower()), view_base
    page.goto(f"{view_base}/show/{pk}")
    expect(page.locator("body")).to_contain_text(new_value)
    screenshot(page, f"crud_{fill}_07_show_after_edit")

    assert page_log.console_errors == [], page_log.console_errors


def test_switch_to_english(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    base = live_server
    login(page, base, "admin")
    nav = page.locator(".navbar")
    expect(nav).to_contain_text(MENU.label.zh)
    page.goto(f"{base}/lang/en")
    page.wait_for_load_state("networkidle")
    expect(nav).to_contain_text(MENU.label.en)  # "Mediator roster"
    expect(nav).not_to_contain_text(MENU.label.zh)
    page.locator("a.dropdown-toggle", has_text=MENU.label.en).click()
    page.locator("ul.dropdown-menu a", has_text=re.compile(rf"^\s*{re.escape(ENTITY.label.en)}\s*$")).click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".panel-heading, .panel-title").first).to_contain_text(ENTITY.label.en)
    screenshot(page, "lang_en_list")
    page.goto(f"{base}/lang/zh")
    page.wait_for_load_state("networkidle")
    expect(nav).to_contain_text(MENU.label.zh)
