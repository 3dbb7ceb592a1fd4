"""The policy-officer scenario: 五有 becomes 六有 in a copy of the config, the app restarts on the
same database; plus the version guard, and export scope, masking and formula escaping on that copy."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from tests.support.database import private_database

from .conftest import ROOT, login, make_app, run_setup

LEDGER_ITEM = """
      # ⑥ 有台账（政策调整：六有）
      ledger:
        label: {zh: 有台账, en: Ledgers}
        order: 6
        sub_items:
          l1:
            label: {zh: L1 统计台账, en: L1 Statistics ledger}
            requirement: {zh: 有调解案件统计台账并按月更新, en: Monthly case statistics ledger}
            gate: true
            evidence:
              - kind: document
                label: {zh: 台账扫描件, en: Ledger scan}
                min_count: 1

    rating:"""


def copy_config(dest: Path) -> Path:
    cfg = dest / "config"
    shutil.copytree(ROOT / "config", cfg)
    # export scope and masking are shown on this copy: a township head who may export, a masked head name
    roles = (cfg / "roles.yaml").read_text("utf-8")
    anchor = "  township_head:\n"
    head, tail = roles.split(anchor, 1)
    tail = tail.replace("        inspection: [read]\n", "        inspection: [read, export]\n", 1)
    (cfg / "roles.yaml").write_text(head + anchor + tail, "utf-8")
    ent = (cfg / "entities.yaml").read_text("utf-8")
    ent = ent.replace("      head_name:\n        label: {zh: 负责人, en: Head}\n        type: string\n",
                      "      head_name:\n        label: {zh: 负责人, en: Head}\n        type: string\n        pii: name\n", 1)
    (cfg / "entities.yaml").write_text(ent, "utf-8")
    return cfg


def six_items(cfg: Path, bump: bool = True) -> None:
    text = (cfg / "checklists.yaml").read_text("utf-8")
    text = text.replace("\n    rating:", LEDGER_ITEM, 1)
    if bump:
        text = text.replace("    version: 1\n    entity: org", "    version: 2\n    entity: org", 1)
    (cfg / "checklists.yaml").write_text(text, "utf-8")


def dispose(app: Flask) -> None:
    with app.app_context():
        app.appbuilder.sm.session.remove()
        app.appbuilder.sm.session.get_bind().dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("six")
    cfg = copy_config(tmp)
    with private_database(tmp) as uri:
        yield {"uri": uri, "cfg": cfg, "uploads": str(tmp / "uploads"), "tmp": tmp}


def app_for(world: dict[str, Any]) -> Flask:
    return make_app(world["uri"], CONFIG_DIR=str(world["cfg"]), UPLOAD_DIR=world["uploads"])


def inspect_all_pass(app: Flask, code: str) -> int:
    c = app.test_client()
    login(c, "inspector")
    with app.app_context():
        t = app.extensions["jiefen_checklists"]["five_essentials"]
        s = app.appbuilder.sm.session
        oid = s.execute(select(t.Org.id).where(t.Org.org_code == code)).scalar_one()
        s.remove()
    resp = c.post("/checklists/new", data={"org": oid, "inspection_type": "annual",
                                           "conducted_at": dt.datetime.now().strftime("%Y-%m-%dT%H:%M")})
    insp_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        t = app.extensions["jiefen_checklists"]["five_essentials"]
        s = app.appbuilder.sm.session
        insp = s.get(t.Insp, insp_id)
        d = t.definition(s, insp.checklist_version)
        data: dict[str, str] = {"action": "submit"}
        for code_ in t.rows(s, insp):
            sub = d.subs[code_]
            data[f"r_{code_}"] = "pass"
            if sub.number:
                data[f"v_{code_}"] = str(sub.number.threshold + 1)
            if sub.validity:
                data[f"d_{code_}"] = (dt.date.today() + dt.timedelta(days=100) if not sub.validity.within_months
                                      else dt.date.today()).isoformat()
        s.remove()
    assert c.post(f"/checklists/inspection/{insp_id}/save", data=data).status_code == 302
    return insp_id


def test_five_becomes_six_and_history_keeps_five(world: dict[str, Any]) -> None:
    # --- version 1: five items; one inspection made and submitted under it
    app = app_for(world)
    run_setup(app)
    old_id = inspect_all_pass(app, "YX-DEMO-E003")
    c = app.test_client()
    login(c, "inspector")
    assert len(re.findall(r'data-item="\w+"', c.get("/checklists/board").data.decode())) == 5
    with app.app_context():
        t = app.extensions["jiefen_checklists"]["five_essentials"]
        old = app.appbuilder.sm.session.get(t.Insp, old_id)
        old_status, old_valid = old.overall_result, old.valid_until
        app.appbuilder.sm.session.remove()
    assert old_status == "pass"
    dispose(app)

    # --- the policy officer adds 有台账 and raises the version; the app restarts on the same DB
    six_items(world["cfg"])
    app = app_for(world)
    run_setup(app)
    c = app.test_client()
    login(c, "inspector")
    board = c.get("/checklists/board").data.decode()
    assert re.findall(r'data-item="(\w+)"', board) == ["signage", "premises", "rules", "staff", "seal", "ledger"]
    # the old inspection still shows five items, its version and its result
    page = c.get(f"/checklists/inspection/{old_id}").data.decode()
    assert re.findall(r'data-item="(\w+)"', page) == ["signage", "premises", "rules", "staff", "seal"]
    assert "v1" in page
    with app.app_context():
        t = app.extensions["jiefen_checklists"]["five_essentials"]
        s = app.appbuilder.sm.session
        old = s.get(t.Insp, old_id)
        assert (old.checklist_version, old.overall_result, old.valid_until) == (1, old_status, old_valid)
        assert t.definition(s, 1).item("ledger") is None and t.definition(s, 2).item("ledger") is not None
        s.remove()
    # a new inspection asks six items (l1 among its rows) and is stored as version 2
    new_id = inspect_all_pass(app, "YX-DEMO-E004")
    page = c.get(f"/checklists/inspection/{new_id}").data.decode()
    assert re.findall(r'data-item="(\w+)"', page) == ["signage", "premises", "rules", "staff", "seal", "ledger"]
    assert 'data-sub="l1"' in page
    with app.app_context():
        t = app.extensions["jiefen_checklists"]["five_essentials"]
        s = app.appbuilder.sm.session
        assert s.get(t.Insp, new_id).checklist_version == 2
        s.remove()
    # the board shows the old station with an empty 有台账 cell (not inspected under v2 yet)
    row = re.search(r'<tr data-org="YX-DEMO-E003">(.*?)</tr>', board, re.S).group(1)
    cells = re.findall(r'<td class="text-center jf-cell jf-r-(\w+)">', row)
    assert cells == ["pass"] * 5 + ["none"]
    world["app"] = app


def test_changing_items_without_a_new_version_refuses_to_start(world: dict[str, Any], tmp_path: Path) -> None:
    from app.checklists.definitions import VersionConflict

    cfg = tmp_path / "config"
    shutil.copytree(world["cfg"], cfg)
    text = (cfg / "checklists.yaml").read_text("utf-8")
    (cfg / "checklists.yaml").write_text(text.replace("threshold: 16", "threshold: 20", 1), "utf-8")
    with pytest.raises(VersionConflict, match="version") as exc:
        make_app(world["uri"], CONFIG_DIR=str(cfg), UPLOAD_DIR=world["uploads"])
    assert exc.value.format_message().startswith("E330 ")  # one coded line, shown by flask without a traceback
    # wording alone may change under the same version
    (cfg / "checklists.yaml").write_text(text.replace("M4 年度培训", "M4 年度业务培训", 1), "utf-8")
    dispose(make_app(world["uri"], CONFIG_DIR=str(cfg), UPLOAD_DIR=world["uploads"]))


def test_export_follows_scope_masks_personal_data_and_escapes_formulas(world: dict[str, Any]) -> None:
    app = world.get("app") or app_for(world)
    with app.app_context():
        t = app.extensions["jiefen_checklists"]["five_essentials"]
        s = app.appbuilder.sm.session
        org = s.execute(select(t.Org).where(t.Org.org_code == "YX-DEMO-E001")).scalar_one()
        org.official_name = '=HYPERLINK("http://evil.example","点我")'
        org.head_name = "欧阳建国"
        s.execute(select(t.Org).where(t.Org.org_code == "YX-DEMO-E002")).scalar_one().official_name = "+1-2@x"
        s.commit()
        s.remove()
    c = app.test_client()
    login(c, "township_head_t1")
    resp = c.get("/checklists/board.xlsx")
    assert resp.status_code == 200
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(min_row=4, values_only=True))
    codes = [r[0] for r in rows]
    html_codes = re.findall(r'data-org="([^"]+)"', c.get("/checklists/board").data.decode())
    assert codes == html_codes and "YX-DEMO-E001" in codes and "YX-DEMO-E006" not in codes  # T01 only
    by_code = {r[0]: r for r in rows}
    assert by_code["YX-DEMO-E001"][1] == '\'=HYPERLINK("http://evil.example","点我")'
    assert by_code["YX-DEMO-E002"][1] == "'+1-2@x"
    assert by_code["YX-DEMO-E001"][4] == "欧阳**"  # head_name is pii: name in this config
    cov = c.get("/checklists/coverage.xlsx")
    assert cov.status_code == 200
    text = " ".join(str(v) for r in load_workbook(io.BytesIO(cov.data)).active.iter_rows(values_only=True) for v in r if v)
    assert "阳新县兴国镇" in text and "阳新县富池镇" not in text  # the other township is out of scope
    dispose(app)
