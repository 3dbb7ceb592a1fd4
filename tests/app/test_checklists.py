"""The 五有 tracker on the demo app: recording, rating, rectifications, uploads, scopes, exports."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from .conftest import login, upload_dir
from .test_audit import last_id, rows_since

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(300) + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture(scope="module")
def app(demo_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with upload_dir(demo_app, tmp_path_factory.mktemp("uploads")) as a:
        yield a


def client(app: Flask, user: str) -> FlaskClient:
    c = app.test_client()
    login(c, user)
    return c


def tracker(app: Flask) -> Any:
    return app.extensions["jiefen_checklists"]["five_essentials"]


def session(app: Flask) -> Any:
    return app.appbuilder.sm.session


def org_id(app: Flask, code: str) -> int:
    with app.app_context():
        t = tracker(app)
        oid = session(app).execute(select(t.Org.id).where(t.Org.org_code == code)).scalar_one()
        session(app).remove()
        return oid


def count(app: Flask, model_name: str) -> int:
    with app.app_context():
        m = app.extensions["jiefen"].models[model_name]
        n = session(app).execute(select(func.count(m.id))).scalar()
        session(app).remove()
        return n


def files_in(app: Flask) -> list[Path]:
    return sorted(p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file())


def start(c: FlaskClient, oid: int, when: str = "") -> int:
    resp = c.post("/checklists/new", data={"org": oid, "inspection_type": "annual",
                                           "conducted_at": when or dt.datetime.now().strftime("%Y-%m-%dT%H:%M"),
                                           "place": "现场", "inspectors": "王建国、李明"})
    assert resp.status_code == 302, resp.data[:500]
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def passing_form(app: Flask, insp_id: int, fail: tuple[str, ...] = (), action: str = "save") -> dict[str, Any]:
    """Every applicable sub-item rated 达标 with values that meet it, except ``fail``."""
    with app.app_context():
        t = tracker(app)
        insp = session(app).get(t.Insp, insp_id)
        d = t.definition(session(app), insp.checklist_version)
        rows = t.rows(session(app), insp)
        data: dict[str, Any] = {"action": action}
        for code in rows:
            s = d.subs[code]
            data[f"r_{code}"] = "fail" if code in fail else "pass"
            if s.number:
                data[f"v_{code}"] = str(s.number.threshold + 1)
            if s.validity:
                data[f"d_{code}"] = (dt.date.today() - dt.timedelta(days=30) if s.validity.within_months
                                     else dt.date.today() + dt.timedelta(days=200)).isoformat()
        session(app).remove()
        return data


def upload(data: dict[str, Any], field: str, content: bytes, name: str) -> dict[str, Any]:
    out = dict(data)
    out[field] = (io.BytesIO(content), name)
    return out


# ------------------------------------------------------------------ pages and scopes

def test_pages_answer_for_every_tracker_role(app: Flask) -> None:
    for user in ("inspector", "jm_lead", "analyst", "station_head_t1s1", "township_head_t1", "oversight"):
        c = client(app, user)
        for page in ("board", "coverage", "due", "rectifications"):
            assert c.get(f"/checklists/{page}").status_code == 200, (user, page)
    # a role without inspection read gets no page
    assert client(app, "finance").get("/checklists/board").status_code in (302, 403)


def test_board_columns_are_the_checklist_items_and_scope_applies(app: Flask) -> None:
    html = client(app, "inspector").get("/checklists/board").data.decode()
    assert re.findall(r'data-item="(\w+)"', html) == ["signage", "premises", "rules", "staff", "seal"]
    every = re.findall(r'data-org="([^"]+)"', html)
    assert "YX-DEMO-E001" in every and "YX-DEMO-E030" in every and "YX-DEMO-CC" in every
    own = re.findall(r'data-org="([^"]+)"', client(app, "station_head_t1s1").get("/checklists/board").data.decode())
    assert own == ["YX-DEMO-E001"]
    town = re.findall(r'data-org="([^"]+)"', client(app, "township_head_t1").get("/checklists/board").data.decode())
    assert "YX-DEMO-T01" in town and "YX-DEMO-E001" in town and "YX-DEMO-E006" not in town
    # filters: level and township
    t01 = org_id(app, "YX-DEMO-T01")
    only = re.findall(r'data-org="([^"]+)"',
                      client(app, "inspector").get(f"/checklists/board?level=station&township={t01}").data.decode())
    assert only and all(code.startswith(("YX-DEMO-E", "YX-DEMO-D")) for code in only) and "YX-DEMO-E006" not in only


def test_station_history_is_scoped(app: Flask) -> None:
    head = client(app, "station_head_t1s1")
    assert head.get(f"/checklists/station/{org_id(app, 'YX-DEMO-E001')}").status_code == 200
    assert head.get(f"/checklists/station/{org_id(app, 'YX-DEMO-E002')}").status_code == 404


def test_demo_has_failures_open_rectifications_and_expired_accreditations(app: Flask) -> None:
    with app.app_context():
        t = tracker(app)
        s = session(app)
        today = dt.date.today()
        stations, _ = t.stations(s, None)
        cur = t.current(s, [o.id for o in stations])
        states = [t.status_of(cur.get(o.id), today) for o in stations]
        assert {"pass", "basic", "fail", "expired", "not_rated"} <= set(states)
        rects = t.open_rectifications(s, None, today)
        assert rects and any(r["overdue"] for r in rects)
        assert any(r["rect"].rectification_status == "submitted" for r in rects)
        due = t.reinspections(s, stations, today)
        assert {"overdue", "never"} <= {r["state"] for r in due}
        s.remove()
    page = client(app, "inspector").get("/checklists/due").data.decode()
    assert "jf-due-overdue" in page and "jf-due-never" in page


def test_item_passing_is_the_seal_guard(app: Flask) -> None:
    from app.checklists.status import item_passing

    with app.app_context():
        s = session(app)
        today = dt.date.today()
        assert item_passing(s, "five_essentials", "seal", org_id(app, "YX-DEMO-E006"), today) is True
        assert item_passing(s, "five_essentials", "seal", org_id(app, "YX-DEMO-E002"), today) is False  # S1 failed
        assert item_passing(s, "five_essentials", "seal", org_id(app, "YX-DEMO-T02"), today) is False  # expired
        assert item_passing(s, "five_essentials", "seal", org_id(app, "YX-DEMO-E006"), dt.date(2020, 1, 1)) is False
        assert item_passing(s, "five_essentials", "seal", None, today) is False
        assert item_passing(s, "no_such_list", "seal", org_id(app, "YX-DEMO-E006"), today) is False
        s.remove()


# ------------------------------------------------------------------ the inspection flow

def test_inspector_records_submits_and_the_head_answers(app: Flask) -> None:
    insp_c = client(app, "inspector")
    e001 = org_id(app, "YX-DEMO-E001")
    insp_id = start(insp_c, e001)
    page = insp_c.get(f"/checklists/inspection/{insp_id}").data.decode()
    assert re.findall(r'data-item="(\w+)"', page) == ["signage", "premises", "rules", "staff", "seal"]
    # the enterprise station is asked its own F1 (≥10 m²), not the county's
    assert 'data-sub="f1"' in page and 'data-sub="f1_county"' not in page
    # submitting with nothing rated is refused
    resp = insp_c.post(f"/checklists/inspection/{insp_id}/save", data={"action": "submit"})
    assert resp.status_code == 400 and "未评定" in resp.data.decode()
    # a pass that contradicts the measured area is refused
    form = passing_form(app, insp_id, action="submit")
    form["v_f1"] = "8"
    resp = insp_c.post(f"/checklists/inspection/{insp_id}/save", data=form)
    assert resp.status_code == 400 and "不能评为达标" in resp.data.decode()
    # one photo, one failed (non-gate) item: 基本达标, one rectification
    form = upload(passing_form(app, insp_id, fail=("s3",), action="submit"), "f_p1", JPEG, "整改照片.jpg")
    resp = insp_c.post(f"/checklists/inspection/{insp_id}/save", data=form, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.data[:800]
    with app.app_context():
        t = tracker(app)
        s = session(app)
        insp = s.get(t.Insp, insp_id)
        assert insp.overall_result == "basic" and insp.inspection_status == "rectifying"
        assert insp.checklist_version == 1
        assert insp.valid_until == insp.conducted_at.date().replace(year=insp.conducted_at.year + 1)
        assert json.loads(insp.item_summary)["seal"] == "basic"
        rects = list(s.scalars(select(t.Rect).where(t.Rect.inspection_id == insp_id)))
        assert [(r.sub_item_code, r.rectification_status) for r in rects] == [("s3", "issued")]
        assert rects[0].due_date == dt.date.today() + dt.timedelta(days=30)
        org = s.get(t.Org, e001)
        assert org.wuyou_status == "basic" and org.wuyou_valid_until == insp.valid_until
        rect_id = rects[0].id
        s.remove()
    # the station head sees the task and answers it with a photo
    head = client(app, "station_head_t1s1")
    assert f'data-rect="{rect_id}"' in head.get("/checklists/rectifications").data.decode()
    resp = head.post(f"/checklists/rectification/{rect_id}/respond",
                     data={"response": "已建立用印登记簿", "files": (io.BytesIO(JPEG), "用印登记簿.jpg")},
                     content_type="multipart/form-data")
    assert resp.status_code == 302
    # the head may not close it; the inspector does
    assert head.post(f"/checklists/rectification/{rect_id}/close").status_code == 403
    assert insp_c.post(f"/checklists/rectification/{rect_id}/close").status_code == 302
    with app.app_context():
        t = tracker(app)
        rect = session(app).get(t.Rect, rect_id)
        assert rect.rectification_status == "verified" and rect.verified_by == "inspector"
        assert rect.inspection.inspection_status == "closed"
        session(app).remove()
    # a submitted inspection no longer changes
    assert insp_c.post(f"/checklists/inspection/{insp_id}/save", data={"action": "save"}).status_code == 409


def test_reinspection_copies_results_except_failed(app: Flask) -> None:
    insp_c = client(app, "inspector")
    oid = org_id(app, "YX-DEMO-E010")
    insp_id = start(insp_c, oid)
    assert insp_c.post(f"/checklists/inspection/{insp_id}/save",
                       data=passing_form(app, insp_id, fail=("m3",), action="submit")).status_code == 302
    with app.app_context():
        t = tracker(app)
        s = session(app)
        assert s.get(t.Insp, insp_id).overall_result == "fail"  # M3 is a hard gate
        assert s.get(t.Org, oid).wuyou_status == "fail"
        rect_id = s.execute(select(t.Rect.id).where(t.Rect.inspection_id == insp_id)).scalar_one()
        s.remove()
    resp = insp_c.post(f"/checklists/rectification/{rect_id}/reinspect")
    assert resp.status_code == 302
    new_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        t = tracker(app)
        s = session(app)
        rows = t.rows(s, s.get(t.Insp, new_id))
        assert rows["m3"].item_result == "pending" and rows["p1"].item_result == "pass"
        assert s.get(t.Insp, new_id).inspection_type == "recheck"
        s.remove()


# ------------------------------------------------------------------ uploads

@pytest.fixture(scope="module")
def draft(app: Flask) -> int:
    return start(client(app, "inspector"), org_id(app, "YX-DEMO-E002"))


def test_oversized_upload_is_413_with_no_row_and_no_file(app: Flask, draft: int) -> None:
    rows, files = count(app, "evidence"), files_in(app)
    big = b"\xff\xd8\xff\xe0" + bytes(20 * 1024 * 1024)
    resp = client(app, "inspector").post(f"/checklists/inspection/{draft}/save",
                                         data=upload({"action": "save", "n_p1": "big"}, "f_p1", big, "big.jpg"),
                                         content_type="multipart/form-data")
    assert resp.status_code == 413
    assert count(app, "evidence") == rows and files_in(app) == files
    with app.app_context():  # the note sent with it was not saved either
        t = tracker(app)
        assert t.rows(session(app), session(app).get(t.Insp, draft))["p1"].note is None
        session(app).remove()


def test_html_renamed_jpg_is_rejected(app: Flask, draft: int) -> None:
    rows, files = count(app, "evidence"), files_in(app)
    resp = client(app, "inspector").post(f"/checklists/inspection/{draft}/save",
                                         data=upload({"action": "save"}, "f_p1", HTML, "photo.jpg"),
                                         content_type="multipart/form-data")
    assert resp.status_code == 415
    assert "不是照片" in resp.data.decode()
    assert count(app, "evidence") == rows and files_in(app) == files


def _evidence_ids(app: Flask, insp_id: int) -> list[int]:
    with app.app_context():
        t = tracker(app)
        ids = list(session(app).scalars(select(t.Ev.id).join(t.Row, t.Row.id == t.Ev.item_result_id)
                                        .where(t.Row.inspection_id == insp_id)))
        session(app).remove()
        return ids


def test_chinese_file_name_is_kept_on_download(app: Flask) -> None:
    c = client(app, "inspector")
    insp_id = start(c, org_id(app, "YX-DEMO-E001"))
    resp = c.post(f"/checklists/inspection/{insp_id}/save",
                  data=upload({"action": "save"}, "f_p1", JPEG, "整改照片.jpg"), content_type="multipart/form-data")
    assert resp.status_code == 302
    (ev_id,) = _evidence_ids(app, insp_id)
    resp = c.get(f"/checklists/evidence/{ev_id}/download")
    assert resp.status_code == 200 and resp.data == JPEG
    assert resp.mimetype == "image/jpeg"
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith("attachment;") and f"filename*=UTF-8''{quote('整改照片.jpg')}" in cd
    # the station head of E001 may download it too; E002's head may not (answers as missing)
    assert client(app, "station_head_t1s1").get(f"/checklists/evidence/{ev_id}/download").status_code == 200
    assert client(app, "station_head_t1s2").get(f"/checklists/evidence/{ev_id}/download").status_code == 404
    # a PDF is typed as a document
    resp = c.post(f"/checklists/inspection/{insp_id}/save",
                  data=upload({"action": "save"}, "f_r2", PDF, "制度.pdf"), content_type="multipart/form-data")
    assert resp.status_code == 302
    with app.app_context():
        t = tracker(app)
        kinds = set(session(app).scalars(select(t.Ev.evidence_kind).where(t.Ev.id.in_(_evidence_ids(app, insp_id)))))
        assert kinds == {"photo", "document"}
        session(app).remove()


def test_other_stations_evidence_is_404(app: Flask, draft: int) -> None:
    c = client(app, "inspector")
    assert c.post(f"/checklists/inspection/{draft}/save",
                  data=upload({"action": "save"}, "f_s1", PDF, "印模.pdf"),
                  content_type="multipart/form-data").status_code == 302
    ev_id = _evidence_ids(app, draft)[-1]
    assert client(app, "station_head_t1s2").get(f"/checklists/evidence/{ev_id}/download").status_code == 200
    assert client(app, "station_head_t1s1").get(f"/checklists/evidence/{ev_id}/download").status_code == 404
    assert client(app, "station_head_t1s1").get(f"/checklists/inspection/{draft}").status_code == 404
    assert client(app, "township_head_t2").get(f"/checklists/evidence/{ev_id}/download").status_code == 404
    assert c.get("/checklists/evidence/999999/download").status_code == 404
    # the generated evidence API cannot point a row at a stored file
    with app.app_context():
        assert app.extensions["jiefen"].spec.entities["evidence"].fields["evidence_file"].readonly


def test_head_cannot_record_inspections(app: Flask, draft: int) -> None:
    head = client(app, "station_head_t1s2")
    assert head.get("/checklists/new").status_code == 403
    assert head.post(f"/checklists/inspection/{draft}/save", data={"action": "save"}).status_code in (403, 404)


# ------------------------------------------------------------------ exports

def _board_html(c: FlaskClient, query: str = "") -> list[tuple[str, list[str]]]:
    html = c.get("/checklists/board" + query).data.decode()
    out = []
    for code, body in re.findall(r'<tr data-org="([^"]+)">(.*?)</tr>', html, re.S):
        cells = [re.sub(r"\s+", "", c) for c in re.findall(r'<td class="text-center jf-cell[^"]*">(.*?)</td>', body, re.S)]
        out.append((code, cells))
    return out


def test_board_export_matches_the_board(app: Flask) -> None:
    c = client(app, "analyst")
    board = _board_html(c)
    resp = c.get("/checklists/board.xlsx")
    assert resp.status_code == 200 and "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = [list(r) for r in ws.iter_rows(min_row=4, values_only=True)]
    header = [c.value for c in ws[3]]
    assert header[5:10] == ["有牌子", "有场地", "有制度", "有人员", "有印章"]
    assert [(r[0], [str(v) for v in r[5:10]]) for r in rows] == board
    # filtered export = filtered board
    t01 = org_id(app, "YX-DEMO-T01")
    resp = c.get(f"/checklists/board.xlsx?township={t01}")
    codes = [r[0] for r in load_workbook(io.BytesIO(resp.data)).active.iter_rows(min_row=4, values_only=True)]
    assert codes == [code for code, _ in _board_html(c, f"?township={t01}")]


def test_exports_need_the_export_grant(app: Flask) -> None:
    for user in ("inspector", "station_head_t1s1", "township_head_t1"):
        assert client(app, user).get("/checklists/board.xlsx").status_code == 403, user
        assert client(app, user).get("/checklists/coverage.xlsx").status_code == 403, user


def test_coverage_report_counts_against_targets(app: Flask) -> None:
    c = client(app, "analyst")
    html = c.get("/checklists/coverage").data.decode()
    assert "<svg" in html and "http" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org/2000/svg", "")
    resp = c.get("/checklists/coverage.xlsx")
    ws = load_workbook(io.BytesIO(resp.data)).active
    values = [r for r in ws.iter_rows(values_only=True)]
    levels = {r[0]: r for r in values if r and r[0] in ("县级中心", "乡镇分中心", "企业工作站")}
    assert levels["乡镇分中心"][1] == 6 and levels["企业工作站"][1] == 30 and levels["县级中心"][1] == 1
    assert levels["企业工作站"][2] == 30  # all demo enterprise stations are built
    with app.app_context():
        cov = tracker(app).coverage(session(app), None, dt.date.today())
        ent = next(x for x in cov["levels"] if x["name"] == "enterprise")
        assert levels["企业工作站"][3] == ent["accredited"] and sum(cov["item_fail"].values()) > 0
        session(app).remove()


# ------------------------------------------------------------------ quotas and the download audit (issue #11)

def test_a_31st_file_in_one_request_is_413_and_nothing_is_stored(app: Flask) -> None:
    """F13: 30 × 1 MiB files were accepted in one request; the quota in checklists.yaml stops the 31st."""
    insp_c = client(app, "inspector")
    insp_id = start(insp_c, org_id(app, "YX-DEMO-E006"))
    assert insp_c.post(f"/checklists/inspection/{insp_id}/save",
                       data=passing_form(app, insp_id, fail=("s3",), action="submit")).status_code == 302
    with app.app_context():
        t = tracker(app)
        rect_id = session(app).execute(select(t.Rect.id).where(t.Rect.inspection_id == insp_id)).scalar_one()
        session(app).remove()
    limit = 30
    rows, files, before = count(app, "evidence"), files_in(app), last_id(app)
    one_mib = PDF + bytes(1024 * 1024 - len(PDF))
    data: dict[str, Any] = {"response": "整改完成", "files": [(io.BytesIO(one_mib), f"m{i}.pdf") for i in range(limit + 1)]}
    resp = _respond_as_head(app, rect_id, data)
    assert resp.status_code == 413, resp.status_code
    assert count(app, "evidence") == rows and files_in(app) == files
    refused = [r for r in rows_since(app, before) if r["event"] == "upload"]
    assert refused and refused[-1]["outcome"] == "denied"
    # exactly the limit is accepted
    data = {"response": "整改完成", "files": [(io.BytesIO(PDF), f"ok{i}.pdf") for i in range(limit)]}
    assert _respond_as_head(app, rect_id, data).status_code == 302
    assert count(app, "evidence") == rows + limit
    # the record now holds the limit: one more file, in a request of its own, is refused too
    resp = _respond_as_head(app, rect_id, {"response": "再补一份", "files": [(io.BytesIO(PDF), "extra.pdf")]})
    assert resp.status_code == 413
    assert count(app, "evidence") == rows + limit


def _respond_as_head(app: Flask, rect_id: int, data: dict[str, Any]) -> Any:
    """Answer a rectification as the head of its station (jm_office, county-wide, for other stations)."""
    with app.app_context():
        t = tracker(app)
        code = session(app).get(t.Rect, rect_id).org.org_code
        session(app).remove()
    head_of = {"YX-DEMO-E001": "station_head_t1s1", "YX-DEMO-E002": "station_head_t1s2",
               "YX-DEMO-E006": "station_head_t2s1"}
    user = head_of.get(code, "jm_office")
    return client(app, user).post(f"/checklists/rectification/{rect_id}/respond", data=data,
                                  content_type="multipart/form-data")


def test_an_evidence_download_leaves_an_audit_row_and_so_does_a_refused_one(app: Flask) -> None:
    c = client(app, "inspector")
    insp_id = start(c, org_id(app, "YX-DEMO-E001"))
    assert c.post(f"/checklists/inspection/{insp_id}/save",
                  data=upload({"action": "save"}, "f_p1", JPEG, "门牌.jpg"),
                  content_type="multipart/form-data").status_code == 302
    (ev_id,) = _evidence_ids(app, insp_id)
    before = last_id(app)
    assert client(app, "station_head_t1s1").get(f"/checklists/evidence/{ev_id}/download").status_code == 200
    rows = [r for r in rows_since(app, before) if r["event"] == "download"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["entity"], row["record_id"], row["username"]) == ("evidence", str(ev_id), "station_head_t1s1")
    assert row["outcome"] == "ok" and row["roles"] == "station_head" and "门牌.jpg" in row["detail"]
    before = last_id(app)
    assert client(app, "station_head_t1s2").get(f"/checklists/evidence/{ev_id}/download").status_code == 404
    rows = [r for r in rows_since(app, before) if r["event"] == "download"]
    assert [(r["outcome"], r["username"]) for r in rows] == [("denied", "station_head_t1s2")]
