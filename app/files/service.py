"""The file service: every stored file goes in and out through here.

Storing a file is part of the record's transaction, so nothing is ever half-written:

1. ``stage(session, upload, entity, field, obj=None)`` (after ``rules`` accepted the upload) keeps the
   bytes in the session and returns a fresh random storage key; the caller sets that key on the
   record's ``file`` column.  Nothing is written yet.
2. At the flush, listeners on the session (``install``) bind every key newly set on a ``file`` column
   (and every upload staged for a known record): ``before_flush`` checks that the key is one this
   session staged, or a staged upload of the same user for the same entity and field (the REST API's
   two-step create), and nothing else — no record can point at another record's file;
   ``after_flush`` inserts its ``jf_file`` row (record id known by then), writes the bytes to the
   storage and appends an ``upload`` audit row, all inside the record's transaction.  A single-file
   field drops the file it replaced; a deleted record drops its files.
3. If the transaction commits, files whose rows went are removed from the storage; if it does not
   (a refusal after the flush, a database error, a rollback), every file written during it is
   removed, so the storage holds exactly the files the database names.

A file written but not committed because the process died is an orphan on disk that no row names:
harmless, never served.  ``send`` serves a stored file as an attachment under its display name
(RFC 5987 ``filename*`` for Chinese), never sniffable, never cached; every download and every
refused download is audited (``audit_download``).
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence
from urllib.parse import quote

from flask import current_app, g, has_app_context, has_request_context, send_file
from sqlalchemy import delete, event, func, insert, inspect, select, update
from sqlalchemy.orm import Session, attributes

from app.access.rules import AccessRefused
from app.audit import log as audit

from . import rules, storage
from .rules import Limits, Upload

log = logging.getLogger(__name__)

PENDING = "jf_files_pending"    # key -> Pending: staged in this session, not written yet
WRITTEN = "jf_files_written"    # keys written during this transaction: removed unless it commits
OBSOLETE = "jf_files_obsolete"  # keys whose rows went in this transaction: removed once it commits
CLAIMS = "jf_files_claims"      # between before_flush and after_flush
GONE = "jf_files_gone"          # records deleted by this flush
STAGED_FOR = _dt.timedelta(days=1)  # a staged REST upload must be named by a record within a day
STAGED_MAX = 20  # staged uploads no record names yet, per user at a time
INTERNAL = Limits(("pdf", "image"), 50 * rules.MIB, 1000)  # for code that stores files itself (demo, tests)

UNKNOWN_KEY = ("文件标识无效：请先上传文件，再用返回的 token 保存记录 / unknown file token: upload the file first "
               "and save the record with the token it returned")
FOREIGN_KEY = "该文件属于其他记录或其他字段，不能引用 / the file belongs to another record or field"


class FileRefused(AccessRefused):
    """A write that names a file it may not (unknown, someone else's, another record's), or goes over a
    quota found only at the flush.  An ``AccessRefused``: the screens and the API answer it as a refused
    write (and the refusal is audited), after the transaction was rolled back."""

    def __init__(self, message: str, status: int = 422, entity: Optional[str] = None, record_id: Any = None) -> None:
        super().__init__(message, status, entity, record_id)


@dataclass
class Pending:
    upload: Upload
    entity: str
    field: str
    user_id: Optional[int]
    obj: Any = None  # the record it is for, when the caller knows it


@dataclass
class Claim:
    obj: Any
    entity: str
    field: Any  # the spec Field
    key: str
    pending: Optional[Pending]


# ------------------------------------------------------------------ who, where

def _user_id() -> Optional[int]:
    if not has_request_context():
        return None
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        try:
            user = current_app.appbuilder.sm.current_user
        except Exception:  # noqa: BLE001 - no JWT in this request
            user = None
    return getattr(user, "id", None) if user is not None and getattr(user, "is_authenticated", False) else None


def _real(session: Any) -> Session:
    """The ``Session`` behind Flask-SQLAlchemy's scoped session (its ``info`` is per session)."""
    return session if isinstance(session, Session) else session()


def _now() -> _dt.datetime:
    return _dt.datetime.now().replace(microsecond=0)


class _Plan:
    """Per registry: which models have file fields, and the tables."""

    def __init__(self, reg: Any) -> None:
        self.spec = reg.spec
        self.table = reg.file_table.__table__
        self.audit_table = reg.audit_log.__table__
        self.models: dict[type, tuple[str, list[Any]]] = {}
        for name, cls in reg.models.items():
            fields = [f for f in reg.spec.entities[name].fields.values() if f.type == "file"]
            if fields:
                self.models[cls] = (name, fields)


_plans: dict[int, _Plan] = {}


def _plan() -> Optional[_Plan]:
    if not has_app_context():
        return None
    reg = current_app.extensions.get("jiefen")
    if reg is None or getattr(reg, "file_table", None) is None:
        return None
    plan = _plans.get(id(reg))  # registries live for the process: ids are not reused
    if plan is None:
        plan = _plans[id(reg)] = _Plan(reg)
    return plan


def table() -> Any:
    return current_app.extensions["jiefen"].file_table.__table__


def spec_field(entity: str, field: str) -> Any:
    ent = current_app.extensions["jiefen"].spec.entities.get(entity)
    f = ent.fields.get(field) if ent is not None else None
    return f if f is not None and f.type == "file" else None


# ------------------------------------------------------------------ staging

def stage(session: Any, upload: Upload, entity: str, field: str, obj: Any = None, prefix: str = "f",
          key: Optional[str] = None) -> str:
    """Keep ``upload`` for ``entity.field`` (of ``obj`` when known) until the flush; the new key
    (random; ``key`` gives a fixed one of the same shape, for deterministic demo data)."""
    if key is not None and not storage.valid_key(key):
        raise ValueError(f"not a storage key: {key!r}")
    key = key or storage.new_key(upload.content_type, prefix)
    _real(session).info.setdefault(PENDING, {})[key] = Pending(upload, entity, field, _user_id(), obj)
    return key


def stage_bytes(session: Any, entity: str, field: str, name: str, data: bytes, obj: Any = None,
                prefix: str = "f", key: Optional[str] = None) -> str:
    """``stage`` for code that has the bytes (demo data, tests): typed by content like any upload."""
    f = spec_field(entity, field) if has_app_context() else None
    limits = Limits.for_field(f) if f is not None and not f.readonly else INTERNAL
    return stage(session, rules.from_bytes(name, data, limits), entity, field, obj, prefix, key)


def stage_detached(upload: Upload, entity: str, field: str) -> dict[str, Any]:
    """A staged upload committed on its own (the REST API's first step): written, with a ``jf_file`` row
    that no record names yet.  Its key is the token a JSON create or update then names.  A user holds
    at most ``STAGED_MAX`` of them within a day (413 beyond); ``flask purge-files`` drops older ones."""
    t = table()
    waiting = current_app.appbuilder.sm.session.execute(select(func.count()).select_from(t).where(
        t.c.record_id.is_(None), t.c.uploaded_by_id == _user_id(), t.c.uploaded_at >= _now() - STAGED_FOR)).scalar_one()
    if waiting >= STAGED_MAX:
        raise rules.Refused(413, f"已有 {waiting} 个上传的文件尚未保存到记录中，请先使用它们或稍后再试",
                            f"{waiting} uploaded files wait for a record: use them first, or try again later")
    key = storage.new_key(upload.content_type)
    be = storage.backend()
    be.write(key, upload.data)
    try:
        engine = current_app.appbuilder.sm.session.get_bind()
        with engine.begin() as conn:
            conn.execute(insert(table()).values(
                key=key, entity=entity, record_id=None, field=field, name=upload.name, size=upload.size,
                sha256=upload.sha256, content_type=upload.content_type, uploaded_by_id=_user_id(),
                uploaded_at=_now()))
            audit.record_in(conn, "upload", entity=entity, detail=f"{field}: {upload.name} "
                            f"({upload.size} B, sha256 {upload.sha256[:16]}); staged",
                            table=current_app.extensions["jiefen"].audit_log.__table__)
    except Exception:
        be.remove(key)
        raise
    return {"token": key, "name": upload.name, "size": upload.size, "content_type": upload.content_type}


def unlink(session: Any, entity: str, record_id: int, field: str, file_ids: Iterable[int]) -> list[str]:
    """Drop some files of a record's field inside the session's transaction (their bytes go once it
    commits); the keys that remain, oldest first."""
    s = _real(session)
    t = table()
    conn = s.connection()
    ids = [int(i) for i in file_ids]
    where = (t.c.entity == entity, t.c.record_id == record_id, t.c.field == field)
    if ids:
        gone = conn.execute(select(t.c.key, t.c.name).where(*where, t.c.id.in_(ids))).all()
        if gone:
            conn.execute(delete(t).where(*where, t.c.id.in_(ids)))
            s.info.setdefault(OBSOLETE, []).extend(k for k, _n in gone)
            audit.record_many_in(conn, [{"event": "file_delete", "entity": entity, "record_id": record_id,
                                         "detail": f"{field}: {name}"} for _k, name in gone],
                                 table=current_app.extensions["jiefen"].audit_log.__table__)
    return list(conn.execute(select(t.c.key).where(*where).order_by(t.c.id)).scalars())


# ------------------------------------------------------------------ the flush listeners

def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    plan = _plan()
    if plan is None:
        return
    pending: dict[str, Pending] = session.info.get(PENDING) or {}
    claims: list[Claim] = []
    seen: set[str] = set()
    for key, p in list(pending.items()):  # uploads staged for a known record (several per field)
        if p.obj is not None and p.obj in session and p.obj not in session.deleted:
            spec = plan.models.get(type(p.obj))
            f = next((x for x in spec[1] if x.name == p.field), None) if spec else None
            if f is None or spec[0] != p.entity:
                raise FileRefused(FOREIGN_KEY, 422, p.entity)
            claims.append(Claim(p.obj, p.entity, f, key, p))
            seen.add(key)
    for obj in list(session.new) + list(session.dirty):
        spec = plan.models.get(type(obj))
        if spec is None:
            continue
        entity, fields = spec
        for f in fields:
            hist = attributes.get_history(obj, f.name)
            for key in hist.added or ():
                if not key or key in seen or key in (hist.unchanged or ()):
                    continue
                seen.add(key)
                claim = _claim(session, plan, obj, entity, f, key, pending)
                if claim is not None:
                    claims.append(claim)
    session.info[CLAIMS] = claims
    session.info[GONE] = [(plan.models[type(o)][0], o) for o in session.deleted if type(o) in plan.models]


def _claim(session: Session, plan: _Plan, obj: Any, entity: str, f: Any, key: str,
           pending: dict[str, Pending]) -> Optional[Claim]:
    p = pending.get(key)
    if p is not None:
        if (p.entity, p.field) != (entity, f.name):
            raise FileRefused(FOREIGN_KEY, 422, entity)
        return Claim(obj, entity, f, key, p)
    t = plan.table
    row = session.connection().execute(select(t).where(t.c.key == str(key))).first()
    if row is None or (row.entity, row.field) != (entity, f.name):
        raise FileRefused(UNKNOWN_KEY if row is None else FOREIGN_KEY, 422, entity)
    if row.record_id is None:  # staged through the REST API: by this user, recently
        if has_request_context() and row.uploaded_by_id != _user_id():
            raise FileRefused(UNKNOWN_KEY, 422, entity)
        if row.uploaded_at < _now() - STAGED_FOR:
            raise FileRefused(UNKNOWN_KEY, 422, entity)
        return Claim(obj, entity, f, key, None)
    if obj in session.new or row.record_id != getattr(obj, "id", None):
        raise FileRefused(FOREIGN_KEY, 422, entity)
    return None  # the record's own file, set again


def _pk(obj: Any) -> Any:
    return inspect(obj).mapper.primary_key_from_instance(obj)[0]


def _after_flush(session: Session, flush_context: Any) -> None:
    claims: list[Claim] = session.info.pop(CLAIMS, [])
    gone = session.info.pop(GONE, [])
    if not claims and not gone:
        return
    plan = _plan()
    if plan is None:
        return
    t = plan.table
    conn = session.connection()
    be = storage.backend()
    pending: dict[str, Pending] = session.info.get(PENDING) or {}
    written: list[str] = session.info.setdefault(WRITTEN, [])
    obsolete: list[str] = session.info.setdefault(OBSOLETE, [])
    rows: list[dict[str, Any]] = []
    for c in claims:
        rid = _pk(c.obj)
        if c.pending is not None:
            up = c.pending.upload
            conn.execute(insert(t).values(key=c.key, entity=c.entity, record_id=rid, field=c.field.name,
                                          name=up.name, size=up.size, sha256=up.sha256,
                                          content_type=up.content_type, uploaded_by_id=c.pending.user_id,
                                          uploaded_at=_now()))
            written.append(c.key)  # before the write: a failed write leaves no partial file either
            be.write(c.key, up.data)
            pending.pop(c.key, None)
            name, size, sha = up.name, up.size, up.sha256
        else:
            done = conn.execute(update(t).where(t.c.key == c.key, t.c.record_id.is_(None)).values(record_id=rid))
            if done.rowcount != 1:
                raise FileRefused(UNKNOWN_KEY, 422, c.entity, rid)
            name, size, sha = conn.execute(select(t.c.name, t.c.size, t.c.sha256).where(t.c.key == c.key)).one()
        rows.append({"event": "upload", "entity": c.entity, "record_id": rid,
                     "detail": f"{c.field.name}: {name} ({size} B, sha256 {sha[:16]})"})
        mine = (t.c.entity == c.entity, t.c.record_id == rid, t.c.field == c.field.name)
        if c.field.file_max_count == 1:  # the new file replaces the old one
            old = conn.execute(select(t.c.key, t.c.name).where(*mine, t.c.key != c.key)).all()
            if old:
                conn.execute(delete(t).where(*mine, t.c.key != c.key))
                obsolete.extend(k for k, _n in old)
                rows += [{"event": "file_delete", "entity": c.entity, "record_id": rid,
                          "detail": f"{c.field.name}: {n} (replaced by {name})"} for _k, n in old]
        else:
            count = conn.execute(select(func.count()).select_from(t).where(*mine)).scalar_one()
            if count > c.field.file_max_count:
                raise FileRefused(f"“{c.field.label.zh}”最多保存 {c.field.file_max_count} 个文件 / "
                                  f"'{c.field.label.en}' holds at most {c.field.file_max_count} files", 413,
                                  c.entity, rid)
    for entity, obj in gone:
        rid = _pk(obj)
        keys = list(conn.execute(select(t.c.key).where(t.c.entity == entity, t.c.record_id == rid)).scalars())
        if keys:
            conn.execute(delete(t).where(t.c.entity == entity, t.c.record_id == rid))
            obsolete.extend(keys)
    if rows:
        audit.record_many_in(conn, rows, table=plan.audit_table)


def _after_commit(session: Session) -> None:
    session.info.pop(WRITTEN, None)
    session.info.pop(PENDING, None)
    obsolete = session.info.pop(OBSOLETE, None)
    if obsolete and has_app_context():
        be = storage.backend()
        for key in obsolete:
            be.remove(key)


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is not None:  # a savepoint or subtransaction: the outer one decides
        return
    written = session.info.pop(WRITTEN, None)
    for k in (PENDING, OBSOLETE, CLAIMS, GONE):
        session.info.pop(k, None)
    if written and has_app_context():
        be = storage.backend()
        for key in written:
            be.remove(key)


_LISTENERS = (("before_flush", _before_flush), ("after_flush", _after_flush), ("after_commit", _after_commit),
              ("after_transaction_end", _after_transaction_end))


def install(session_factory: Any) -> None:
    """Listen on the session class behind Flask-SQLAlchemy's scoped session (once per class)."""
    from app.audit.listener import session_class

    target = session_class(session_factory)
    for name, fn in _LISTENERS:
        if not event.contains(target, name, fn):
            event.listen(target, name, fn)


def purge(session: Any, now: Optional[_dt.datetime] = None) -> tuple[int, int]:
    """Drop staged uploads no record named within ``STAGED_FOR``, and files whose record is gone (a
    database cascade deleted it, out of the ORM's sight); their bytes go after the commit.
    ``(staged, orphaned)`` counts."""
    s = _real(session)
    reg = current_app.extensions["jiefen"]
    t = reg.file_table.__table__
    conn = s.connection()
    stale = list(conn.execute(select(t.c.key).where(
        t.c.record_id.is_(None), t.c.uploaded_at < (now or _now()) - STAGED_FOR)).scalars())
    orphans: list[str] = []
    for name, model in reg.models.items():
        if any(f.type == "file" for f in reg.spec.entities[name].fields.values()):
            orphans += conn.execute(select(t.c.key).where(
                t.c.entity == name, t.c.record_id.is_not(None),
                t.c.record_id.not_in(select(model.__table__.c.id)))).scalars().all()
    keys = stale + orphans
    if keys:
        conn.execute(delete(t).where(t.c.key.in_(keys)))
        s.info.setdefault(OBSOLETE, []).extend(keys)
    s.commit()
    return len(stale), len(orphans)


# ------------------------------------------------------------------ reading

def rows_of(session: Any, entity: str, record_ids: Sequence[Any], fields: Optional[Iterable[str]] = None) -> list[Any]:
    """The stored files of some records, oldest first."""
    ids = [int(i) for i in record_ids if i is not None]
    if not ids:
        return []
    t = table()
    q = select(t).where(t.c.entity == entity, t.c.record_id.in_(ids))
    if fields is not None:
        q = q.where(t.c.field.in_(list(fields)))
    return list(_real(session).execute(q.order_by(t.c.id)).all())


def row_by_key(session: Any, key: Any) -> Any:
    if not key:
        return None
    t = table()
    return _real(session).execute(select(t).where(t.c.key == str(key))).first()


def usage(session: Any, entity: str, record_id: Any, field: str) -> tuple[int, int]:
    """(files, bytes) a record's field holds."""
    if record_id is None:
        return 0, 0
    t = table()
    n, size = _real(session).execute(select(func.count(), func.coalesce(func.sum(t.c.size), 0)).where(
        t.c.entity == entity, t.c.record_id == int(record_id), t.c.field == field)).one()
    return int(n), int(size)


def send(row: Any) -> Any:
    """The stored file as an attachment under its display name (FileNotFoundError when missing)."""
    fh = storage.backend().open(row.key)
    name = row.name or "file"
    resp = send_file(fh, mimetype=row.content_type or "application/octet-stream", as_attachment=True,
                     download_name=name, max_age=0, conditional=False, etag=False)
    ascii_name = "".join(c if c.isascii() and c not in '"\\;' and c.isprintable() else "_" for c in name)
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


def audit_download(entity: Optional[str], record_id: Any, detail: str, outcome: str = "ok") -> None:
    """One ``download`` row, committed now (a refused download is audited too)."""
    try:
        audit.record("download", entity=entity, record_id=record_id, detail=detail[:500], outcome=outcome)
    except Exception:  # noqa: BLE001 - the answer must not fail because the audit write did
        log.exception("download not audited: %s %s", entity, record_id)


def audit_refused_upload(entity: Optional[str], record_id: Any, field: str, exc: rules.Refused) -> None:
    try:
        audit.record("upload", entity=entity, record_id=record_id, outcome="denied",
                     detail=f"{field}: HTTP {exc.status} {exc.en}"[:500])
    except Exception:  # noqa: BLE001
        log.exception("refused upload not audited: %s %s", entity, record_id)
