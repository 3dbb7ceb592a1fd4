"""Small valid files for upload tests, and a way to give a record a file without a request."""

from __future__ import annotations

import base64
from typing import Any

from generator.spec import Field

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////"
    "////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=")
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def sample(f: Field) -> tuple[bytes, str, str]:
    """(content, Chinese display name, content type) of a file the field accepts."""
    if "pdf" in f.file_kinds:
        return PDF, f"{f.label.zh}（测试）.pdf", "application/pdf"
    return JPEG, f"{f.label.zh}（测试）.jpg", "image/jpeg"


def oversized(f: Field) -> tuple[bytes, str]:
    """A file of an accepted type one byte over the field's cap."""
    data, name, _ = sample(f)
    cap = f.file_max_mb * 1024 * 1024
    return data + bytes(cap + 1 - len(data)), name


def stage(session: Any, entity: str, field: str, data: bytes = PDF, name: str = "测试文件.pdf") -> str:
    """A file staged for ``entity.field`` in ``session``: set the returned key on a record and flush."""
    from app.files import service

    return service.stage_bytes(session, entity, field, name, data)
