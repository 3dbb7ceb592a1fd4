"""A file field in chromium: the admin uploads a Chinese-named PDF through a generated edit form, the
show page names it with a link, the link downloads it under its name; a station registrar of another
station gets nothing.  Every request stays on the app's own origin."""

from __future__ import annotations

import re

import pytest

from .conftest import flash_text, login, logout, screenshot

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_upload_show_and_download_a_file(live_server: str, page, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))  # the live app has no UPLOAD_DIR setting
    base = live_server
    login(page, base, "admin")
    page.goto(f"{base}/mediationsessionview/list/")
    show = page.locator("a[href*='/mediationsessionview/show/']").first.get_attribute("href")
    pk = re.search(r"/show/(\d+)", show or "").group(1)  # type: ignore[union-attr]
    page.goto(f"{base}/mediationsessionview/edit/{pk}")
    box = page.locator("input#record_file")
    assert box.get_attribute("type") == "file" and "application/pdf" in (box.get_attribute("accept") or "")
    page.set_input_files("input#record_file", files=[{"name": "调解笔录（浏览器）.pdf", "mimeType": "application/pdf",
                                                      "buffer": PDF}])
    page.locator(".container form[enctype] [type=submit]").first.click()  # the edit form, not the navbar's logout
    page.wait_for_load_state("networkidle")
    assert "alert-danger" not in page.content(), flash_text(page)

    page.goto(f"{base}/mediationsessionview/show/{pk}")
    link = page.locator("a.jf-file", has_text="调解笔录（浏览器）.pdf")
    assert link.count() == 1
    screenshot(page, "files-show-link")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "调解笔录（浏览器）.pdf"
    assert open(download.path(), "rb").read() == PDF
    href = link.get_attribute("href")
    # the edit form lists the stored file above the input; leaving the input empty keeps it
    page.goto(f"{base}/mediationsessionview/edit/{pk}")
    assert page.locator("ul.jf-files a.jf-file", has_text="调解笔录（浏览器）.pdf").count() == 1
    logout(page, base)

    # someone who cannot see the session cannot fetch its file either
    login(page, base, "registrar_t2s1")
    resp = page.request.get(f"{base}{href}")
    assert resp.status in (403, 404)
