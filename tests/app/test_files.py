"""Files (issue #11): one upload service for every ``file`` field of every entity and for 五有 evidence.

The class, not the instance: ``test_every_file_field…`` runs for each ``type: file`` field the
compiled spec has (a new file field in entities.yaml is tested without new test code):
upload → the record carries ``{name, size, url}`` → a reader downloads it under its name → a user
out of scope gets 404 → both downloads are audited with role and outcome → over the quota is 413
with nothing stored.  Then the screens (a real file input, kept on edit, a link on the show page),
name handling, type sniffing, staged uploads for the REST create, and nothing half-written.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import func, select

from generator import load, names
from generator.spec import AppSpec
from tests.support.files import HTML, JPEG, PDF, oversized, sample

from .conftest import ROOT, api_auth, login, upload_dir
from .test_audit import last_id, rows_since
from .test_crud_generated import create_row, view_url

SPEC: AppSpec = load(str(ROOT / "config")).spec  # type: ignore[assignment]
FILE_FIELDS = [(e.name, f.name) for e in SPEC.entities.values() for f in e.fields.values() if f.type == "file"]
# Read-only file fields are written by a hand-made page of the app; each one needs its upload route here.
SERVER_WRITTEN = {("evidence", "evidence_file")}


@pytest.fixture(scope="module")
def app(demo_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with upload_dir(demo_app, tmp_path_factory.mktemp("files")) as a:
        yield a


# ------------------------------------------------------------------ helpers

_TOKENS: dict[str, dict[str, str]] = {}


def auth(app: Flask, username: str) -> dict[str, str]:
    if username not in _TOKENS:
        _TOKENS[username] = api_auth(app.test_client(), username)
    return _TOKENS[username]


def accounts(app: Flask) -> list[tuple[str, str]]:
    """(username, role) of every demo account."""
    out = app.test_cli_runner().invoke(args=["demo-accounts"]).output
    return [(line.split("\t")[0], line.split("\t")[1]) for line in out.splitlines() if "\t" in line]


def session(app: Flask) -> Any:
    return app.appbuilder.sm.session


def file_rows(app: Flask, **where: Any) -> list[dict[str, Any]]:
    with app.app_context():
        t = app.extensions["jiefen"].file_table.__table__
        q = select(t)
        for k, v in where.items():
            q = q.where(t.c[k] == v)
        rows = [dict(r._mapping) for r in session(app).execute(q.order_by(t.c.id))]
        session(app).remove()
        return rows


def stored(app: Flask) -> list[Path]:
    return sorted(p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file())


def column(app: Flask, entity: str, pk: int, field: str) -> Any:
    with app.app_context():
        model = app.extensions["jiefen"].models[entity]
        value = session(app).execute(select(getattr(model, field)).where(model.id == pk)).scalar_one()
        session(app).remove()
        return value


def api_upload(app: Flask, user: str, entity: str, pk: int, field: str, *files: tuple[bytes, str]) -> Any:
    data = {"file": [(io.BytesIO(content), name) for content, name in files]}
    return app.test_client().post(f"/api/v1/{names.resource_name(entity)}/{pk}/files/{field}", data=data,
                                  headers=auth(app, user), content_type="multipart/form-data")


def record(app: Flask, user: str, entity: str, pk: int) -> Any:
    return app.test_client().get(f"/api/v1/{names.resource_name(entity)}/{pk}", headers=auth(app, user))


def as_list(value: Any) -> list[dict[str, Any]]:
    return value if isinstance(value, list) else ([value] if value else [])


def reader_and_outsider(app: Flask, entity: str, pk: int) -> tuple[tuple[str, str], tuple[str, str] | None]:
    """A non-admin account that reads the record, and one whose role reads the entity but not this
    record (None when no account is out of scope: public entities)."""
    reader = outsider = None
    for username, role in accounts(app):
        if SPEC.roles[role].admin:
            continue
        status = record(app, username, entity, pk).status_code
        if status == 200 and reader is None:
            reader = (username, role)
        elif status == 404 and outsider is None:
            outsider = (username, role)
        if reader and outsider:
            break
    assert reader is not None, f"no demo account reads {entity} {pk}"
    return reader, outsider


def evidence_record(app: Flask) -> int:
    """An evidence row with its file, through the 五有 inspection page (the only way in)."""
    c = app.test_client()
    login(c, "inspector")
    org = app.extensions["jiefen"].models["org"]
    with app.app_context():
        oid = session(app).execute(select(org.id).where(org.org_code == "YX-DEMO-E001")).scalar_one()
        session(app).remove()
    resp = c.post("/checklists/new", data={"org": oid, "inspection_type": "annual", "place": "现场"})
    insp_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    resp = c.post(f"/checklists/inspection/{insp_id}/save",
                  data={"action": "save", "f_p1": (io.BytesIO(JPEG), "门牌照片.jpg")}, content_type="multipart/form-data")
    assert resp.status_code == 302
    ev = app.extensions["jiefen"].models["evidence"]
    with app.app_context():
        pk = session(app).execute(select(func.max(ev.id))).scalar_one()
        session(app).remove()
    return pk


# ------------------------------------------------------------------ the class: every file field

@pytest.mark.parametrize("entity,field", FILE_FIELDS, ids=[f"{e}.{f}" for e, f in FILE_FIELDS])
def test_every_file_field_uploads_downloads_in_scope_audits_and_keeps_its_quota(
        app: Flask, entity: str, field: str) -> None:
    f = SPEC.entities[entity].fields[field]
    data, name, ctype = sample(f)
    if f.readonly:
        assert (entity, field) in SERVER_WRITTEN, f"{entity}.{field} is read-only: add its upload route to the test"
        with app.app_context():
            pk = evidence_record(app)
        data, name, ctype = JPEG, "门牌照片.jpg", "image/jpeg"
        before_rows, before_files = len(file_rows(app)), stored(app)
        resp = api_upload(app, "admin", entity, pk, field, (PDF, "x.pdf"))
        assert resp.status_code in (400, 403), resp.status_code  # written by the server only
        assert len(file_rows(app)) == before_rows and stored(app) == before_files
    else:
        with app.app_context():
            pk = create_row(app, entity)
        start = last_id(app)
        resp = api_upload(app, "admin", entity, pk, field, (data, name))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        up = rows_since(app, start, event="upload")
        assert [(r["entity"], r["record_id"], r["outcome"]) for r in up] == [(entity, str(pk), "ok")]

    # the record carries the file as {name, size, url}, never a storage key or a server path
    got = record(app, "admin", entity, pk)
    assert got.status_code == 200
    body = got.get_data(as_text=True)
    files = as_list(got.get_json()["result"][field])
    mine = [x for x in files if x["name"] == name]
    assert mine, files
    shown = mine[-1]
    assert shown["size"] == len(data) and shown["content_type"] == ctype
    assert shown["url"].startswith(f"/api/v1/{names.resource_name(entity)}/{pk}/files/{field}")
    key = column(app, entity, pk, field)
    assert key and key not in body and app.config["UPLOAD_DIR"] not in body

    # a reader downloads it under its name; the download is audited with role and outcome
    (reader, reader_role), outsider = reader_and_outsider(app, entity, pk)
    start = last_id(app)
    resp = app.test_client().get(shown["url"], headers=auth(app, reader))
    assert resp.status_code == 200 and resp.data == data
    assert resp.mimetype == ctype and resp.headers["X-Content-Type-Options"] == "nosniff"
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith("attachment;") and f"filename*=UTF-8''{quote(name)}" in cd
    rows = rows_since(app, start, event="download")
    assert [(r["entity"], r["record_id"], r["username"], r["outcome"]) for r in rows] == [
        (entity, str(pk), reader, "ok")]
    assert reader_role in (rows[0]["roles"] or "").split(",")

    # out of scope: 404, exactly like a missing file, and audited as denied (nobody is out of scope of a
    # public entity, or of one only county-wide roles read); without the read grant: 403
    readers = {r.scope for r in SPEC.roles.values() if not r.admin and "read" in r.actions_on(entity)}
    if outsider is None:
        assert SPEC.entities[entity].scope.public or readers <= {"all", "county"}, entity
    else:
        start = last_id(app)
        resp = app.test_client().get(shown["url"], headers=auth(app, outsider[0]))
        missing = app.test_client().get(shown["url"].rsplit("/", 1)[0] + "/999999999", headers=auth(app, outsider[0]))
        assert resp.status_code == 404 and resp.get_json() == missing.get_json()
        rows = rows_since(app, start, event="download")
        assert (rows[0]["username"], rows[0]["outcome"], rows[0]["entity"]) == (outsider[0], "denied", entity)

    stranger = next(u for u, role in accounts(app) if not SPEC.roles[role].admin
                    and "read" not in SPEC.roles[role].actions_on(entity))
    assert app.test_client().get(shown["url"], headers=auth(app, stranger)).status_code == 403

    # over the quota: 413 and nothing stored, the record unchanged
    if f.readonly:
        return
    rows_before, files_before, key_before = len(file_rows(app)), stored(app), column(app, entity, pk, field)
    start = last_id(app)
    resp = api_upload(app, "admin", entity, pk, field, oversized(f))
    assert resp.status_code == 413, resp.status_code
    assert len(file_rows(app)) == rows_before and stored(app) == files_before
    assert column(app, entity, pk, field) == key_before
    assert [r["outcome"] for r in rows_since(app, start, event="upload")] == ["denied"]
    if f.file_max_count > 1:
        have = len(file_rows(app, entity=entity, record_id=pk, field=field))
        room = [(data, f"第{i}张.jpg" if "image" in f.file_kinds and "pdf" not in f.file_kinds else f"第{i}份.pdf")
                for i in range(f.file_max_count - have)]
        assert api_upload(app, "admin", entity, pk, field, *room).status_code == 200
        rows_before, files_before = len(file_rows(app)), stored(app)
        assert api_upload(app, "admin", entity, pk, field, (data, name)).status_code == 413
        assert len(file_rows(app)) == rows_before and stored(app) == files_before


@pytest.mark.parametrize("entity,field", [(e, f) for e, f in FILE_FIELDS if (e, f) not in SERVER_WRITTEN],
                         ids=[f"{e}.{f}" for e, f in FILE_FIELDS if (e, f) not in SERVER_WRITTEN])
def test_every_file_field_is_an_upload_on_the_screens(app: Flask, entity: str, field: str) -> None:
    f = SPEC.entities[entity].fields[field]
    c = app.test_client()
    login(c)
    url = view_url(app, entity)
    with app.app_context():
        pk = create_row(app, entity)
    edit = c.get(f"{url}/edit/{pk}").get_data(as_text=True)
    tag = re.search(rf'<input[^>]*name="{field}"[^>]*>', edit)
    assert tag and 'type="file"' in tag.group(0), f"{entity}.{field} is not a file input"
    assert ("multiple" in tag.group(0)) == (f.file_max_count > 1)
    assert 'enctype="multipart/form-data"' in edit
    # upload through the edit form
    data, name, _ = sample(f)
    form = _edit_form_values(app, entity, pk)
    form[field] = (io.BytesIO(data), name)
    resp = c.post(f"{url}/edit/{pk}", data=form, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    key = column(app, entity, pk, field)
    assert key and file_rows(app, key=key)[0]["name"] == name
    # an edit that leaves the file input empty keeps the file
    form = _edit_form_values(app, entity, pk)
    assert c.post(f"{url}/edit/{pk}", data=form, content_type="multipart/form-data").status_code == 302
    assert column(app, entity, pk, field) == key
    # the show page names the file and links to its download
    show = c.get(f"{url}/show/{pk}").get_data(as_text=True)
    link = re.search(rf'<a[^>]*href="(/api/v1/{names.resource_name(entity)}/{pk}/files/{field}[^"]*)"[^>]*>([^<]*)</a>',
                     show)
    assert link and name in link.group(2), show[:200]
    got = c.get(link.group(1).replace("&amp;", "&"))
    assert got.status_code == 200 and got.data == data
    # a second upload replaces a single file (the old one leaves the disk) or joins the others
    before = stored(app)
    form = _edit_form_values(app, entity, pk)
    form[field] = (io.BytesIO(data), "第二份" + name)
    assert c.post(f"{url}/edit/{pk}", data=form, content_type="multipart/form-data").status_code == 302
    names_now = [r["name"] for r in file_rows(app, entity=entity, record_id=pk, field=field)]
    if f.file_max_count == 1:
        assert names_now == ["第二份" + name] and len(stored(app)) == len(before)
    else:
        assert names_now == [name, "第二份" + name] and len(stored(app)) == len(before) + 1
    # the form refuses a file over the cap: 413, nothing stored, the form comes back
    before_rows, before = len(file_rows(app)), stored(app)
    form = _edit_form_values(app, entity, pk)
    big, big_name = oversized(f)
    form[field] = (io.BytesIO(big), big_name)
    resp = c.post(f"{url}/edit/{pk}", data=form, content_type="multipart/form-data")
    assert resp.status_code == 413 and "MB" in resp.get_data(as_text=True)
    assert len(file_rows(app)) == before_rows and stored(app) == before


def _edit_form_values(app: Flask, entity: str, pk: int) -> dict[str, Any]:
    """What the edit form posts back unchanged: the stored values of the editable non-file fields."""
    from tests.support.payloads import form_values

    with app.app_context():
        model = app.extensions["jiefen"].models[entity]
        obj = session(app).get(model, pk)
        out = form_values(SPEC, SPEC.entities[entity], obj)
        session(app).remove()
    return out


# ------------------------------------------------------------------ names and types

def _case_document(app: Flask) -> int:
    with app.app_context():
        return create_row(app, "case_document")


def test_a_display_name_that_lies_about_the_type_gets_the_real_extension(app: Flask) -> None:
    pk = _case_document(app)
    assert api_upload(app, "admin", "case_document", pk, "doc_file", (PDF, "报告.html")).status_code == 200
    (shown,) = as_list(record(app, "admin", "case_document", pk).get_json()["result"]["doc_file"])
    assert shown["name"] == "报告.pdf" and shown["content_type"] == "application/pdf"
    resp = app.test_client().get(shown["url"], headers=auth(app, "admin"))
    assert resp.data == PDF and resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert quote("报告.pdf") in resp.headers["Content-Disposition"] and ".html" not in resp.headers["Content-Disposition"]


@pytest.mark.parametrize("given,kept", [("../../../etc/passwd.pdf", "passwd.pdf"), ("uploads/../协议.pdf", "协议.pdf"),
                                        ("a\tb\u202ec\u200b.pdf", "abc.pdf"), ("   ", "file.pdf"), (".pdf", "file.pdf")])
def test_names_lose_paths_and_control_characters(app: Flask, given: str, kept: str) -> None:
    pk = _case_document(app)
    assert api_upload(app, "admin", "case_document", pk, "doc_file", (PDF, given)).status_code == 200
    (shown,) = as_list(record(app, "admin", "case_document", pk).get_json()["result"]["doc_file"])
    assert shown["name"] == kept
    key = column(app, "case_document", pk, "doc_file")
    assert re.fullmatch(r"f/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", key)  # never the client's name on disk


@pytest.mark.parametrize("given,kept", [
    ("C:\\fakepath\\协议.pdf", "协议.pdf"), ("调解协议书.PDF", "调解协议书.PDF"), ("报告.v2", "报告.pdf"),
    ("无扩展名", "无扩展名.pdf"), ("a\u202egnp.pdf", "agnp.pdf"), ("a\r\nb\x00c.pdf", "abc.pdf"), ("...pdf", "file.pdf"), ("x" * 300 + ".pdf", "x" * 200 + ".pdf")])
def test_display_names(given: str, kept: str) -> None:
    from app.files.kinds import display_name

    assert display_name(given, "application/pdf") == kept
    assert display_name("照片.jpeg", "image/jpeg") == "照片.jpeg" and display_name("照片.png", "image/jpeg") == "照片.jpg"


@pytest.mark.parametrize("content,name", [(HTML, "photo.jpg"), (HTML, "文件.pdf"), (b"MZ\x90\x00" + bytes(64), "a.pdf"),
                                          (b"PK\x03\x04" + bytes(64), "a.pdf"), (JPEG, "照片.jpg")])
def test_content_of_a_kind_the_field_does_not_accept_is_415(app: Flask, content: bytes, name: str) -> None:
    """ruling_file accepts PDF only: HTML, an EXE, a ZIP and even a real photo are refused."""
    entity, field = "judicial_confirmation", "ruling_file"
    assert SPEC.entities[entity].fields[field].file_kinds == ("pdf",)
    with app.app_context():
        pk = create_row(app, entity)
    rows, files = len(file_rows(app)), stored(app)
    resp = api_upload(app, "admin", entity, pk, field, (content, name))
    assert resp.status_code == 415
    assert len(file_rows(app)) == rows and stored(app) == files and column(app, entity, pk, field) is None


def test_an_empty_or_missing_file_is_400(app: Flask) -> None:
    pk = _case_document(app)
    assert api_upload(app, "admin", "case_document", pk, "doc_file", (b"", "空.pdf")).status_code == 400
    resp = app.test_client().post(f"/api/v1/case_document/{pk}/files/doc_file", data={},
                                  headers=auth(app, "admin"), content_type="multipart/form-data")
    assert resp.status_code == 400
    assert api_upload(app, "admin", "case_document", pk, "no_such_field", (PDF, "a.pdf")).status_code == 404
    assert api_upload(app, "admin", "case_document", pk, "title", (PDF, "a.pdf")).status_code == 404


# ------------------------------------------------------------------ the REST create: staged uploads

def _case_document_body(app: Flask) -> dict[str, Any]:
    from .test_crud_generated import ensure_refs
    from tests.support.payloads import payload

    with app.app_context():
        return payload(SPEC, SPEC.entities["case_document"], ensure_refs(app, "case_document"), api=True, seed=77)


def stage_via_api(app: Flask, user: str, entity: str, field: str, content: bytes = PDF,
                  name: str = "登记材料.pdf") -> Any:
    return app.test_client().post(f"/api/v1/{names.resource_name(entity)}/files/{field}",
                                  data={"file": (io.BytesIO(content), name)}, headers=auth(app, user),
                                  content_type="multipart/form-data")


def test_a_required_file_is_staged_then_named_in_the_json_create(app: Flask) -> None:
    resp = stage_via_api(app, "admin", "case_document", "doc_file")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    staged = resp.get_json()["result"]
    assert staged["name"] == "登记材料.pdf" and staged["size"] == len(PDF) and staged["token"]
    body = _case_document_body(app)
    body["doc_file"] = staged["token"]
    created = app.test_client().post("/api/v1/case_document/", json=body, headers=auth(app, "admin"))
    assert created.status_code == 201, created.get_json()
    pk = created.get_json()["id"]
    assert created.get_json()["result"]["doc_file"]["name"] == "登记材料.pdf"  # the answer shows the file too
    (shown,) = as_list(record(app, "admin", "case_document", pk).get_json()["result"]["doc_file"])
    assert shown["name"] == "登记材料.pdf"
    assert app.test_client().get(shown["url"], headers=auth(app, "admin")).data == PDF
    # a token is used once; another user's token, an unknown one and a stored key are all refused
    body = _case_document_body(app)
    body["doc_file"] = staged["token"]
    assert app.test_client().post("/api/v1/case_document/", json=body, headers=auth(app, "admin")).status_code == 422
    other = stage_via_api(app, "registrar", "case_document", "doc_file").get_json()["result"]["token"]
    for token in (other, "f/2026/01/" + "0" * 32 + ".pdf", "../../etc/passwd"):
        body["doc_file"] = token
        resp = app.test_client().post("/api/v1/case_document/", json=body, headers=auth(app, "admin"))
        assert resp.status_code == 422, (token, resp.get_json())
    # a staged file is checked like any upload
    assert stage_via_api(app, "admin", "case_document", "doc_file", HTML, "x.pdf").status_code == 415
    # a record cannot be pointed at another record's stored file
    other = _case_document(app)
    theirs = column(app, "case_document", other, "doc_file")
    resp = app.test_client().put(f"/api/v1/case_document/{pk}", json={"doc_file": theirs}, headers=auth(app, "admin"))
    assert resp.status_code == 422 and column(app, "case_document", pk, "doc_file") != theirs


# ------------------------------------------------------------------ nothing half-written

def test_a_rolled_back_flush_removes_the_written_file(app: Flask) -> None:
    from tests.support.files import stage

    with app.app_context():
        s = session(app)
        model = app.extensions["jiefen"].models["case_document"]
        key = stage(s, "case_document", "doc_file")
        doc = model(dispute_case_id=s.execute(select(app.extensions["jiefen"].models["dispute_case"].id)).scalars().first(),
                    doc_type=next(iter(SPEC.enums[SPEC.entities["case_document"].fields["doc_type"].enum].values)),
                    title="回滚测试", doc_file=key)
        s.add(doc)
        s.flush()
        path = Path(app.config["UPLOAD_DIR"]) / key
        assert path.is_file()  # written with the flush...
        s.rollback()  # ...and gone with the transaction
        assert not path.exists() and not file_rows(app, key=key)
        s.remove()


def test_a_write_refused_after_the_flush_leaves_no_file(app: Flask) -> None:
    """A registrar adds a document to a case of the sibling station: the scope check runs after the
    flush (the file was written by then) and refuses; the file and its row go with the rollback."""
    case = app.extensions["jiefen"].models["dispute_case"]
    org = app.extensions["jiefen"].models["org"]
    with app.app_context():
        sibling = session(app).execute(select(case.id).join(org, org.id == case.current_org_id)
                                       .where(org.org_code == "YX-DEMO-E002")).scalars().first()
        session(app).remove()
    c = app.test_client()
    login(c, "registrar_t1s1")
    rows, files = len(file_rows(app)), stored(app)
    doc_type = next(iter(SPEC.enums[SPEC.entities["case_document"].fields["doc_type"].enum].values))
    resp = c.post(f"{view_url(app, 'case_document')}/add",
                  data={"dispute_case": str(sibling), "doc_type": doc_type, "title": "越权材料",
                        "doc_file": (io.BytesIO(PDF), "越权.pdf")}, content_type="multipart/form-data")
    assert resp.status_code in (200, 400, 404)
    assert len(file_rows(app)) == rows and stored(app) == files


def test_deleting_a_record_deletes_its_files(app: Flask) -> None:
    pk = _case_document(app)
    assert api_upload(app, "admin", "case_document", pk, "doc_file", (PDF, "待删.pdf")).status_code == 200
    key = column(app, "case_document", pk, "doc_file")
    path = Path(app.config["UPLOAD_DIR"]) / key
    assert path.is_file()
    assert app.test_client().delete(f"/api/v1/case_document/{pk}", headers=auth(app, "admin")).status_code == 200
    assert not path.exists() and not file_rows(app, key=key)


def test_one_of_several_files_can_be_removed(app: Flask) -> None:
    entity, field = "outreach_event", "photo_file"
    assert SPEC.entities[entity].fields[field].file_max_count > 1
    with app.app_context():
        pk = create_row(app, entity)
    assert api_upload(app, "admin", entity, pk, field, (JPEG, "一.jpg"), (JPEG, "二.jpg")).status_code == 200
    first, second = as_list(record(app, "admin", entity, pk).get_json()["result"][field])
    assert (first["name"], second["name"]) == ("一.jpg", "二.jpg")
    resp = app.test_client().delete(second["url"], headers=auth(app, "admin"))
    assert resp.status_code == 200
    assert [x["name"] for x in as_list(record(app, "admin", entity, pk).get_json()["result"][field])] == ["一.jpg"]
    assert app.test_client().get(second["url"], headers=auth(app, "admin")).status_code == 404
    # on the edit form: each file has a box to remove it
    c = app.test_client()
    login(c)
    url = view_url(app, entity)
    edit = c.get(f"{url}/edit/{pk}").get_data(as_text=True)
    assert f'name="{field}__remove" value="{first["id"]}"' in edit
    form = _edit_form_values(app, entity, pk)
    form[f"{field}__remove"] = str(first["id"])
    form[field] = (io.BytesIO(JPEG), "三.jpg")
    assert c.post(f"{url}/edit/{pk}", data=form, content_type="multipart/form-data").status_code == 302
    assert [x["name"] for x in as_list(record(app, "admin", entity, pk).get_json()["result"][field])] == ["三.jpg"]
    assert app.test_client().get(first["url"], headers=auth(app, "admin")).status_code == 404


def test_exports_name_the_files_not_their_keys(app: Flask) -> None:
    from openpyxl import load_workbook

    pk = _case_document(app)
    assert api_upload(app, "admin", "case_document", pk, "doc_file", (PDF, "导出文件名.pdf")).status_code == 200
    key = column(app, "case_document", pk, "doc_file")
    c = app.test_client()
    login(c)
    resp = c.get(f"{view_url(app, 'case_document')}/export")
    assert resp.status_code == 200
    cells = [str(v) for row in load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True) for v in row]
    assert "导出文件名.pdf" in cells and key not in cells
    # the PUT answer shows the file, not its key
    put = app.test_client().put(f"/api/v1/case_document/{pk}", json={"title": "改名"}, headers=auth(app, "admin"))
    assert put.status_code == 200 and key not in put.get_data(as_text=True)
    assert put.get_json()["result"]["doc_file"]["name"] == "导出文件名.pdf"


def test_staged_uploads_are_capped_per_user_and_purged_when_unused(app: Flask) -> None:
    import datetime as dt

    from app.files import service

    t = app.extensions["jiefen"].file_table.__table__
    with app.app_context():
        uid = app.appbuilder.sm.find_user(username="dispatcher").id
        engine = session(app).get_bind()
        with engine.begin() as conn:  # the cap's worth of staged files, one of them two days old
            conn.execute(t.insert(), [{"key": f"f/2026/01/{i:032x}.pdf", "entity": "case_document", "record_id": None,
                                       "field": "doc_file", "name": "x.pdf", "size": 1, "sha256": "0" * 64,
                                       "content_type": "application/pdf", "uploaded_by_id": uid,
                                       "uploaded_at": dt.datetime.now() - dt.timedelta(days=2 if i == 0 else 0)}
                                      for i in range(service.STAGED_MAX + 1)])
        session(app).remove()
    assert stage_via_api(app, "dispatcher", "case_document", "doc_file").status_code == 413
    result = app.test_cli_runner().invoke(args=["purge-files"])
    assert result.exit_code == 0 and "removed 1 staged" in result.output
    assert not file_rows(app, key=f"f/2026/01/{0:032x}.pdf")
    assert len([r for r in file_rows(app, uploaded_by_id=uid) if r["record_id"] is None]) == service.STAGED_MAX
    with app.app_context():
        with session(app).get_bind().begin() as conn:
            conn.execute(t.delete().where(t.c.uploaded_by_id == uid, t.c.record_id.is_(None)))
        session(app).remove()
