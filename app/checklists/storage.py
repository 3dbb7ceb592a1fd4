"""Evidence files: size-capped, typed by their content, stored where every app process sees them.

* ``UPLOAD_DIR`` (setting or environment; default ``<project>/var/uploads``) is a directory every
  app process on every host mounts (NFS/SMB share, or a volume): a file written by one worker is
  served by any other.  Files are written to a temporary name in the target directory and then
  renamed (``os.replace``, atomic on POSIX and on NFS), so a reader never sees half a file.
* ``EVIDENCE_MAX_BYTES`` (default 10 MiB) caps each file; a larger one is refused with 413 before
  anything is written.  A request larger than ``EVIDENCE_MAX_REQUEST_BYTES`` is refused from its
  Content-Length alone.
* The type is decided by the first bytes (JPEG, PNG, WebP, PDF), never by the name or the
  browser's Content-Type: an ``.html`` renamed ``.jpg`` is refused (415).
* Keys are random (``ev/2026/05/<32 hex>.jpg``), never derived from the user's file name, and
  every key is validated before it becomes a path, so no key can leave ``UPLOAD_DIR``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from flask import current_app

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REQUEST = 64 * 1024 * 1024
TYPES = {  # content type -> (extension, evidence kind)
    "image/jpeg": ("jpg", "photo"),
    "image/png": ("png", "photo"),
    "image/webp": ("webp", "photo"),
    "application/pdf": ("pdf", "document"),
}
_KEY = re.compile(r"^ev/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|webp|pdf)$")


class Rejected(Exception):
    """An upload refused before anything was stored; ``status`` is the HTTP answer."""

    def __init__(self, status: int, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.status, self.zh, self.en = status, zh, en


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    content_type: str
    sha256: str

    @property
    def kind(self) -> str:
        return TYPES[self.content_type][1]


def sniff(head: bytes) -> Optional[str]:
    """The content type the bytes really are (only the accepted ones), else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def upload_dir() -> Path:
    configured = current_app.config.get("UPLOAD_DIR") or os.environ.get("UPLOAD_DIR")
    if configured:
        return Path(configured)
    from ..settings import VAR

    return VAR / "uploads"


def max_bytes() -> int:
    return int(current_app.config.get("EVIDENCE_MAX_BYTES") or DEFAULT_MAX_BYTES)


def check_request_size(content_length: Optional[int]) -> None:
    cap = int(current_app.config.get("EVIDENCE_MAX_REQUEST_BYTES") or DEFAULT_MAX_REQUEST)
    if content_length is not None and content_length > cap:
        raise Rejected(413, f"上传内容超过 {cap // (1024 * 1024)} MB，未保存任何文件",
                       f"the upload is larger than {cap // (1024 * 1024)} MB: nothing was stored")


def read(fs: Any) -> Optional[Upload]:
    """Read one ``FileStorage`` under the cap and type it; None for an empty file input."""
    name = os.path.basename((fs.filename or "").replace("\\", "/")).strip()
    if not name:
        return None
    cap = max_bytes()
    data = fs.stream.read(cap + 1)
    if len(data) > cap:
        raise Rejected(413, f"文件“{name}”超过 {cap // (1024 * 1024)} MB，未保存任何文件",
                       f"'{name}' is larger than {cap // (1024 * 1024)} MB: nothing was stored")
    if not data:
        raise Rejected(400, f"文件“{name}”是空的", f"'{name}' is empty")
    ctype = sniff(data[:16])
    if ctype is None:
        raise Rejected(415, f"文件“{name}”不是照片（JPEG/PNG/WebP）或 PDF 文件（按文件内容判断，与扩展名无关），未保存",
                       f"'{name}' is not a photo (JPEG/PNG/WebP) or a PDF by its content, whatever its name: "
                       "nothing was stored")
    return Upload(name[:255], data, ctype, hashlib.sha256(data).hexdigest())


def new_key(content_type: str, today: Optional[_dt.date] = None) -> str:
    today = today or _dt.date.today()
    return f"ev/{today:%Y}/{today:%m}/{uuid.uuid4().hex}.{TYPES[content_type][0]}"


def path_of(key: str) -> Path:
    if not _KEY.match(key or ""):
        raise FileNotFoundError(key)
    return upload_dir() / key


def write(key: str, data: bytes) -> Path:
    """Write atomically: a temporary file in the same directory, fsync, rename."""
    target = path_of(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target


def remove(key: str) -> None:
    try:
        path_of(key).unlink()
    except (FileNotFoundError, OSError):
        pass
