"""The second county, examples/xishui (浠水县), on the same code (issue #14).

It differs from 阳新县 in its townships, a 六有 checklist (one more item, 有台账), no industry
mediation room and another split of roles.  The code knows nothing about it: no file of app/ or
generator/ names it, and every name it shows (site title, menus, checklist pages, reports) comes
from its YAML.  CI also runs the spec-generated CRUD, permission and workflow tests against it
(``JIEFEN_TEST_CONFIG=examples/xishui``, see .ci/run).
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from generator import load
from generator.__main__ import main
from tests.app.conftest import ROOT, login, set_up_app

XISHUI = ROOT / "examples" / "xishui"


def test_the_example_county_checks_clean_and_differs_as_promised() -> None:
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["check", str(XISHUI), "--no-db"]) == 0
    assert buf.getvalue().strip().endswith("配置检查通过：5 个文件，0 个错误，0 个警告")
    mine, yangxin = load(str(XISHUI)).spec, load(str(ROOT / "config")).spec
    assert mine.title.zh == "解纷 · 浠水县劳动争议多元化解平台"
    assert [t.zh for t in mine.site.townships][:2] == ["清泉镇", "巴河镇"]
    types = set(mine.enums["org_type"].values)
    assert "industry_room" not in types and "industry_room" in yangxin.enums["org_type"].values
    cl = mine.tracked_checklist()
    assert cl.label.zh == "六有" and len(cl.items) == len(yangxin.tracked_checklist().items) + 1
    assert cl.page_label("board").zh == "六有达标看板"
    assert set(mine.roles) != set(yangxin.roles) and "arb_clerk" not in mine.roles


def test_no_code_knows_the_example_county() -> None:
    for folder in ("app", "generator"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".html", ".po", ".json", ".js", ".css"):
                text = path.read_text("utf-8", errors="ignore")
                assert "浠水" not in text and "xishui" not in text.lower(), path


@pytest.fixture(scope="module")
def xishui_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    import tests.app.conftest as conftest

    old = conftest.CONFIG
    conftest.CONFIG = XISHUI  # set_up_app builds with conftest.CONFIG, then `flask setup` as make run does
    try:
        with set_up_app(tmp_path_factory, "xishui") as app:
            yield app
    finally:
        conftest.CONFIG = old


def test_setup_loads_the_example_county_with_its_own_names(xishui_app: Flask) -> None:
    assert xishui_app.config["APP_NAME"] == "解纷 · 浠水县劳动争议多元化解平台"
    client = xishui_app.test_client()
    login(client, "admin")
    home = client.get("/").get_data(as_text=True)
    assert "解纷 · 浠水县劳动争议多元化解平台" in home and "六有建设进度" in home and "五有" not in home
    board = client.get("/checklists/board").get_data(as_text=True)
    assert "六有达标看板" in board and "有台账" in board and "五有" not in board
    orgs = client.get("/api/v1/org/?q=(page_size:100)", headers={}).status_code
    assert orgs in (200, 401)
    html = client.get("/orgview/list/?psize_OrgView=100").get_data(as_text=True)
    assert "清泉镇" in html and "阳新" not in html
    assert client.get("/config-history/").status_code == 200  # jm_office holds config_history here too
