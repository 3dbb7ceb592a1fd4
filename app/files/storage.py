"""Where file contents live, behind a small interface (``Backend``); the app asks ``backend()``.

Today one backend: ``LocalBackend``, a directory (``UPLOAD_DIR``, default ``<project>/var/uploads``)
that every app process on every host mounts (an NFS/SMB share or a volume), so a file written by
one worker is served by any other.  A write goes to a temporary name in the target directory, is
flushed to disk, then renamed (``os.replace``, atomic on POSIX and on NFS): a reader never sees
half a file.  ``FILE_STORAGE`` names the backend (``local``); an object store (S3 and the like)
is another class with the same five methods.

Keys are random (``f/2026/05/<32 hex>.pdf``; 五有 evidence ``ev/…``), made here and never from a
user's file name, and every key is checked against that shape before it becomes a path, so no key
can leave the storage.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import uuid
from pathlib import Path
from typing import BinaryIO, Optional, Protocol

from flask import current_app

from .kinds import EXTENSION

KEY = re.compile(r"^(ev|f)/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|webp|pdf)$")


class Backend(Protocol):
    def write(self, key: str, data: bytes) -> None: ...

    def open(self, key: str) -> BinaryIO: ...  # FileNotFoundError when absent

    def exists(self, key: str) -> bool: ...

    def remove(self, key: str) -> None: ...  # absent is fine

    def describe(self) -> str: ...


def valid_key(key: Optional[str]) -> bool:
    return bool(key) and KEY.match(key or "") is not None


def new_key(content_type: str, prefix: str = "f", today: Optional[_dt.date] = None) -> str:
    today = today or _dt.date.today()
    return f"{prefix}/{today:%Y}/{today:%m}/{uuid.uuid4().hex}.{EXTENSION[content_type]}"


class LocalBackend:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not valid_key(key):
            raise FileNotFoundError(key)
        return self.root / key

    def write(self, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()

    def open(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except FileNotFoundError:
            return False

    def remove(self, key: str) -> None:
        try:
            self.path(key).unlink()
        except (FileNotFoundError, OSError):
            pass

    def describe(self) -> str:
        return f"local:{self.root}"


def upload_dir() -> Path:
    configured = current_app.config.get("UPLOAD_DIR") or os.environ.get("UPLOAD_DIR")
    if configured:
        return Path(configured)
    from app.settings import VAR

    return VAR / "uploads"


def backend() -> Backend:
    kind = (current_app.config.get("FILE_STORAGE") or os.environ.get("FILE_STORAGE") or "local").lower()
    if kind == "local":
        return LocalBackend(upload_dir())
    raise RuntimeError(f"未知的文件存储 FILE_STORAGE={kind!r} / unknown file storage {kind!r} (local)")
