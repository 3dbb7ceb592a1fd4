"""Showing stored values to people, in their language, and masking personal data.

Pure Python (no Flask): list views, detail pages, exports and the access
layer call these with the language of the request.
"""

from __future__ import annotations

import datetime as _dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Mapping, Optional

__all__ = ["EMPTY", "format_value", "format_date", "format_datetime", "format_decimal", "pii_mask",
           "COMPOUND_SURNAMES"]

EMPTY = "—"  # U+2014, the same in zh and en
_YES_NO = {"zh": ("是", "否"), "en": ("Yes", "No")}
_CENT = Decimal("0.01")


def format_date(value: Any) -> str:
    """``YYYY-MM-DD`` (a datetime shows its date part; anything else as text)."""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return str(value)


def format_datetime(value: Any) -> str:
    """``YYYY-MM-DD HH:MM`` as stored (no time-zone conversion); a bare date shows as ``YYYY-MM-DD``."""
    if isinstance(value, _dt.datetime):
        return f"{format_date(value)} {value.hour:02d}:{value.minute:02d}"
    return format_date(value)


def format_decimal(value: Any) -> str:
    """Two decimals, thousands separators, halves rounded up (四舍五入): ``1,234,567.50``.

    Floats go through ``str`` first so 0.285 shows as 0.29, not 0.28.
    Anything that is not a number is shown as text.
    """
    if isinstance(value, bool):
        return str(value)
    try:
        num = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if not num.is_finite():
        return str(value)
    num = num.quantize(_CENT, rounding=ROUND_HALF_UP)
    if num == 0:
        num = abs(num)  # no "-0.00"
    return f"{num:,.2f}"


def format_value(field: Any, value: Any, lang: str = "zh",
                 enums: Optional[Mapping[str, Any]] = None) -> str:
    """``value`` of spec ``field`` as text for a reader of ``lang`` ("zh"/"en").

    None, "" and blanks → ``—``; boolean → 是/否 or Yes/No; enum key → its
    label from ``enums`` (``spec.enums``; an unknown key or enum is shown as
    is); date → ``YYYY-MM-DD``; datetime → ``YYYY-MM-DD HH:MM``; decimal →
    ``1,234.50``; ref/user → ``str(obj)``; everything else → ``str(value)``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return EMPTY
    ftype = getattr(field, "type", None)
    if ftype == "boolean":
        yes, no = _YES_NO["en" if lang == "en" else "zh"]
        return yes if value else no
    if ftype == "enum":
        enum = (enums or {}).get(getattr(field, "enum", None) or "")
        label = enum.values.get(str(value)) if enum is not None else None
        return label.get(lang) if label is not None else str(value)
    if ftype == "date":
        return format_date(value)
    if ftype == "datetime":
        return format_datetime(value)
    if ftype == "decimal":
        return format_decimal(value)
    return str(value)


# --------------------------------------------------------------------------- PII masking

# 复姓: a name starting with one of these keeps both characters (欧阳** not 欧***).
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 司空 夏侯 轩辕 令狐 钟离 澹台 公冶 "
    "太史 申屠 端木 独孤 南宫 西门 百里 呼延 闻人 万俟 赫连 拓跋 濮阳 淳于 单于 完颜 东郭 "
    "南门 羊舌 微生 梁丘 左丘 第五 公良 乐正 漆雕 壤驷 公西 亓官 司寇 仉督 子车 颛孙 巫马 谷梁".split())
_ALL = "******"


def _keep(value: str, head: int, tail: int) -> str:
    """``head`` and ``tail`` characters kept, the rest starred (length kept); all starred if too short."""
    n = len(value)
    if n <= head + tail:
        return "*" * n
    return value[:head] + "*" * (n - head - tail) + (value[n - tail:] if tail else "")


def pii_mask(kind: Optional[str], value: Any) -> str:
    """``value`` with the personal part hidden, by PII ``kind`` (the spec's ``pii:``).

    ================  =========================================  ==================
    kind              rule                                       example
    ================  =========================================  ==================
    id_number         first 4, last 4, length kept               4202**********1234
    phone             first 3, last 4, length kept               138****5678
    name              surname (复姓 both chars), one * per char  张*、欧阳**
    address           first 6 characters + ``****``              湖北省黄石市****
    bank_account      ``**** **** **** `` + last 4 digits        **** **** **** 1234
    email             first char + ``***@`` + domain             z***@example.com
    other kinds       ``******`` (health, biometric, minor, ...)
    ================  =========================================  ==================

    Empty (None, "" or blanks) gives "".  A value too short for its rule is
    starred whole rather than shown; unknown kinds get ``******``.
    """
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    if kind == "id_number":
        return _keep(text, 4, 4)
    if kind == "phone":
        return _keep(text, 3, 4)
    if kind == "name":
        if len(text) == 1:
            return "*"
        head = 2 if len(text) > 2 and text[:2] in COMPOUND_SURNAMES else 1
        return text[:head] + "*" * (len(text) - head)
    if kind == "address":
        return text[:min(6, len(text) // 2)] + "****"
    if kind == "bank_account":
        digits = "".join(text.split())
        return "**** **** **** " + (digits[-4:] if len(digits) > 4 else "****")
    if kind == "email":
        local, at, domain = text.rpartition("@")
        if not at or not domain:
            return _ALL
        return (local[:1] or "") + "***@" + domain
    return _ALL
