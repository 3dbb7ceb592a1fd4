"""An inspector records a 五有 inspection with a photo and one failed item in chromium; the station
head then sees the rectification task.  Every request stays on the app's own origin."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from .conftest import flash_text, login, logout, screenshot

pytestmark = pytest.mark.browser

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(300) + b"\xff\xd9"


def test_inspection_with_photo_and_failure_reaches_the_station_head(live_server: str, page, tmp_path,
                                                                   monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))  # the live app has no UPLOAD_DIR setting
    base = live_server
    login(page, base, "inspector")
    # the menu group 五有达标 leads to the board
    page.goto(f"{base}/checklists/board")
    assert page.locator("th.jf-board-item").count() == 5
    page.goto(f"{base}/checklists/new")
    value = page.locator("select#org option", has_text="YX-DEMO-E001").get_attribute("value")
    page.select_option("select#org", value=value)
    page.locator("#place").fill("兴达鞋业二楼调解室")
    page.locator("form.jf-new-inspection [type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert re.search(r"/checklists/inspection/\d+$", page.url), page.url
    # rate every sub-item 达标 except S3 (seal-use log), fill the measured values, attach a photo
    for radio in page.locator("input[type=radio][value=pass]").all():
        radio.check()
    page.locator("input[name=r_s3][value=fail]").check()
    page.locator("textarea[name=n_s3]").fill("未见用印登记簿")
    for box in page.locator("input[type=number]").all():
        box.fill("100")
    for box in page.locator("input[type=date]").all():
        box.fill(dt.date.today().isoformat())
    page.set_input_files("input[name=f_p1]", files=[{"name": "标牌照片.jpg", "mimeType": "image/jpeg",
                                                     "buffer": JPEG}])
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "alert-danger" not in page.content(), flash_text(page)
    assert page.locator(".jf-r-basic").first.is_visible()
    assert page.locator("ul.jf-evidence a", has_text="标牌照片.jpg").count() == 1
    screenshot(page, "checklist-inspection-submitted")
    logout(page, base)

    login(page, base, "station_head_t1s1")
    page.goto(f"{base}/checklists/rectifications")
    row = page.locator("table.jf-rects tr", has_text="S3")
    assert row.count() >= 1  # the demo's own S3 task, due earlier, and ours (listed by due date)
    row.last.locator("a").click()
    page.wait_for_load_state("networkidle")
    assert "未见用印登记簿" in page.locator("dl.jf-rect").inner_text()
    assert page.locator("form.jf-respond").count() == 1 and page.locator("form.jf-close").count() == 0
    screenshot(page, "checklist-rectification-station-head")
