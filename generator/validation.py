"""Value checks for spec fields: Chinese ID numbers, credit codes, phones, mails, URLs.

Pure Python, no Flask: the form layer (``app/access/validation.py``), the API
layer and imports all call :func:`field_problems`, so a value is judged the
same way everywhere and every message is written once, here, in both
languages.

The ``check_*`` functions answer yes/no; ``field_problems`` says what is
wrong, in words a clerk at a mediation station can act on.  All regular
expressions here are ASCII-only (``\\d`` would also accept full-width and
other Unicode digits).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit

__all__ = [
    "MESSAGES", "message", "is_empty", "normalise_text", "control_problem",
    "id_card_problem", "check_id_card", "id_card_check_char",
    "uscc_problem", "check_uscc", "uscc_check_char", "USCC_CHARSET",
    "check_mobile", "check_phone", "check_email", "check_url",
    "field_problems",
]

# --------------------------------------------------------------------------- messages

# code -> (zh, en); ``str.format`` placeholders are filled by ``message``.
MESSAGES: Mapping[str, tuple[str, str]] = {
    "required": ("此项为必填项", "This field is required"),
    "max_length": ("长度不能超过 {n} 个字符", "Must be at most {n} characters"),
    "min_length": ("长度不能少于 {n} 个字符", "Must be at least {n} characters"),
    "min": ("不能小于 {n}", "Must be at least {n}"),
    "max": ("不能大于 {n}", "Must be at most {n}"),
    "not_integer": ("请输入整数", "Must be a whole number"),
    "not_number": ("请输入数字", "Must be a number"),
    "pattern": ("格式不符合要求", "Does not match the required format"),
    "bad_choice": ("不是有效的选项", "Not a valid choice"),
    "id_card_shape": ("身份证号码应为18位，前17位为数字，最后一位为数字或X",
                      "ID number must be 18 characters: 17 digits, then a digit or X"),
    "id_card_legacy": ("不支持15位旧身份证号码，请填写18位号码",
                       "15-digit legacy ID numbers are not accepted; enter the 18-digit number"),
    "id_card_birth": ("身份证号码中的出生日期无效", "ID number contains an invalid birth date"),
    "id_card_check": ("身份证号码校验位不正确", "ID number check digit is wrong"),
    "uscc_shape": ("统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）",
                   "Unified social credit code must be 18 digits or capital letters (no I, O, Z, S, V)"),
    "uscc_lowercase": ("统一社会信用代码中的字母须大写", "Letters in the unified social credit code must be capitals"),
    "uscc_check": ("统一社会信用代码校验位不正确", "Unified social credit code check character is wrong"),
    "mobile": ("手机号码格式不正确（应为11位，以1开头）", "Mobile number must be 11 digits starting with 1"),
    "phone": ("电话号码格式不正确（手机号，或带区号的固定电话如 0714-1234567）",
              "Phone number is not valid (a mobile number, or a landline with area code such as 0714-1234567)"),
    "email": ("电子邮箱格式不正确", "Email address is not valid"),
    "url": ("网址格式不正确（应以 http:// 或 https:// 开头）", "URL must start with http:// or https://"),
    "control_chars": ("含有不可见的控制字符，请删除后重新输入",
                      "Contains invisible control characters; remove them and enter it again"),
    "line_break": ("此项只能填一行，不能换行", "Must be a single line (no line breaks)"),
}


def message(code: str, lang: str = "zh", **params: Any) -> str:
    """The user-facing text of ``code`` in ``lang`` ("en", anything else means Chinese)."""
    zh, en = MESSAGES[code]
    return (en if lang == "en" else zh).format(**params)


def is_empty(value: Any) -> bool:
    """None, "" and whitespace-only strings count as "not filled in"; False and 0 are values."""
    return value is None or (isinstance(value, str) and not value.strip())


# --------------------------------------------------------------------------- text hygiene

# C0 controls other than tab/newline/carriage return, DEL, C1 controls, and the invisible
# direction overrides that make text read differently from how it is stored (U+202A–U+202E,
# U+2066–U+2069).  Tab and line breaks are text only in multi-line (``text``) fields.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile("[\t\n\r\u2028\u2029]")


def normalise_text(value: Any) -> Any:
    """Text as stored: Unicode NFC (``e`` + combining accent = ``é``), surrounding blanks trimmed.
    Anything that is not a string is returned unchanged."""
    import unicodedata

    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFC", value).strip()


def control_problem(field_type: str, value: Any) -> Optional[str]:
    """The message code for a string holding control characters (None when clean)."""
    if not isinstance(value, str):
        return None
    if _CONTROL.search(value):
        return "control_chars"
    if field_type != "text" and _LINE_BREAK.search(value):
        return "line_break"
    return None


# --------------------------------------------------------------------------- 居民身份证 GB 11643-1999

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9Xx]")
_ID_LEGACY = re.compile(r"[0-9]{15}")


def id_card_check_char(first17: str) -> str:
    """The check character (``0``-``9`` or ``X``) of the 17 leading digits (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 ASCII digits")
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def id_card_problem(value: Any, today: Optional[_dt.date] = None) -> Optional[str]:
    """What is wrong with an ID number, as a message code, or None when it is valid.

    Codes: ``id_card_legacy`` (15 digits), ``id_card_shape``, ``id_card_birth``,
    ``id_card_check``.  ``today`` is for tests; it defaults to the current date.
    """
    if not isinstance(value, str):
        return "id_card_shape"
    if _ID_LEGACY.fullmatch(value):
        return "id_card_legacy"
    if not _ID_SHAPE.fullmatch(value):
        return "id_card_shape"
    try:
        birth = _dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "id_card_birth"
    if birth.year < 1900 or birth > (today or _dt.date.today()):
        return "id_card_birth"
    if id_card_check_char(value[:17]) != value[17].upper():
        return "id_card_check"
    return None


def check_id_card(value: Any, today: Optional[_dt.date] = None) -> bool:
    """Is ``value`` a valid 18-character 居民身份证号码 (GB 11643-1999)?

    Layout: 6-digit address code, 8-digit birth date ``YYYYMMDD``, 3-digit
    sequence number, check character.  The check character is
    ``"10X98765432"[sum(d_i * w_i) mod 11]`` with the ISO 7064 MOD 11-2
    weights; a lower-case ``x`` is accepted.  The birth date must be a real
    calendar date, not in the future and not before 1900.

    15-digit numbers (the pre-1999 format: two-digit year, no check
    character) are rejected: they carry no check digit, so typing errors
    cannot be caught; every such card was replaced by an 18-digit one
    (the old cards stopped being valid on 2013-01-01), so the people we serve
    have an 18-digit number to give.
    """
    return id_card_problem(value, today) is None


# --------------------------------------------------------------------------- 统一社会信用代码 GB 32100-2015

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_INDEX = {c: i for i, c in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """The check character of the 17 leading characters of a credit code."""
    if len(first17) != 17 or any(c not in _USCC_INDEX for c in first17):
        raise ValueError("need exactly 17 characters from " + USCC_CHARSET)
    code = 31 - sum(_USCC_INDEX[c] * w for c, w in zip(first17, _USCC_WEIGHTS)) % 31
    return USCC_CHARSET[0 if code == 31 else code]


def uscc_problem(value: Any) -> Optional[str]:
    """What is wrong with a credit code, as a message code (``uscc_shape``,
    ``uscc_lowercase``, ``uscc_check``), or None when it is valid."""
    if not isinstance(value, str) or len(value) != 18:
        return "uscc_shape"
    if any(c not in _USCC_INDEX for c in value):
        if value != value.upper() and all(c in _USCC_INDEX for c in value.upper()):
            return "uscc_lowercase"
        return "uscc_shape"
    if uscc_check_char(value[:17]) != value[17]:
        return "uscc_check"
    return None


def check_uscc(value: Any) -> bool:
    """Is ``value`` a valid 18-character 统一社会信用代码 (GB 32100-2015)?

    Characters come from ``0-9`` and the capitals without I, O, Z, S, V (31
    in all, each worth its position in :data:`USCC_CHARSET`).  The check
    character is ``31 - (sum(c_i * w_i) mod 31)``, with 31 meaning ``0``.
    Lower-case letters are rejected (the code is printed in capitals; the
    message asks for capitals rather than calling the code wrong).
    """
    return uscc_problem(value) is None


# --------------------------------------------------------------------------- phones, mail, web

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Landline: area code 0 + 2 or 3 digits (010, 027, 0714), optional "-" or
# space, a 7- or 8-digit local number not starting with 0; or a 400/800
# service number; then an optional extension ("-801", "转801", " ext. 801").
_LANDLINE = re.compile(
    r"(?:0[0-9]{2,3}[- ]?[1-9][0-9]{6,7}|[48]00[- ]?[0-9]{3}[- ]?[0-9]{4})"
    r"(?:(?:-|转| ?(?:ext\.?|x) ?)[0-9]{1,6})?", re.IGNORECASE)
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}")
_IPV4 = re.compile(r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}")


def check_mobile(value: Any) -> bool:
    """A mainland mobile number: 11 digits, ``1`` then ``3``-``9`` (no +86, no spaces)."""
    return isinstance(value, str) and _MOBILE.fullmatch(value) is not None


def check_phone(value: Any) -> bool:
    """A mobile number, or a landline with area code (``0714-1234567``,
    ``07141234567``, ``010 12345678``), or a 400/800 number, each landline
    form with an optional extension (``-801``, ``转801``, ``ext 801``)."""
    return isinstance(value, str) and (check_mobile(value) or _LANDLINE.fullmatch(value) is not None)


def _domain(host: str) -> bool:
    if len(host) > 253 or host.endswith("."):
        return False
    labels = host.split(".")
    if len(labels) < 2:
        return False
    if not all(_DOMAIN_LABEL.fullmatch(lab) for lab in labels):
        return False
    return _TLD.fullmatch(labels[-1]) is not None


def check_email(value: Any) -> bool:
    """A plain address ``local@domain.tld`` (ASCII; Chinese domains in their ``xn--`` form)."""
    if not isinstance(value, str) or len(value) > 254 or value.count("@") != 1:
        return False
    local, host = value.split("@")
    return len(local) <= 64 and _EMAIL_LOCAL.fullmatch(local) is not None and _domain(host)


def check_url(value: Any) -> bool:
    """An ``http://`` or ``https://`` address with a host name (domain, IPv4 or ``localhost``)."""
    if not isinstance(value, str) or not value.isascii() or any(c.isspace() for c in value) \
            or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return False
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return False
    host = parts.hostname or ""
    if port == 0:
        return False
    return host == "localhost" or _IPV4.fullmatch(host) is not None or _domain(host)


_FORMATS: Mapping[str, Callable[[str], Optional[str]]] = {
    "id_card": id_card_problem,
    "uscc": uscc_problem,
    "mobile": lambda v: None if check_mobile(v) else "mobile",
    "phone": lambda v: None if check_phone(v) else "phone",
    "email": lambda v: None if check_email(v) else "email",
    "url": lambda v: None if check_url(v) else "url",
}


# --------------------------------------------------------------------------- field_problems


def _show(n: Any) -> str:
    """A bound as people write it: 0 not 0.0, 1.5 as 1.5."""
    if isinstance(n, float) and n.is_integer():
        return str(int(n))
    if isinstance(n, Decimal):
        return format(n.normalize(), "f")
    return str(n)


def _as_number(ftype: str, value: Any) -> tuple[Optional[Decimal], Optional[str]]:
    """(number, problem code) for an integer/decimal field value."""
    if isinstance(value, bool):
        return None, "not_integer" if ftype == "integer" else "not_number"
    if isinstance(value, str):
        try:
            num = Decimal(value.strip())
        except InvalidOperation:
            return None, "not_integer" if ftype == "integer" else "not_number"
    elif isinstance(value, (int, Decimal)):
        num = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None, "not_number"
        num = Decimal(str(value))
    else:
        return None, "not_integer" if ftype == "integer" else "not_number"
    if not num.is_finite():
        return None, "not_integer" if ftype == "integer" else "not_number"
    if ftype == "integer" and num != num.to_integral_value():
        return None, "not_integer"
    return num, None


def field_problems(field: Any, value: Any, lang: str = "zh",
                   enums: Optional[Mapping[str, Any]] = None) -> list[str]:
    """Every problem of ``value`` against its spec ``Field``, as messages in ``lang``.

    An empty value (None, "" or blanks) has one problem if the field is
    required and none otherwise; nothing else is checked on it.  Otherwise,
    in order: numeric type and ``min``/``max`` (integer/decimal fields),
    ``min_length``/``max_length``, ``pattern`` (the whole value must match)
    and ``format`` (string values).  Lengths count characters, not bytes.
    Give ``enums`` (``spec.enums``) to have enum keys checked too.
    An empty list means the value is fine.
    """
    say = lambda code, **kw: message(code, lang, **kw)  # noqa: E731
    if is_empty(value):
        return [say("required")] if field.required else []
    out: list[str] = []
    ftype = field.type
    if ftype in ("integer", "decimal"):
        num, bad = _as_number(ftype, value)
        if bad:
            return [say(bad)]
        assert num is not None
        if field.min is not None and num < Decimal(str(field.min)):
            out.append(say("min", n=_show(field.min)))
        if field.max is not None and num > Decimal(str(field.max)):
            out.append(say("max", n=_show(field.max)))
    if ftype == "enum" and enums is not None and field.enum in enums:
        if str(value) not in enums[field.enum].values:
            out.append(say("bad_choice"))
    if isinstance(value, str):
        bad = control_problem(ftype, value)
        if bad:
            return [say(bad)]
        if field.max_length is not None and len(value) > field.max_length:
            out.append(say("max_length", n=field.max_length))
        if field.min_length is not None and len(value) < field.min_length:
            out.append(say("min_length", n=field.min_length))
        if field.pattern is not None and re.fullmatch(field.pattern, value) is None:
            out.append(say("pattern"))
        if field.format is not None:
            check = _FORMATS.get(field.format)
            code = check(value) if check else None
            if code:
                out.append(say(code))
    return out
