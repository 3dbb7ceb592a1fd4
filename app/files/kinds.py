"""What a file really is (from its first bytes) and the name it is shown under.  Pure Python.

Kinds are what the YAML names (``accept: [pdf, image]``): ``pdf`` is a PDF, ``image`` a JPEG, PNG or
WebP photo.  The type is decided by the content alone, never by the file name or the browser's
Content-Type: an HTML page renamed ``.jpg`` is not an image.

Display names keep what the uploader called the file (Chinese included) minus anything that could
mislead: any folder part (``../``, ``C:\\fakepath\\``), control and format characters (CR, LF, NUL,
bidirectional overrides), and an extension that does not match the content (``报告.html`` holding a
PDF is shown and downloaded as ``报告.pdf``).  The name never reaches the disk: storage keys are
random (app/files/storage.py).
"""

from __future__ import annotations

import unicodedata
from typing import Iterable, Optional

from generator.spec import FILE_KINDS, Label

KINDS: dict[str, tuple[str, ...]] = {
    "pdf": ("application/pdf",),
    "image": ("image/jpeg", "image/png", "image/webp"),
}
assert tuple(KINDS) == FILE_KINDS  # the YAML's choices are exactly what can be sniffed
EXTENSION = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
ALIASES = {"application/pdf": {"pdf"}, "image/jpeg": {"jpg", "jpeg", "jpe", "jfif"}, "image/png": {"png"},
           "image/webp": {"webp"}}
KIND_LABELS = {"pdf": Label("PDF 文件", "PDF"), "image": Label("照片（JPEG/PNG/WebP）", "photo (JPEG/PNG/WebP)")}
MAX_NAME = 200  # characters of the stem kept for display


def sniff(head: bytes) -> Optional[str]:
    """The content type the bytes really are (only the kinds above), else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def kind_of(content_type: str) -> Optional[str]:
    return next((k for k, types in KINDS.items() if content_type in types), None)


def content_types(kinds: Iterable[str]) -> frozenset[str]:
    return frozenset(t for k in kinds for t in KINDS.get(k, ()))


def describe(kinds: Iterable[str], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(KIND_LABELS[k].get(lang) for k in kinds if k in KIND_LABELS)


def accept_attribute(kinds: Iterable[str]) -> str:
    """The ``accept`` of an ``<input type=file>``: a hint for the browser's picker, not a check."""
    out: list[str] = []
    for t in sorted(content_types(kinds)):
        out += [t] + [f".{ext}" for ext in sorted(ALIASES[t])]
    return ",".join(out)


def display_name(raw: Optional[str], content_type: str) -> str:
    """The name a file is shown and downloaded under (see the module docstring)."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem.strip().lstrip(".").strip()[:MAX_NAME] or "file"
    if ext.lower() in ALIASES.get(content_type, ()):
        return f"{stem}.{ext}"
    return f"{stem}.{EXTENSION[content_type]}"
