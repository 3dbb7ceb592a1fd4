"""Upload rules: read each uploaded file under its limits, type it by content, and keep quotas.

``Limits`` come from the YAML: a ``file`` field's ``accept`` / ``max_size_mb`` / ``max_files``
(``Limits.for_field``) or a checklist's ``uploads`` (``Limits.for_checklist``).  Every refusal is a
``Refused`` with the HTTP status to answer, raised before anything is stored:

* 413: a file over its size cap, more files than a request or a record may hold, a record's
  total over its cap, or a request whose Content-Length exceeds ``FILE_MAX_REQUEST_MB``;
* 415: content that is none of the accepted kinds (judged by its bytes, not its name);
* 400: an empty file, or no file where one is needed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from flask import current_app

from generator.spec import Checklist, Field

from . import kinds

MIB = 1024 * 1024


class Refused(Exception):
    """An upload refused before anything was stored; ``status`` is the HTTP answer."""

    def __init__(self, status: int, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.status, self.zh, self.en = status, zh, en

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Limits:
    kinds: tuple[str, ...]
    max_bytes: int                 # per file
    max_files: int                 # per record (per field for an entity's file field)
    max_total: Optional[int] = None  # bytes per record (None: max_files × max_bytes)
    per_request: Optional[int] = None

    @classmethod
    def for_field(cls, f: Field) -> "Limits":
        return cls(f.file_kinds, f.file_max_mb * MIB, f.file_max_count, None, f.file_max_count)

    @classmethod
    def for_checklist(cls, cl: Checklist) -> "Limits":
        up = cl.upload_limits
        return cls(tuple(up.accept), up.max_size_mb * MIB, up.max_files, up.max_total_mb * MIB,
                   up.max_files_per_request)

    @property
    def content_types(self) -> frozenset[str]:
        return kinds.content_types(self.kinds)


@dataclass(frozen=True)
class Upload:
    name: str           # the display name (kinds.display_name), never a path
    data: bytes
    content_type: str   # sniffed
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def kind(self) -> str:
        return kinds.kind_of(self.content_type) or "pdf"


def _mb(n: int) -> str:
    return f"{n / MIB:g}"


def request_cap() -> int:
    return int(current_app.config.get("FILE_MAX_REQUEST_MB") or 64) * MIB


def check_request_size(content_length: Optional[int]) -> None:
    cap = request_cap()
    if content_length is not None and content_length > cap:
        raise Refused(413, f"上传内容超过 {_mb(cap)} MB，未保存任何文件",
                      f"the upload is larger than {_mb(cap)} MB: nothing was stored")


def present(storages: Iterable[Any]) -> list[Any]:
    """The file inputs that carry a file (an input left empty posts a part with no name)."""
    return [fs for fs in storages if fs is not None and getattr(fs, "filename", None)]


def from_bytes(raw_name: Optional[str], data: bytes, limits: Limits) -> Upload:
    shown = (raw_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    if len(data) > limits.max_bytes:
        raise Refused(413, f"文件“{shown}”超过 {_mb(limits.max_bytes)} MB，未保存任何文件",
                      f"'{shown}' is larger than {_mb(limits.max_bytes)} MB: nothing was stored")
    if not data:
        raise Refused(400, f"文件“{shown}”是空的，未保存", f"'{shown}' is empty: nothing was stored")
    ctype = kinds.sniff(data[:16])
    if ctype is None or ctype not in limits.content_types:
        zh_kinds, en_kinds = kinds.describe(limits.kinds, "zh"), kinds.describe(limits.kinds, "en")
        raise Refused(415, f"文件“{shown}”不是{zh_kinds}（按文件内容判断，与扩展名无关），未保存",
                      f"'{shown}' is not a {en_kinds} by its content, whatever its name: nothing was stored")
    return Upload(kinds.display_name(raw_name, ctype), data, ctype, hashlib.sha256(data).hexdigest())


def read(fs: Any, limits: Limits) -> Upload:
    """Read one ``FileStorage`` under the cap (never more than cap + 1 bytes) and type it."""
    return from_bytes(fs.filename, fs.stream.read(limits.max_bytes + 1), limits)


def read_all(storages: Iterable[Any], limits: Limits) -> list[Upload]:
    """Every non-empty input of a request, after the per-request count (checked before reading)."""
    files = present(storages)
    if limits.per_request is not None and len(files) > limits.per_request:
        raise Refused(413, f"一次最多上传 {limits.per_request} 个文件，本次有 {len(files)} 个，未保存任何文件",
                      f"at most {limits.per_request} files per request, this one has {len(files)}: "
                      "nothing was stored")
    return [read(fs, limits) for fs in files]


def check_quota(limits: Limits, have_count: int, have_bytes: int, new: list[Upload]) -> None:
    """A record holding ``have_count`` files of ``have_bytes`` may take ``new`` (else 413)."""
    if have_count + len(new) > limits.max_files:
        raise Refused(413, f"每条记录最多保存 {limits.max_files} 个文件（已有 {have_count} 个，本次 {len(new)} 个），"
                           "未保存任何文件",
                      f"a record holds at most {limits.max_files} files ({have_count} stored, {len(new)} sent): "
                      "nothing was stored")
    total = have_bytes + sum(u.size for u in new)
    if limits.max_total is not None and total > limits.max_total:
        raise Refused(413, f"每条记录的文件合计不能超过 {_mb(limits.max_total)} MB，未保存任何文件",
                      f"a record's files may total at most {_mb(limits.max_total)} MB: nothing was stored")
