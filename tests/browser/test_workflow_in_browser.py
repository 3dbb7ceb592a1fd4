"""The case workflow in chromium: a case at an enterprise station goes up to the township centre.

As the issue describes it: the case's mediator logs in, opens 待我处理 from the menu, opens the case,
adds the transfer materials the escalation lacks, escalates with a reason (``escalate_to_township``
is the mediator's and the station head's in config/workflows.yaml); the township head then finds
the case in their own 待我处理 with the escalation on its timeline.  Every request stays on the
app's own origin (the harness aborts and reports any other), forms post their CSRF token.

Also: the workflow diagram page draws the state diagram with the vendored mermaid, offline."""

from __future__ import annotations

import re

import pytest

from .conftest import flash_text, login, logout, screenshot

pytestmark = pytest.mark.browser

MEDIATOR, TOWN = "mediator_t1s1", "township_head_t1"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def pick(page, field_id: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """Choose ``value`` in a form select (FAB's select2 widget or a native <select>)."""
    select = page.locator(f"select#{field_id}")
    if "select2-hidden-accessible" in (select.get_attribute("class") or ""):
        text = select.locator(f"option[value='{value}']").inner_text().strip()
        page.locator(f"select#{field_id} + .select2-container .select2-selection").click()
        page.locator(".select2-container--open .select2-results__option").filter(has_text=text).first.click()
    else:
        select.select_option(value)
    assert select.input_value() == value


def test_escalation_from_the_station_reaches_the_township_inbox(live_server: str, page, tmp_path,
                                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))  # the live app has no UPLOAD_DIR setting
    base = live_server
    # --- the station's mediator: the case waits on them in 待我处理 (through the menu)
    login(page, base, MEDIATOR)
    page.goto(f"{base}/")
    page.locator("a.dropdown-toggle", has_text="案源登记库").first.click()  # the menu: 案源登记库 › 待我处理
    page.locator("a[href='/workflow/inbox']", has_text="待我处理").first.click()
    page.wait_for_load_state("networkidle")
    row = page.locator("table.jf-inbox tr[data-state=med_enterprise]").first
    registry_no = row.locator("a").inner_text().strip()
    case_id = row.get_attribute("data-case")
    row.locator("a").click()
    page.wait_for_load_state("networkidle")
    case_url = page.url
    assert page.locator(f".jf-case[data-case='{case_id}'] .jf-state").inner_text() == "企业调解"
    screenshot(page, "workflow-case-mediator")
    action = page.locator("details.jf-action[data-action=escalate_to_township]")
    action.locator("summary").click()
    missing = action.locator(".jf-missing li[data-name=transfer_materials]")
    assert "移交材料" in missing.inner_text()
    missing.locator("a.jf-add-document").click()  # the case's document form, the case filled in
    page.wait_for_load_state("networkidle")
    pick(page, "doc_type", "transfer_materials")
    page.locator("#title").fill("移交材料清单（浏览器测试）")
    assert page.locator("input#doc_file").get_attribute("type") == "file"  # a real upload (app/files)
    page.set_input_files("input#doc_file", files=[{"name": "移交材料清单.pdf", "mimeType": "application/pdf",
                                                   "buffer": PDF}])
    page.locator(".container form[enctype] [type=submit]").first.click()  # the document form, not the navbar's logout
    page.wait_for_load_state("networkidle")
    assert "alert-danger" not in page.content(), flash_text(page)

    page.goto(case_url)
    action = page.locator("details.jf-action[data-action=escalate_to_township]")
    action.locator("summary").click()
    assert action.locator(".jf-missing").count() == 0  # the materials are there now
    action.locator("textarea[name=f_escalation_reason]").fill("涉及工人较多，企业调解未果，申请乡镇调解")
    action.locator("textarea[name=comment]").fill("请乡镇调解中心接手")
    screenshot(page, "workflow-escalate-form")
    action.locator("button.jf-do").click()
    page.wait_for_load_state("networkidle")
    assert "已完成“上报乡镇调解”" in flash_text(page), flash_text(page)
    logout(page, base)

    # --- the township head: the case has arrived in their inbox
    login(page, base, TOWN)
    page.goto(f"{base}/workflow/inbox")
    arrived = page.locator(f"table.jf-inbox tr[data-case='{case_id}']")
    assert arrived.count() == 1 and arrived.get_attribute("data-state") == "med_township"
    assert registry_no in arrived.inner_text()
    screenshot(page, "workflow-township-inbox")
    arrived.locator("a").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".jf-case .jf-state").inner_text() == "乡镇调解"
    step = page.locator("li.jf-step[data-transition=escalate_to_township]")
    assert step.count() == 1 and "请乡镇调解中心接手" in step.inner_text() and MEDIATOR in step.inner_text()
    # the township head's own next steps are offered (and escalating to the township is not)
    assert page.locator("details.jf-action").count() >= 1
    assert page.locator("details.jf-action[data-action=escalate_to_township]").count() == 0
    screenshot(page, "workflow-township-case")


def test_workflow_diagram_renders_offline(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    base = live_server
    login(page, base, "admin")
    page.goto(f"{base}/workflow-diagram/")
    page.wait_for_selector("body[data-diagram]", timeout=30_000)
    assert page.locator("body").get_attribute("data-diagram") == "done"
    svg = page.locator(".jf-diagram svg")
    assert svg.count() == 1
    text = svg.text_content() or ""
    assert "乡镇调解" in text and "上报乡镇调解" in text
    assert re.search(r"\d", svg.get_attribute("viewBox") or "")
    screenshot(page, "workflow-diagram")
